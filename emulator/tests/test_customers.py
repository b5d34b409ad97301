"""Cards on file, non-referenced credits and the PAKMS key (clover-api.md §2.2)."""
from emulator.tests.helpers import MASTERCARD, error_of


def _customer(clover, source=None, **fields):
    body = {"email": "ann@example.com", "firstName": "Ann", "lastName": "Lee", **fields}
    if source:
        body["source"] = source
    return clover.call("POST", "/v1/customers", body)


def test_card_on_file_can_be_charged_again_and_again(clover):
    response = _customer(clover, clover.token())
    assert response.status_code == 200
    customer = response.json()
    assert (customer["object"], customer["email"]) == ("customer", "ann@example.com")
    assert customer["sources"]["data"][0]["last4"] == "4242"
    for _ in range(2):
        charge = clover.paid_charge(source=customer["id"])
        assert (charge["customer"], charge["source"]["last4"]) == (customer["id"], "4242")
    listed = clover.call("GET", "/v1/charges", params={"customer": customer["id"]}).json()
    assert len(listed["data"]) == 2
    assert clover.call("GET", f"/v1/customers/{customer['id']}").json() == customer


def test_charge_with_the_customer_field(clover):
    customer = _customer(clover, clover.token()).json()
    body = {"amount": 300, "currency": "usd", "customer": customer["id"]}
    response = clover.call("POST", "/v1/charges", body, headers={"x-forwarded-for": "1.2.3.4"})
    assert response.json()["customer"] == customer["id"]


def test_the_same_card_again_is_409_and_keeps_the_token(clover):
    _customer(clover, clover.token())
    token = clover.token()
    duplicate = _customer(clover, token, email="bob@example.com")
    assert duplicate.status_code == 409
    assert error_of(duplicate)["type"] == "invalid_request_error"
    assert clover.charge(source=token).status_code == 200
    assert _customer(clover, clover.token(MASTERCARD)).status_code == 200


def test_a_customer_without_a_card_cannot_be_charged(clover):
    customer = _customer(clover).json()
    response = clover.charge(source=customer["id"])
    assert error_of(response)["code"] == "card_on_file_missing"


def test_customer_email_is_validated(clover):
    assert error_of(_customer(clover, email="nope"))["code"] == "email_invalid"


def test_credits(clover):
    response = clover.call("POST", "/v1/credits", {"amount": 2450, "currency": "usd",
                                                   "source": clover.token(), "description": "Goodwill"})
    assert response.status_code == 200
    credit = response.json()
    assert (credit["object"], credit["amount"], credit["status"]) == ("credit", 2450, "succeeded")
    assert credit["source"]["last4"] == "4242"
    assert clover.call("GET", f"/v1/credits/{credit['id']}").json() == credit
    assert [c["id"] for c in clover.call("GET", "/v1/credits").json()["data"]] == [credit["id"]]


def test_credit_to_a_decline_card_is_declined(clover):
    response = clover.call("POST", "/v1/credits", {"amount": 100, "currency": "usd",
                                                   "source": clover.token("5424180273333333")})
    assert response.status_code == 402
    assert error_of(response)["code"] == "card_declined"


def test_pakms_key(clover, identity):
    response = clover.call("GET", "/pakms/apikey")
    assert response.status_code == 200
    body = response.json()
    assert (body["apiAccessKey"], body["merchantUuid"], body["active"]) == (
        identity["pakms_key"], identity["merchant_id"], True)
    assert body["developerAppUuid"] == identity["app_id"]
    assert clover.call("GET", "/pakms/apikey", token="bad").status_code == 401
    with_private_key = clover.call("GET", "/pakms/apikey", token=identity["private_key"])
    assert with_private_key.json()["apiAccessKey"] == identity["pakms_key"]
