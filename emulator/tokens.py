"""Tokenization: POST /v1/tokens with the merchant's PAKMS key in `apikey` (clover-api.md §3)."""
import time

from . import ids
from .cards import BRANDS, brand_of, card_summary, luhn_ok
from .ledger import ms
from .records import CardToken
from .web import Reply, Routes, ecommerce_error, invalid_request, read_json

routes = Routes()

# Fields of body.card kept on the token besides number, expiry and brand (never the CVV).
KEPT_FIELDS = ("name", "address_line1", "address_line2", "address_city", "address_state",
               "address_zip", "address_country", "country")


def _card_error(code, message, param):
    return ecommerce_error(400, "card_error", message, code, param=param)


def _digits(value):
    text = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    return text if text.isdigit() else None


def _number(card):
    number = _digits(card.get("number", ""))
    if number is None or not 12 <= len(number) <= 19 or not luhn_ok(number):
        raise _card_error("invalid_number", "The card number is not a valid card number", "number")
    return number


def _month(card):
    month = _digits(card.get("exp_month", ""))
    if month is None or not 1 <= int(month) <= 12:
        raise _card_error("invalid_expiry_month", "The expiration month is invalid", "exp_month")
    return f"{int(month):02d}"


def _year(card, month, allow_past, now):
    year = _digits(card.get("exp_year", ""))
    if year is None or len(year) not in (2, 4):
        raise _card_error("invalid_expiry_year", "The expiration year is invalid", "exp_year")
    full = int(year) + 2000 if len(year) == 2 else int(year)
    today = time.gmtime(now)
    if not allow_past and (full, int(month)) < (today.tm_year, today.tm_mon):
        raise _card_error("invalid_expiry_year", "The card has expired", "exp_year")
    return str(full)


def _cvv(card):
    cvv = _digits(card.get("cvv", ""))
    if cvv is None or not 3 <= len(cvv) <= 4:
        raise _card_error("invalid_cvc", "The card's security code is invalid", "cvv")


def _brand(card, number):
    # A real brand is required: generic values such as "CARD" are refused (spec.md §1).
    brand = card.get("brand") or brand_of(number)
    if brand not in BRANDS:
        raise _card_error("invalid_card_type", f"Unsupported card brand {brand!r}", "brand")
    return brand


def validate_card(card, allow_past_expiry, now):
    """The normalized card kept on a token; raises the first validation error found."""
    if not isinstance(card, dict):
        raise invalid_request("card is required", "card", code="missing")
    if card.get("encrypted_pan"):
        raise invalid_request("encrypted_pan is not supported by the emulator", "encrypted_pan")
    number = _number(card)
    month = _month(card)
    year = _year(card, month, allow_past_expiry, now)
    _cvv(card)
    normalized = {"number": number, "exp_month": month, "exp_year": year,
                  "brand": _brand(card, number)}
    normalized.update({key: str(card[key]) for key in KEPT_FIELDS if card.get(key)})
    return normalized


def _merchant_for_key(store, key):
    for merchant in store.merchants.values():
        if key and merchant.pakms_key == key:
            return merchant
    return None


@routes("/v1/tokens", "POST")
def create_token(store, request):
    with store.lock:
        merchant = _merchant_for_key(store, request.headers.get("apikey", ""))
        if merchant is None:
            raise ecommerce_error(401, "authentication_error",
                                  "A valid PAKMS key is required in the apikey header")
        body = read_json(request, invalid_request)
        card = validate_card(body.get("card"), store.switches["allow_past_expiry"], store.now())
        token = CardToken(ids.new_card_token(), merchant.id, card, store.now())
        store.card_tokens[token.id] = token
        return Reply(200, {"id": token.id, "object": "token", "card": card_summary(card),
                           "created": ms(token.created), "livemode": False, "type": "card",
                           "used": False})
