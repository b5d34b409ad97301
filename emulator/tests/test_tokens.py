"""Tokenization with the PAKMS key (clover-api.md §3, checklist §9.3)."""
import pytest

from emulator.cards import BIN_RANGES, brand_of, luhn_ok
from emulator.tests.helpers import MASTERCARD, VISA, error_of


def test_token_has_a_clv_id_and_a_card_summary(clover):
    response = clover.tokenize(MASTERCARD, exp_year="31")
    assert response.status_code == 200
    token = response.json()
    assert token["id"].startswith("clv_") and len(token["id"]) > 10
    assert token["object"] == "token"
    assert token["card"] == {"brand": "MC", "first6": "555555", "last4": "4444",
                             "exp_month": "12", "exp_year": "2031"}
    assert "number" not in token["card"] and "cvv" not in token["card"]


@pytest.mark.parametrize("apikey", [None, "not-the-key"])
def test_missing_or_wrong_apikey_is_401(clover, apikey):
    headers = {"apikey": apikey} if apikey else {}
    response = clover.session.post(clover.base_url + "/v1/tokens", headers=headers, timeout=10,
                                   json={"card": {"number": VISA}})
    assert response.status_code == 401
    assert error_of(response)["type"] == "authentication_error"


def test_private_key_or_bearer_is_not_a_pakms_key(clover, identity):
    assert clover.tokenize(apikey=identity["private_key"]).status_code == 401


@pytest.mark.parametrize("card, code, param", [
    ({"number": "4242424242424241"}, "invalid_number", "number"),
    ({"number": "42424242"}, "invalid_number", "number"),
    ({"number": "4242 4242 4242 4242"}, "invalid_number", "number"),
    ({"exp_month": "13"}, "invalid_expiry_month", "exp_month"),
    ({"exp_month": "0"}, "invalid_expiry_month", "exp_month"),
    ({"exp_year": "3"}, "invalid_expiry_year", "exp_year"),
    ({"exp_year": "20x5"}, "invalid_expiry_year", "exp_year"),
    ({"cvv": "12"}, "invalid_cvc", "cvv"),
    ({"cvv": "12345"}, "invalid_cvc", "cvv"),
    ({"brand": "CARD"}, "invalid_card_type", "brand"),
    ({"number": "9999999999999995"}, "invalid_card_type", "brand"),
])
def test_card_validation_errors(clover, card, code, param):
    response = clover.tokenize(**{"number": VISA, **card})
    assert response.status_code == 400
    error = error_of(response)
    assert (error["code"], error["param"]) == (code, param)


def test_past_expiry_is_accepted_like_the_sandbox_unless_switched(clover, control):
    assert clover.tokenize(exp_month="01", exp_year="2020").status_code == 200
    control.configure(allow_past_expiry=False)
    response = clover.tokenize(exp_month="01", exp_year="2020")
    assert error_of(response)["code"] == "invalid_expiry_year"


def test_four_digit_cvv_and_explicit_brand(clover):
    response = clover.tokenize("378282246310005", cvv="1234", brand="AMEX")
    assert response.json()["card"]["brand"] == "AMEX"


def test_a_token_is_single_use(clover):
    token = clover.token()
    assert clover.charge(source=token).status_code == 200
    reused = clover.charge(source=token)
    assert reused.status_code == 400
    assert error_of(reused)["code"] == "token_already_used"


def test_a_token_belongs_to_the_merchant_whose_key_made_it(clover, control, emu):
    other = control.add_merchant("Other Store")
    foreign = clover.tokenize(apikey=other["pakms_key"]).json()["id"]
    response = clover.charge(source=foreign)
    assert response.status_code == 400
    assert error_of(response)["code"] == "resource_missing"


def test_tokens_answer_cors_preflight(clover):
    response = clover.session.options(clover.base_url + "/v1/tokens", timeout=10)
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "apikey" in response.headers["Access-Control-Allow-Headers"]


@pytest.mark.parametrize("number, brand", [
    ("4242424242424242", "VISA"), ("5555555555554444", "MC"), ("2223003122003222", "MC"),
    ("378282246310005", "AMEX"), ("6011000990139424", "DISCOVER"), ("30569309025904", "DINERS"),
    ("38520000023237", "DINERS"), ("3566002020360505", "JCB"), ("9999999999999995", None),
])
def test_brand_from_bin(number, brand):
    assert luhn_ok(number)
    assert brand_of(number) == brand


def test_bin_ranges_are_well_formed():
    for brand, low, high in BIN_RANGES:
        assert len(low) == len(high) and int(low) <= int(high), brand
