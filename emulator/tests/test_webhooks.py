"""App webhooks delivered to a local receiver (clover-api.md §6.1, checklist §9.5)."""
import uuid

import pytest
import requests

from emulator.tests.helpers import LocalSite


@pytest.fixture
def receiver(control):
    endpoint = LocalSite()
    control.webhook_config(endpoint.url + "/payment/clover/webhook")
    yield endpoint
    endpoint.close()


def test_verification_post_without_the_auth_header_by_default(control, receiver):
    result = control.webhook_verify()
    assert result["status"] == 200
    [message] = receiver.received
    assert message["body"] == {"verificationCode": result["verificationCode"]}
    uuid.UUID(result["verificationCode"])
    assert "X-Clover-Auth" not in message["headers"]


def test_verification_auth_switch(control, receiver, identity):
    control.configure(webhook_verification_auth=True)
    control.webhook_verify()
    assert receiver.received[0]["headers"]["X-Clover-Auth"] == identity["webhook_auth_code"]


def test_firehose_batch_for_charges_captures_and_refunds(clover, control, receiver, identity):
    charge = clover.paid_charge()
    auth = clover.paid_charge(capture=False)
    clover.call("POST", f"/v1/charges/{auth['id']}/capture", {}, headers={"x-forwarded-for": "1.2.3.4"})
    clover.refund({"charge": charge["id"], "amount": 100})
    result = control.webhook_flush()
    assert [d["status"] for d in result["deliveries"]] == [200]
    [message] = receiver.received
    assert message["headers"]["X-Clover-Auth"] == identity["webhook_auth_code"]
    body = message["body"]
    assert body["appId"] == identity["app_id"]
    events = body["merchants"][identity["merchant_id"]]
    assert [(e["objectId"], e["type"]) for e in events] == [
        (f"P:{charge['id']}", "CREATE"), (f"P:{auth['id']}", "CREATE"),
        (f"P:{auth['id']}", "UPDATE"), (f"P:{charge['id']}", "UPDATE")]
    assert all(e["ts"] > 10**12 for e in events)  # milliseconds
    assert control.webhook_flush()["deliveries"] == []  # nothing pending any more


def test_terminal_payments_and_several_merchants_in_one_batch(clover, control, receiver, identity):
    other = control.add_merchant("Other Store")
    serial = identity["devices"][0]["serial"]
    control.terminal_outcome(serial, "approve", delay=0.01)
    payment = clover.terminal("POST", "/payments", {"amount": 500}, key="k1").json()["payment"]
    token = clover.tokenize(apikey=other["pakms_key"]).json()["id"]
    foreign = clover.call("POST", "/v1/charges", {"amount": 100, "currency": "usd", "source": token},
                          token=other["private_key"], headers={"x-forwarded-for": "1.2.3.4"}).json()
    control.webhook_flush()
    merchants = receiver.received[0]["body"]["merchants"]
    assert merchants[identity["merchant_id"]][0]["objectId"] == f"P:{payment['id']}"
    assert merchants[other["merchant_id"]][0]["objectId"] == f"P:{foreign['id']}"


def test_duplicate_injection(clover, control, receiver):
    clover.paid_charge()
    result = control.webhook_flush(duplicate=True)
    assert len(result["deliveries"]) == 2
    assert receiver.received[0]["body"] == receiver.received[1]["body"]


def test_drop_injection(clover, control, receiver):
    clover.paid_charge()
    clover.paid_charge()
    assert control.webhook_flush(drop=True)["dropped"] == 2
    assert receiver.received == []
    first, second = clover.paid_charge(), clover.paid_charge()
    assert control.webhook_flush(drop=1)["dropped"] == 1
    [event] = next(iter(receiver.received[0]["body"]["merchants"].values()))
    assert event["objectId"] == f"P:{second['id']}" != f"P:{first['id']}"


def test_a_failing_receiver_loses_events_unless_requeued(clover, control, receiver):
    receiver.status = 500
    clover.paid_charge()
    assert control.webhook_flush()["deliveries"][0]["status"] == 500
    assert control.webhooks()["pending"] == []
    control.configure(webhook_requeue_failed=True)
    clover.paid_charge()
    control.webhook_flush()
    assert len(control.webhooks()["pending"]) == 1
    receiver.status = 200
    assert control.webhook_flush()["deliveries"][0]["status"] == 200


def test_the_receiver_can_call_back_while_being_delivered_to(clover, control, receiver):
    """Odoo reconciles by fetching the payment before it answers: no deadlock."""
    charge = clover.paid_charge()
    fetched = []
    receiver.on_receive = lambda body: fetched.append(clover.v3(f"/payments/{charge['id']}").json())
    control.webhook_flush()
    assert fetched[0]["id"] == charge["id"]


def test_custom_auth_code_and_unreachable_receiver(clover, control, emu):
    control.webhook_config("http://127.0.0.1:9/unreachable", auth_code="custom-code")
    assert control.webhooks()["auth_code"] == "custom-code"
    clover.paid_charge()
    delivery = control.webhook_flush()["deliveries"][0]
    assert delivery["status"] is None and delivery["error"]


def test_flush_without_a_url_is_a_409(control, emu):
    response = requests.post(emu.base_url + "/_emulator/webhooks/flush", json={}, timeout=10)
    assert response.status_code == 409
