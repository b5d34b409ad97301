"""Ecommerce refunds and voids (clover-api.md §2.2 lines 83-90, checklist §9.2)."""
from concurrent.futures import ThreadPoolExecutor

from emulator.tests.helpers import error_of


def _charge_state(clover, charge_id):
    return clover.call("GET", f"/v1/charges/{charge_id}").json()


def test_refund_without_amount_is_full_and_a_second_is_refused(clover):
    charge = clover.paid_charge(2500)
    response = clover.refund({"charge": charge["id"]})
    assert response.status_code == 200
    refund = response.json()
    assert (refund["object"], refund["amount"], refund["charge"]) == ("refund", 2500, charge["id"])
    assert (refund["status"], refund["currency"]) == ("succeeded", "usd")
    assert isinstance(refund["created"], int) and refund["created"] > 10**12  # milliseconds
    state = _charge_state(clover, charge["id"])
    assert (state["amount_refunded"], state["refunded"]) == (2500, True)
    again = clover.refund({"charge": charge["id"]})
    assert again.status_code == 400
    assert error_of(again)["code"] == "charge_already_refunded"


def test_partial_refunds_add_up_to_the_charge_and_no_further(clover):
    charge = clover.paid_charge(1000)
    for amount in (300, 200):
        assert clover.refund({"charge": charge["id"], "amount": amount}).status_code == 200
    over = clover.refund({"charge": charge["id"], "amount": 501})
    assert over.status_code == 400
    assert (error_of(over)["code"], error_of(over)["param"]) == ("charge_already_refunded", "amount")
    assert _charge_state(clover, charge["id"])["amount_refunded"] == 500
    rest = clover.refund({"charge": charge["id"]})
    assert rest.json()["amount"] == 500
    state = _charge_state(clover, charge["id"])
    assert (state["amount_refunded"], state["refunded"]) == (1000, True)
    assert error_of(clover.refund({"charge": charge["id"], "amount": 1}))["code"] == \
        "charge_already_refunded"


def test_concurrent_partial_refunds_never_exceed_the_charge(clover):
    charge = clover.paid_charge(1000)
    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(pool.map(
            lambda _: clover.refund({"charge": charge["id"], "amount": 300}), range(6)))
    assert sorted(r.status_code for r in responses) == [200, 200, 200, 400, 400, 400]
    assert _charge_state(clover, charge["id"])["amount_refunded"] == 900


def test_refund_of_an_uncaptured_charge_is_a_void(clover):
    auth = clover.paid_charge(700, capture=False)
    partial = clover.refund({"charge": auth["id"], "amount": 100})
    assert partial.status_code == 400 and "partial void" in error_of(partial)["message"]
    void = clover.refund({"charge": auth["id"]})
    assert void.status_code == 200 and void.json()["amount"] == 700
    state = _charge_state(clover, auth["id"])
    assert (state["captured"], state["refunded"], state["amount_refunded"]) == (False, True, 700)
    assert clover.v3(f"/payments/{auth['id']}").json()["result"] == "VOIDED"
    capture = clover.call("POST", f"/v1/charges/{auth['id']}/capture", {},
                          headers={"x-forwarded-for": "1.2.3.4"})
    assert error_of(capture)["code"] == "charge_already_refunded"
    assert error_of(clover.refund({"charge": auth["id"]}))["code"] == "charge_already_refunded"


def test_partial_capture_limits_the_refund(clover):
    auth = clover.paid_charge(1000, capture=False)
    clover.call("POST", f"/v1/charges/{auth['id']}/capture", {"amount": 600},
                headers={"x-forwarded-for": "1.2.3.4"})
    assert error_of(clover.refund({"charge": auth["id"], "amount": 601}))["code"] == \
        "charge_already_refunded"
    assert clover.refund({"charge": auth["id"]}).json()["amount"] == 600


def test_strict_refund_body_switch(clover, control):
    charge = clover.paid_charge(1000)
    control.configure(strict_refund_body=True)
    refused = clover.refund({"charge": charge["id"], "amount": 100})
    assert refused.status_code == 400 and error_of(refused)["param"] == "amount"
    assert clover.refund({"charge": charge["id"]}).json()["amount"] == 1000


def test_refund_fields_are_validated_and_echoed(clover):
    charge = clover.paid_charge(1000)
    bad = clover.refund({"charge": charge["id"], "reason": "changed_mind"})
    assert error_of(bad)["param"] == "reason"
    too_long = clover.refund({"charge": charge["id"], "external_reference_id": "X" * 13})
    assert error_of(too_long)["param"] == "external_reference_id"
    refund = clover.refund({"charge": charge["id"], "amount": 100, "reason": "requested_by_customer",
                            "external_reference_id": "RINV0001", "metadata": {"k": "v"}}).json()
    assert (refund["reason"], refund["external_reference_id"], refund["metadata"]) == (
        "requested_by_customer", "RINV0001", {"k": "v"})


def test_refund_needs_a_known_charge(clover):
    assert error_of(clover.refund({}))["code"] == "missing"
    assert clover.refund({"charge": "NOSUCHCHARGE0"}).status_code == 404


def test_a_declined_charge_cannot_be_refunded(clover):
    declined = clover.charge(source=clover.token("4264281511117771"))
    response = clover.refund({"charge": error_of(declined)["charge"]})
    assert response.status_code == 400


def test_idempotent_refund(clover, key):
    charge = clover.paid_charge(1000)
    first = clover.refund({"charge": charge["id"], "amount": 400}, key=key).json()
    again = clover.refund({"charge": charge["id"], "amount": 400}, key=key).json()
    assert again["id"] == first["id"]
    assert _charge_state(clover, charge["id"])["amount_refunded"] == 400


def test_get_and_list_refunds(clover):
    charge = clover.paid_charge(1000)
    other = clover.paid_charge(500)
    first = clover.refund({"charge": charge["id"], "amount": 100}).json()
    clover.refund({"charge": other["id"]})
    listed = clover.call("GET", "/v1/refunds", params={"charge": charge["id"]}).json()
    assert [r["id"] for r in listed["data"]] == [first["id"]]
    assert len(clover.call("GET", "/v1/refunds").json()["data"]) == 2
    assert clover.call("GET", f"/v1/refunds/{first['id']}").json() == first
    assert clover.call("GET", "/v1/refunds/NOSUCHREFUND0").status_code == 404
