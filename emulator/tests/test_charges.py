"""Ecommerce charges and capture (clover-api.md §2.1-§2.6, checklist §9.2)."""
import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from emulator.tests.helpers import MASTERCARD, error_of

CLOVER_ID = re.compile(r"[0-9A-HJKMNP-TV-Z]{13}")


def test_charge_object(clover):
    charge = clover.paid_charge(1100, tax_amount=100, description="Invoice INV/1",
                                external_reference_id="INV 0001", metadata={"order": "S1"})
    assert CLOVER_ID.fullmatch(charge["id"]) and CLOVER_ID.fullmatch(charge["order"])
    assert re.fullmatch(r"\d{12}", charge["ref_num"])
    assert re.fullmatch(r"OK\d{4}", charge["auth_code"])
    assert charge["object"] == "charge"
    assert (charge["amount"], charge["tax_amount"], charge["amount_refunded"]) == (1100, 100, 0)
    assert (charge["captured"], charge["paid"], charge["status"]) == (True, True, "succeeded")
    assert charge["outcome"] == {"network_status": "approved_by_network", "type": "authorized"}
    assert charge["source"] == {"brand": "VISA", "first6": "424242", "last4": "4242",
                                "exp_month": "12", "exp_year": "2030"}
    assert charge["metadata"] == {"order": "S1"}
    assert charge["external_reference_id"] == "INV 0001"
    assert charge["description"] == "Invoice INV/1"
    assert charge["currency"] == "usd"


def test_tip_is_added_to_the_total(clover):
    charge = clover.paid_charge(1000, tip_amount=150)
    assert (charge["amount"], charge["tip_amount"]) == (1150, 150)


def test_private_key_is_a_valid_bearer(clover, identity):
    body = {"amount": 500, "currency": "usd", "source": clover.token()}
    response = clover.call("POST", "/v1/charges", body, token=identity["private_key"],
                           headers={"x-forwarded-for": "203.0.113.7"})
    assert response.status_code == 200


@pytest.mark.parametrize("token", [None, "bogus"])
def test_bearer_is_required(clover, token):
    body = {"amount": 500, "currency": "usd", "source": clover.token()}
    headers = {"x-forwarded-for": "203.0.113.7"}
    if token is None:
        response = clover.session.post(clover.base_url + "/v1/charges", json=body, headers=headers)
    else:
        response = clover.call("POST", "/v1/charges", body, token=token, headers=headers)
    assert response.status_code == 401
    assert error_of(response)["type"] == "authentication_error"


def test_x_forwarded_for_is_required(clover, control):
    response = clover.call("POST", "/v1/charges",
                           {"amount": 500, "currency": "usd", "source": clover.token()})
    assert response.status_code == 400
    assert error_of(response)["type"] == "invalid_request_error"
    assert "x-forwarded-for" in error_of(response)["message"]
    assert control.counters()["charges_created"] == 0


@pytest.mark.parametrize("fields, code, param", [
    ({"currency": "USD"}, "invalid_request", "currency"),
    ({"currency": None}, "missing", "currency"),
    ({"amount": None}, "missing", "amount"),
    ({"amount": 0}, "invalid_charge_amount", "amount"),
    ({"amount": 10.5}, "invalid_charge_amount", "amount"),
    ({"amount": "1000"}, "invalid_charge_amount", "amount"),
    ({"amount": 100_000_000}, "amount_too_large", "amount"),
    ({"external_reference_id": "THIRTEEN-CHAR"}, "invalid_request", "external_reference_id"),
    ({"tax_amount": 2000}, "invalid_tax_amount", "tax_amount"),
    ({"tip_amount": -1}, "invalid_tip_amount", "tip_amount"),
    ({"capture": "no"}, "invalid_request", "capture"),
    ({"ecomind": "pos"}, "invalid_request", "ecomind"),
    ({"metadata": "text"}, "invalid_request", "metadata"),
    ({"receipt_email": "nobody"}, "email_invalid", "receipt_email"),
    ({"site_url": "https://example.com"}, "invalid_request", "site_url"),
    ({"source": "clv_doesnotexist"}, "resource_missing", "source"),
    ({"source": "NOSUCHCUSTOMR"}, "resource_missing", "source"),
])
def test_charge_validation(clover, control, fields, code, param):
    body = {"amount": 1000, "currency": "usd", "source": clover.token(), **fields}
    body = {name: value for name, value in body.items() if value is not None}
    response = clover.call("POST", "/v1/charges", body, headers={"x-forwarded-for": "1.2.3.4"})
    assert response.status_code == 400
    assert (error_of(response)["code"], error_of(response)["param"]) == (code, param)
    assert control.counters()["charges_created"] == 0


def test_a_refused_request_leaves_the_token_usable(clover):
    token = clover.token()
    assert clover.charge(source=token, currency="USD").status_code == 400
    assert clover.charge(source=token).status_code == 200


def test_idempotent_replay_returns_the_same_charge_and_creates_no_second(clover, control, key):
    token = clover.token()
    first = clover.charge(source=token, key=key)
    again = clover.charge(source=token, key=key)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    counters = control.counters()
    assert counters["charges_created"] == 1
    assert counters["charges_by_idempotency_key"] == {key: 1}
    assert counters["idempotent_replays"] == 1
    assert counters["calls"]["POST /v1/charges"] == 2
    listed = clover.call("GET", "/v1/charges").json()["data"]
    assert [charge["id"] for charge in listed] == [first.json()["id"]]


def test_concurrent_retries_with_one_key_make_one_charge(clover, control, key):
    token = clover.token()
    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(lambda _: clover.charge(source=token, key=key), range(8)))
    assert {r.status_code for r in responses} == {200}
    assert len({r.json()["id"] for r in responses}) == 1
    assert control.counters()["charges_created"] == 1


def test_same_key_with_another_body_is_an_idempotency_error(clover, control, key):
    token = clover.token()
    assert clover.charge(1000, source=token, key=key).status_code == 200
    response = clover.charge(2000, source=token, key=key)
    assert response.status_code == 400
    assert error_of(response)["type"] == "idempotency_error"
    assert control.counters()["charges_created"] == 1


def test_a_refused_request_does_not_burn_its_key(clover, control, key):
    token = clover.token()
    assert clover.charge(source=token, key=key, currency="USD").status_code == 400
    corrected = clover.charge(source=token, key=key)
    assert corrected.status_code == 200
    assert control.counters()["charges_by_idempotency_key"] == {key: 1}


def test_mismatch_switch_replays_instead(clover, control, key):
    control.configure(idempotency_mismatch="replay")
    token = clover.token()
    first = clover.charge(1000, source=token, key=key).json()
    assert clover.charge(2000, source=token, key=key).json()["id"] == first["id"]


def test_idempotency_keys_expire_after_the_window(clover, control, key):
    control.configure(idempotency_ttl=60)
    first = clover.charge(key=key, source=clover.token()).json()
    control.advance_clock(61)
    second = clover.charge(key=key, source=clover.token()).json()
    assert second["id"] != first["id"]


def test_idempotency_keys_are_per_merchant(clover, control, key, identity):
    other = control.add_merchant("Other Store")
    clover.charge(key=key)
    token = clover.tokenize(apikey=other["pakms_key"]).json()["id"]
    response = clover.call("POST", "/v1/charges", {"amount": 1000, "currency": "usd", "source": token},
                           token=other["private_key"],
                           headers={"x-forwarded-for": "1.2.3.4", "idempotency-key": key})
    assert response.status_code == 200
    assert control.counters()["charges_created"] == 2


def test_authorize_then_capture(clover, control):
    auth = clover.paid_charge(capture=False)
    assert (auth["captured"], auth["status"], auth["amount_captured"]) == (False, "succeeded", 0)
    captured = clover.call("POST", f"/v1/charges/{auth['id']}/capture", {"amount": 800},
                           headers={"x-forwarded-for": "1.2.3.4"})
    assert captured.status_code == 200
    assert (captured.json()["captured"], captured.json()["amount_captured"]) == (True, 800)
    again = clover.call("POST", f"/v1/charges/{auth['id']}/capture", {},
                        headers={"x-forwarded-for": "1.2.3.4"})
    assert again.status_code == 400
    assert error_of(again)["code"] == "charge_already_captured"


def test_capture_needs_x_forwarded_for_and_at_most_the_authorized_amount(clover):
    auth = clover.paid_charge(capture=False)
    path = f"/v1/charges/{auth['id']}/capture"
    assert clover.call("POST", path, {}).status_code == 400
    over = clover.call("POST", path, {"amount": 1001}, headers={"x-forwarded-for": "1.2.3.4"})
    assert error_of(over)["code"] == "invalid_charge_amount"


def test_capture_keeps_the_metadata_it_does_not_replace(clover):
    auth = clover.paid_charge(capture=False, metadata={"a": "1"})
    captured = clover.call("POST", f"/v1/charges/{auth['id']}/capture",
                           {"description": "captured"}, headers={"x-forwarded-for": "1.2.3.4"})
    assert captured.json()["metadata"] == {"a": "1"}
    assert captured.json()["description"] == "captured"


@pytest.mark.parametrize("number", ["4264281511117771", "5424180273333333", "375987654000004"])
def test_decline_cards(clover, number):
    response = clover.charge(source=clover.token(number, cvv="1234" if number[0] == "3" else "123"))
    assert response.status_code == 402
    error = error_of(response)
    assert (error["type"], error["code"], error["decline_code"]) == (
        "card_error", "card_declined", "issuer_declined")
    failed = clover.call("GET", f"/v1/charges/{error['charge']}").json()
    assert (failed["status"], failed["paid"], failed["captured"]) == ("failed", False, False)
    assert failed["outcome"]["network_status"] == "declined_by_network"


def test_decline_switches(clover, control):
    control.configure(decline_status=400, decline_code="do_not_honor",
                      decline_code_field="declineCode", failed_charges_retrievable=False)
    response = clover.charge(source=clover.token("4264281511117771"))
    assert response.status_code == 400
    error = error_of(response)
    assert error["declineCode"] == "do_not_honor" and "decline_code" not in error
    assert clover.call("GET", f"/v1/charges/{error['charge']}").status_code == 404


def test_a_declined_replay_is_the_same_decline(clover, control, key):
    token = clover.token("4264281511117771")
    first = clover.charge(source=token, key=key)
    again = clover.charge(source=token, key=key)
    assert again.status_code == 402 and again.json() == first.json()
    assert control.counters()["charges_created"] == 1


def test_partial_auth_card_declines(clover):
    response = clover.charge(source=clover.token("4005578003333335"))
    assert response.status_code == 402
    assert error_of(response)["code"] == "card_declined"


def test_gateway_test_card_is_a_500_that_a_retry_runs_again(clover, control, key):
    token = clover.token("4005571702222222")
    first = clover.charge(source=token, key=key)
    assert first.status_code == 500
    assert (error_of(first)["type"], error_of(first)["code"]) == ("api_error", "processing_error")
    assert clover.charge(source=token, key=key).status_code == 500
    assert control.counters()["idempotent_replays"] == 0


def test_velocity_limit_is_off_by_default(clover):
    for _ in range(10):
        assert clover.charge(source=clover.token()).status_code == 200


def test_velocity_limit_declines_after_eight_charges_per_card(clover, control):
    control.configure(velocity_limit=True)
    for _ in range(8):
        assert clover.charge(source=clover.token()).status_code == 200
    declined = clover.charge(source=clover.token())
    assert declined.status_code == 402
    assert error_of(declined)["decline_code"] == "card_velocity_exceeded"
    assert clover.charge(source=clover.token(MASTERCARD)).status_code == 200


def test_get_and_list_charges(clover):
    ids = [clover.paid_charge(100 + n)["id"] for n in range(5)]
    page = clover.call("GET", "/v1/charges", params={"limit": 2}).json()
    assert (page["object"], page["url"]) == ("list", "/v1/charges")
    assert [c["id"] for c in page["data"]] == [ids[4], ids[3]]
    assert page["has_more"] is True
    after = clover.call("GET", "/v1/charges", params={"starting_after": ids[3]}).json()
    assert [c["id"] for c in after["data"]] == [ids[2], ids[1], ids[0]]
    before = clover.call("GET", "/v1/charges", params={"ending_before": ids[1], "limit": 2}).json()
    assert [c["id"] for c in before["data"]] == [ids[3], ids[2]]
    one = clover.call("GET", f"/v1/charges/{ids[0]}").json()
    assert one["amount"] == 100
    created = one["created"]
    newer = clover.call("GET", "/v1/charges", params={"created[gt]": created - 1}).json()
    assert ids[0] in [c["id"] for c in newer["data"]]
    assert clover.call("GET", "/v1/charges", params={"limit": 101}).status_code == 400


def test_list_key_switch(clover, control):
    clover.paid_charge()
    control.configure(charges_list_key="elements")
    page = clover.call("GET", "/v1/charges").json()
    assert len(page["elements"]) == 1 and "data" not in page


def test_ref_num_as_number_switch(clover, control):
    control.configure(ref_num_as_number=True)
    assert isinstance(clover.paid_charge()["ref_num"], int)


def test_charges_of_another_merchant_are_invisible(clover, control):
    charge = clover.paid_charge()
    other = control.add_merchant("Other Store")
    response = clover.call("GET", f"/v1/charges/{charge['id']}", token=other["private_key"])
    assert response.status_code == 404
    assert error_of(response)["code"] == "resource_missing"


def test_amex_source_brand(clover):
    charge = clover.paid_charge(source=clover.token("378282246310005", cvv="1234"))
    assert charge["source"]["brand"] == "AMEX"
    assert "378282246310005" not in str(charge)  # never the full number
