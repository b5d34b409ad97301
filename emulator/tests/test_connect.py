"""REST Pay Display under /connect/v1 (clover-api.md §5, checklist §9.4)."""
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from emulator.connect import BUSY_BODY, CANCELED_BODY


@pytest.fixture
def serial(identity):
    return identity["devices"][0]["serial"]


@pytest.fixture
def background():
    with ThreadPoolExecutor(max_workers=4) as pool:
        yield pool


def _pay(clover, key, amount=2000, **kwargs):
    body = {"amount": amount, "externalPaymentId": "ODOO-TX-1", **kwargs.pop("fields", {})}
    return clover.terminal("POST", "/payments", body, key=key, **kwargs)


def _wait_busy(control, device, busy=True, timeout=5.0):
    deadline = time.monotonic() + timeout
    while control.terminal_state(device)["busy"] != busy:
        assert time.monotonic() < deadline, f"device never became busy={busy}"
        time.sleep(0.01)


def _approved(clover, control, serial, key=None, **fields):
    control.terminal_outcome(serial, "approve", delay=0.01)
    response = _pay(clover, key or str(uuid.uuid4()), fields=fields)
    assert response.status_code == 200, response.text
    return response.json()["payment"]


def test_payment_blocks_until_the_scripted_approval(clover, control, serial, key):
    control.terminal_outcome(serial, "approve", delay=0.2)
    started = time.monotonic()
    response = _pay(clover, key, fields={"externalReferenceId": "INV42", "taxAmount": 100})
    assert time.monotonic() - started >= 0.2
    assert response.status_code == 200
    payment = response.json()["payment"]
    assert (payment["result"], payment["amount"], payment["taxAmount"]) == ("SUCCESS", 2000, 100)
    assert (payment["externalPaymentId"], payment["externalReferenceId"]) == ("ODOO-TX-1", "INV42")
    transaction = payment["cardTransaction"]
    assert (transaction["state"], transaction["type"], transaction["cardType"]) == (
        "CLOSED", "AUTH", "VISA")
    assert transaction["last4"] == "4242" and payment["order"]["id"]
    assert clover.v3(f"/payments/{payment['id']}").json() == payment
    assert control.terminal_state(serial)["screen"] == "result"
    [sent] = control.requests(path="/connect/v1/payments")
    assert (sent["headers"]["x-pos-id"], sent["headers"]["idempotency-key"]) == ("FusionCloverOdoo", key)


def test_unscripted_payments_use_the_default_outcome(clover, control, key):
    control.configure(terminal_default_delay=0.01, terminal_default_outcome="decline")
    assert _pay(clover, key).json()["payment"]["result"] == "FAIL"


def test_decline_styles(clover, control, serial):
    control.terminal_outcome(serial, "decline", delay=0.01)
    declined = _pay(clover, str(uuid.uuid4()))
    assert declined.status_code == 200
    assert declined.json()["payment"]["result"] == "FAIL"
    control.configure(terminal_decline_style="error")
    control.terminal_outcome(serial, "decline", delay=0.01)
    error = _pay(clover, str(uuid.uuid4()))
    assert error.status_code == 402
    assert error.json()["code"] == "card_declined"


def test_device_cancel_ends_a_blocked_payment_with_209(clover, control, serial, key, background):
    control.terminal_outcome(serial, "approve", hold=True)
    pending = background.submit(_pay, clover, key)
    _wait_busy(control, serial)
    cancel = clover.terminal("POST", "/device/cancel")
    assert (cancel.status_code, cancel.json()) == (200, {})
    response = pending.result(timeout=5)
    assert (response.status_code, response.json()) == (209, CANCELED_BODY)
    assert control.terminal_state(serial)["screen"] == "welcome"


def test_device_reset_also_ends_it(clover, control, serial, key, background):
    control.terminal_outcome(serial, "approve", hold=True)
    pending = background.submit(_pay, clover, key)
    _wait_busy(control, serial)
    assert clover.terminal("PUT", "/device/reset").status_code == 200
    assert pending.result(timeout=5).status_code == 209


def test_held_payment_is_released_through_the_control_api(clover, control, serial, background):
    control.terminal_outcome(serial, "approve", hold=True)
    pending = background.submit(_pay, clover, str(uuid.uuid4()))
    assert control.terminal_release(serial) == {"released": True, "outcome": "approve"}
    assert pending.result(timeout=5).json()["payment"]["result"] == "SUCCESS"
    control.terminal_outcome(serial, "approve", hold=True)
    pending = background.submit(_pay, clover, str(uuid.uuid4()))
    control.terminal_release(serial, outcome="decline")
    assert pending.result(timeout=5).json()["payment"]["result"] == "FAIL"


def test_release_with_nothing_in_flight(control, serial):
    assert control.terminal_release(serial, wait=0.05) == {"released": False}


def test_scripted_timeout_is_504(clover, control, serial, key):
    control.terminal_outcome(serial, "timeout", delay=0.05)
    response = _pay(clover, key)
    assert response.status_code == 504
    assert response.json()["type"] == "api_error"


def test_x_clover_timeout_gives_up_with_504(clover, control, serial, key):
    control.terminal_outcome(serial, "approve", hold=True)
    started = time.monotonic()
    response = _pay(clover, key, headers={"X-Clover-Timeout": "1"})
    assert response.status_code == 504
    assert 1 <= time.monotonic() - started < 3
    assert control.terminal_state(serial)["busy"] is False


def test_a_second_foreground_call_is_503_resource_conflict(clover, control, serial, background):
    control.terminal_outcome(serial, "approve", hold=True)
    first = background.submit(_pay, clover, str(uuid.uuid4()))
    _wait_busy(control, serial)
    second = _pay(clover, str(uuid.uuid4()))
    assert (second.status_code, second.json()) == (503, BUSY_BODY)
    assert clover.terminal("POST", "/device/welcome").status_code == 503
    assert clover.terminal("POST", "/device/ping").json() == {"connected": True}
    control.terminal_release(serial)
    assert first.result(timeout=5).status_code == 200


def test_another_device_is_not_busy(clover, control, serial, identity, background):
    control.terminal_outcome(serial, "approve", hold=True)
    pending = background.submit(_pay, clover, str(uuid.uuid4()))
    _wait_busy(control, serial)
    mini = identity["devices"][1]["serial"]
    control.terminal_outcome(mini, "approve", delay=0.01)
    assert _pay(clover, str(uuid.uuid4()), device=mini).status_code == 200
    control.terminal_release(serial)
    assert pending.result(timeout=5).status_code == 200


def test_replay_after_the_caller_hung_up_returns_the_stored_outcome(clover, control, serial, key):
    control.terminal_outcome(serial, "approve", hold=True)
    with pytest.raises(requests.exceptions.ReadTimeout):
        _pay(clover, key, timeout=0.3)
    control.terminal_release(serial)
    _wait_busy(control, serial, busy=False)
    replay = _pay(clover, key)
    assert replay.status_code == 200
    payment = replay.json()["payment"]
    assert _pay(clover, key).json()["payment"]["id"] == payment["id"]
    counters = control.counters()
    assert counters["terminal_operations"] == 1
    assert counters["idempotent_replays"] == 2
    assert [p["id"] for p in clover.v3("/payments").json()["elements"]] == [payment["id"]]


def test_a_replay_while_in_flight_waits_instead_of_conflicting(clover, control, serial, key,
                                                               background):
    control.terminal_outcome(serial, "approve", hold=True)
    first = background.submit(_pay, clover, key)
    _wait_busy(control, serial)
    replay = background.submit(_pay, clover, key)
    time.sleep(0.1)
    assert not replay.done()
    control.terminal_release(serial)
    first_body, replay_body = first.result(timeout=5).json(), replay.result(timeout=5).json()
    assert first_body == replay_body
    assert control.counters()["terminal_operations"] == 1


def test_replay_with_another_body_is_refused(clover, control, serial, key):
    _approved(clover, control, serial, key)
    response = _pay(clover, key, amount=9999)
    assert response.status_code == 400
    assert response.json()["code"] == "idempotency_error"


def test_a_cancel_is_stored_but_a_timeout_is_not(clover, control, serial, key):
    control.terminal_outcome(serial, "cancel", delay=0.01)
    assert _pay(clover, key).status_code == 209
    assert _pay(clover, key).status_code == 209
    other = str(uuid.uuid4())
    control.terminal_outcome(serial, "timeout", delay=0.01)
    assert _pay(clover, other).status_code == 504
    control.terminal_outcome(serial, "approve", delay=0.01)
    assert _pay(clover, other).status_code == 200
    assert control.counters()["terminal_operations"] == 3


@pytest.mark.parametrize("drop, status", [
    ("X-Clover-Device-Id", 400), ("X-POS-Id", 400), ("Idempotency-Key", 400)])
def test_required_headers(clover, serial, drop, status):
    headers = {"X-Clover-Device-Id": serial, "X-POS-Id": "POS", "Idempotency-Key": "k1"}
    del headers[drop]
    response = clover.call("POST", "/connect/v1/payments", {"amount": 100}, headers=headers)
    assert response.status_code == status
    assert drop in response.json()["message"]


def test_unknown_device_is_404(clover):
    assert _pay(clover, "k", device="C000NOSUCHDEV").status_code == 404


def test_an_ecommerce_private_key_is_401(clover, identity, key):
    response = _pay(clover, key, token=identity["private_key"])
    assert response.status_code == 401


def test_device_id_kind_switch(clover, control, identity):
    device = identity["devices"][0]
    control.configure(device_id_kind="uuid", terminal_default_delay=0.01)
    assert clover.terminal("POST", "/device/ping", device=device["serial"]).status_code == 404
    assert clover.terminal("POST", "/device/ping", device=device["id"]).status_code == 200


def test_ping_and_a_stopped_cloud_pay_display(clover, control, serial, key):
    assert clover.terminal("POST", "/device/ping").json() == {"connected": True}
    control.terminal_set_running(serial, False)
    ping = clover.terminal("POST", "/device/ping")
    assert ping.status_code == 504
    assert "Cloud Pay Display is not running" in ping.json()["message"]
    assert _pay(clover, key).status_code == 504
    control.terminal_set_running(serial, True)
    assert clover.terminal("POST", "/device/ping").status_code == 200


def test_stopping_the_app_under_a_payment_ends_it(clover, control, serial, key, background):
    control.terminal_outcome(serial, "approve", hold=True)
    pending = background.submit(_pay, clover, key)
    _wait_busy(control, serial)
    control.terminal_set_running(serial, False)
    assert pending.result(timeout=5).status_code == 504


def test_screens(clover, control, serial):
    assert clover.terminal("POST", "/device/display", {"text": "Total $20.00"}).json() == {}
    state = control.terminal_state(serial)
    assert (state["screen"], state["message"]) == ("message", "Total $20.00")
    assert clover.terminal("POST", "/device/display", {}).status_code == 400
    assert clover.terminal("POST", "/device/thank-you").status_code == 200
    assert control.terminal_state(serial)["screen"] == "thank-you"
    assert clover.terminal("POST", "/device/welcome").status_code == 200
    assert control.terminal_state(serial)["screen"] == "welcome"


def test_thank_you_path_switch(clover, control, serial):
    control.configure(thank_you_path="thankyou")
    assert clover.terminal("POST", "/device/thank-you").status_code == 404
    assert clover.terminal("POST", "/device/thankyou").status_code == 200


@pytest.mark.parametrize("fields", [{"amount": 0}, {"amount": "20"}, {"tipAmount": 100},
                                    {"externalPaymentId": "X" * 33}, {"final": "yes"}])
def test_payment_body_validation(clover, key, fields):
    body = {"amount": 2000, **fields}
    assert clover.terminal("POST", "/payments", body, key=key).status_code == 400


def test_tip_with_a_final_sale(clover, control, serial, key):
    control.terminal_outcome(serial, "approve", delay=0.01)
    payment = _pay(clover, key, fields={"final": True, "tipAmount": 300}).json()["payment"]
    assert payment["tipAmount"] == 300


def test_refunds_partial_full_and_over(clover, control, serial):
    payment = _approved(clover, control, serial)
    path = f"/payments/{payment['id']}/refunds"
    assert clover.terminal("POST", path, {"amount": 500}).status_code == 400  # no key
    partial = clover.terminal("POST", path, {"amount": 500}, key="r1")
    assert partial.status_code == 200
    body = partial.json()
    assert (body["refund"]["amount"], body["refund"]["payment"]) == (500, {"id": payment["id"]})
    assert clover.terminal("POST", path, {"amount": 500}, key="r1").json() == body
    over = clover.terminal("POST", path, {"amount": 1501}, key="r2")
    assert (over.status_code, over.json()["code"]) == (400, "charge_already_refunded")
    full = clover.terminal("POST", path, {"fullRefund": True, "amount": 1}, key="r2").json()
    assert full["refund"]["amount"] == 1500
    refunds = clover.v3(f"/payments/{payment['id']}").json()["refunds"]["elements"]
    assert [r["amount"] for r in refunds] == [500, 1500]


def test_refund_needs_an_idle_device(clover, control, serial, background):
    payment = _approved(clover, control, serial)
    control.terminal_outcome(serial, "approve", hold=True)
    pending = background.submit(_pay, clover, str(uuid.uuid4()))
    _wait_busy(control, serial)
    busy = clover.terminal("POST", f"/payments/{payment['id']}/refunds", {"fullRefund": True},
                           key="r1")
    assert busy.status_code == 503
    control.terminal_release(serial)
    pending.result(timeout=5)
    assert clover.terminal("POST", f"/payments/{payment['id']}/refunds", {"fullRefund": True},
                           key="r1").status_code == 200


def test_void_within_25_minutes(clover, control, serial):
    payment = _approved(clover, control, serial)
    path = f"/payments/{payment['id']}/void"
    assert clover.terminal("POST", path, {"voidReason": "BECAUSE"}, key="v0").status_code == 400
    response = clover.terminal("POST", path, {"voidReason": "USER_CANCEL"}, key="v1")
    assert response.status_code == 200
    body = response.json()
    assert (body["voidStatus"], body["payment"]["result"]) == ("SENT_TO_SERVER", "VOIDED")
    assert clover.terminal("POST", path, {}, key="v2").status_code == 400


def test_a_void_after_25_minutes_becomes_a_refund(clover, control, serial):
    payment = _approved(clover, control, serial)
    control.advance_clock(25 * 60 + 1)
    body = clover.terminal("POST", f"/payments/{payment['id']}/void", {}, key="v1").json()
    assert body["refund"]["amount"] == 2000
    assert body["payment"]["result"] == "SUCCESS"
    assert body["payment"]["refunds"]["elements"][0]["amount"] == 2000


def test_terminal_refund_of_an_unknown_payment(clover):
    response = clover.terminal("POST", "/payments/NOSUCHPAYMENT/refunds", {"fullRefund": True},
                               key="r")
    assert response.status_code == 404


def test_credits(clover, control, serial):
    control.terminal_outcome(serial, "approve", delay=0.01)
    response = clover.terminal("POST", "/credits", {"amount": 2450}, key="c1")
    assert response.status_code == 200
    credit = response.json()["credit"]
    assert (credit["amount"], credit["cardTransaction"]["type"]) == (2450, "CREDIT")
    assert clover.terminal("POST", "/credits", {"amount": 2450}).status_code == 400  # no key
    control.terminal_outcome(serial, "cancel", delay=0.01)
    assert clover.terminal("POST", "/credits", {"amount": 100}, key="c2").status_code == 209
