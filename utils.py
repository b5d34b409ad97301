"""Pure helpers shared by the models, the controllers and the tests: no ORM, no I/O."""

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from . import const

_B64URL_RE = re.compile(r'[A-Za-z0-9_-]+')
_NONCE_RE = re.compile(r'[0-9a-f]{32}')
MERCHANT_ID_RE = re.compile(r'[A-Za-z0-9]{1,32}')
# base64url of an HMAC-SHA256, unpadded: the form of a state's `sub`.
_SUBJECT_RE = re.compile(r'[A-Za-z0-9_-]{43}')
# A host name and an optional port, nothing a URL parser could read two ways (userinfo, "\\", "%",
# IDN, white space): such URLs are refused rather than normalised, as by the dispatcher.
_AUTHORITY_RE = re.compile(r'([A-Za-z0-9.-]+)(?::([0-9]{1,5}))?')
# `iat` must be exact as a number in JavaScript too (the dispatcher verifies the same states).
_MAX_SAFE_INTEGER = 2 ** 53 - 1
_EPOCH = datetime(1970, 1, 1)  # Naive UTC, as Odoo's datetimes.
_MILLISECOND = timedelta(milliseconds=1)


# === AMOUNTS === #

def format_clover_amount(amount, currency):
    """Return `amount` in the currency's minor units, as Clover expects it on the wire.

    The amount is rounded with the currency's rounding in decimal arithmetic, so that 19.99 never
    becomes 1998 through a binary float.

    :param float amount: The amount in major units; must not be negative.
    :param currency: A `res.currency` record (only `rounding` and `decimal_places` are read).
    :return: The amount in minor units.
    :rtype: int
    :raise ValueError: If the amount is negative.
    """
    value = Decimal(repr(float(amount)))
    if value < 0:
        raise ValueError("Clover amounts cannot be negative.")
    rounding = Decimal(repr(currency.rounding))
    rounded = (value / rounding).to_integral_value(ROUND_HALF_UP) * rounding
    return int(rounded.scaleb(currency.decimal_places).to_integral_value(ROUND_HALF_UP))


def parse_clover_amount(minor_amount, currency):
    """Return Clover's minor-unit `minor_amount` in the currency's major units.

    :param int minor_amount: The amount in minor units.
    :param currency: A `res.currency` record.
    :rtype: float
    """
    return float(Decimal(int(minor_amount)).scaleb(-currency.decimal_places))


# === TIMES === #

def format_clover_time(when):
    """Return a naive UTC datetime (Odoo's) as Clover's times: milliseconds since the epoch.
    Integer arithmetic: no float rounds a time to the millisecond before."""
    return (when - _EPOCH) // _MILLISECOND


def parse_clover_time(milliseconds):
    """Return Clover's milliseconds since the epoch as a naive UTC datetime (Odoo's)."""
    return _EPOCH + milliseconds * _MILLISECOND


# === REFUNDS === #

def build_payment_refund_payload(amount=None, *, charge_id=None, reason=None, metadata=None):
    """Return the body of a refund of a Clover payment, online or on a terminal.

    Online charges refund through `POST /v1/refunds`, which names the charge in its body;
    terminal payments through REST Pay's `POST /connect/v1/payments/{id}/refunds`, which names it
    in its path (clover-api.md §2.2, §5.2). Without an amount, the body refunds all that remains:
    `{"charge"}` online (the bare body some sandboxes insist on, spec.md §7), `{"fullRefund"}` on
    a terminal.

    :param int amount: The refund in minor units, or None for all that remains.
    :param str charge_id: The online charge; None for a terminal payment.
    :param str reason: Clover's refund reason (online only: REST Pay takes none).
    :param dict metadata: Ties the refund to its Odoo transaction (online only).
    :rtype: dict
    """
    if charge_id is None:
        return {'amount': amount} if amount is not None else {'fullRefund': True}
    payload = {'charge': charge_id}
    if amount is None:
        return payload
    payload['amount'] = amount
    if reason:
        payload['reason'] = reason
    if metadata:
        payload['metadata'] = metadata
    return payload


# === BASE64URL === #

def b64url_encode(data):
    """Encode bytes as unpadded base64url text."""
    return base64.urlsafe_b64encode(data).rstrip(b'=').decode('ascii')


def b64url_decode(text):
    """Decode the canonical unpadded base64url encoding of some bytes.

    Padding, other alphabets, impossible lengths and stray bits in the last character are refused,
    so that one byte string has exactly one accepted spelling.

    :raise ValueError: If `text` is not canonical unpadded base64url.
    """
    if not isinstance(text, str) or not _B64URL_RE.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not unpadded base64url")
    try:
        data = base64.urlsafe_b64decode(text + '=' * (-len(text) % 4))
    except binascii.Error as error:
        raise ValueError("not unpadded base64url") from error
    if b64url_encode(data) != text:
        raise ValueError("not canonical base64url")
    return data


# === CARDS === #

# A single-use card token made by Clover's iframe (`clv_` and letters or digits). Never a saved
# card's customer id, which only the server may charge.
CARD_TOKEN_RE = re.compile(r'clv_[A-Za-z0-9]+')
CARD_TOKEN_MAX_LENGTH = 132

# (brand, BIN prefix ranges as (low, high) on the first six digits), most specific first.
_BRAND_RANGES = (
    ('AMEX', ((340000, 349999), (370000, 379999))),
    ('DINERS', ((300000, 305999), (360000, 369999), (380000, 399999))),
    ('JCB', ((352800, 358999),)),
    ('DISCOVER', ((601100, 601199), (622126, 622925), (644000, 659999))),
    ('MC', ((510000, 559999), (222100, 272099))),
    ('VISA', ((400000, 499999),)),
)


def detect_brand_from_pan(pan):
    """Return the Clover brand (`VISA`, `MC`, `AMEX`, `DISCOVER`, `DINERS`, `JCB`) of a card
    number from its BIN, or None when the BIN belongs to no brand Clover tokenizes."""
    digits = re.sub(r'[ -]', '', pan or '')
    if not digits.isdigit() or len(digits) < 6:
        return None
    bin6 = int(digits[:6])
    for brand, ranges in _BRAND_RANGES:
        if any(low <= bin6 <= high for low, high in ranges):
            return brand
    return None


# === SIGNED OAUTH STATE === #

def new_secret():
    """Return a random HMAC key for signed states."""
    return secrets.token_urlsafe(32)


class InvalidState(ValueError):
    """A signed OAuth state that must be refused; `reason` is a short machine word."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def _state_signature(payload_b64, secret):
    return hmac.new(secret.encode(), payload_b64.encode('ascii'), hashlib.sha256).digest()


def sign_state(payload, secret):
    """Return the signed state `b64u(payload_json).b64u(hmac_sha256(secret, b64u(payload_json)))`.

    :param dict payload: A payload from `new_state_payload`.
    :param str secret: The key shared with the dispatcher.
    :rtype: str
    """
    payload_b64 = b64url_encode(json.dumps(payload, separators=(',', ':')).encode())
    return f'{payload_b64}.{b64url_encode(_state_signature(payload_b64, secret))}'


def new_state_nonce():
    """Return a fresh state nonce (32 lowercase hex)."""
    return secrets.token_hex(16)


def new_state_payload(redirect_to, now, *, nonce, sub=None, merchant_id=None, customer=None):
    """Return a version-2 state payload for `redirect_to`, issued at `now` (Unix seconds).

    A state is bound to whoever may complete it, by exactly one of `sub` (Odoo's opaque binding to
    the admin and the provider who clicked Connect) or `merchant_id` (the dispatcher's launch).
    """
    if bool(sub) == bool(merchant_id):
        raise ValueError("A state is bound by exactly one of sub and merchant_id.")
    payload = {'v': const.STATE_VERSION, 'redirect_to': redirect_to, 'nonce': nonce, 'iat': int(now)}
    payload.update({'sub': sub} if sub else {'merchant_id': merchant_id})
    if customer:
        payload['customer'] = customer
    return payload


def state_subject(hmac_hex):
    """Return the `sub` of a state from an HMAC-SHA256 in hex: its 32 bytes in base64url."""
    return b64url_encode(bytes.fromhex(hmac_hex))


def verify_state(state, secret, now, max_age=const.STATE_MAX_AGE, skew=const.STATE_CLOCK_SKEW):
    """Check a signed state's form, signature (in constant time), version and age; return its payload.

    The checks run in the dispatcher's order (form, signature, version, payload, age) so that both
    give the same reason for the same state: tests/data/signed_state_vectors.json pins it. Where the
    payload may send the browser, and whether its binding (`sub` or `merchant_id`) fits the
    callback, are the caller's to check.

    :param str state: The state as received.
    :param str secret: The key shared with the dispatcher.
    :param int now: The current time in Unix seconds.
    :return: The payload, with `v` and `iat` as ints.
    :rtype: dict
    :raise InvalidState: With reason `malformed`, `signature`, `outdated`, `expired` or `future`.
    """
    parts = state.split('.') if isinstance(state, str) else ()
    if len(parts) != 2:
        raise InvalidState('malformed')
    payload_b64, signature_b64 = parts
    try:
        signature = b64url_decode(signature_b64)
        payload_bytes = b64url_decode(payload_b64)
    except ValueError as error:
        raise InvalidState('malformed') from error
    if not hmac.compare_digest(signature, _state_signature(payload_b64, secret)):
        raise InvalidState('signature')
    payload = _load_state_json(payload_bytes)
    # Before any other field: a state of an older format is refused as such, whatever else it holds.
    if not _is_json_number(payload.get('v')) or payload['v'] != const.STATE_VERSION:
        raise InvalidState('outdated')
    payload = _check_state_fields(payload)
    if now - payload['iat'] > max_age:
        raise InvalidState('expired')
    if payload['iat'] - now > skew:
        raise InvalidState('future')
    return payload


def _load_state_json(payload_bytes):
    """Return the payload's JSON object, read as strictly as JavaScript reads it."""
    try:
        payload = json.loads(payload_bytes.decode('utf-8'), parse_constant=_refuse_constant)
    except ValueError as error:  # Also a BOM, invalid UTF-8, NaN or Infinity.
        raise InvalidState('malformed') from error
    if not isinstance(payload, dict):
        raise InvalidState('malformed')
    return payload


def _is_json_number(value):
    # JSON has one number type; a bool is not one of them (Python would count True as 1).
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_state_fields(payload):
    """Return the version-2 payload with int `v` and `iat`, or raise `malformed`."""
    if not (
        isinstance(payload.get('redirect_to'), str)
        and isinstance(payload.get('nonce'), str)
        and _NONCE_RE.fullmatch(payload['nonce'])
        and isinstance(payload.get('customer', ''), str)
        and _has_one_binding(payload)
    ):
        raise InvalidState('malformed')
    iat = payload.get('iat')
    # 1767225480.0 is the integer JavaScript sees.
    if not _is_json_number(iat) or not abs(iat) <= _MAX_SAFE_INTEGER or iat != int(iat):
        raise InvalidState('malformed')
    return dict(payload, v=const.STATE_VERSION, iat=int(iat))


def _has_one_binding(payload):
    if ('merchant_id' in payload) == ('sub' in payload):
        return False
    key, pattern = ('merchant_id', MERCHANT_ID_RE) if 'merchant_id' in payload else ('sub', _SUBJECT_RE)
    return isinstance(payload[key], str) and bool(pattern.fullmatch(payload[key]))


def _refuse_constant(name):
    raise ValueError(f"{name} is not JSON")


def redirect_problem(url, allowed_hosts, scheme='https'):
    """Return `scheme` or `host` when a browser must not be sent to `url`, None when it may.

    :param str url: The state's `redirect_to`.
    :param set allowed_hosts: Lower-case host names, matched exactly (no suffix, no wildcard).
    :param str scheme: The scheme required, in lower case as written.
    """
    prefix = f'{scheme}://'
    if not url.startswith(prefix):
        return 'scheme'
    authority = re.split(r'[/?#]', url[len(prefix):], maxsplit=1)[0]
    match = _AUTHORITY_RE.fullmatch(authority)
    if not match or int(match[2] or 0) > 65535:
        return 'host'
    return None if match[1].lower() in allowed_hosts else 'host'


# === REDACTION === #

REDACTED = '[REDACTED]'
# Card numbers (13-19 digits, possibly grouped).
_PAN_RE = re.compile(r'(?<![\w])(?:\d[ -]?){12,18}\d(?![\w])')


def redact(data, sensitive_keys=const.SENSITIVE_KEYS):
    """Return a copy of `data` with the values of sensitive keys, card numbers and card tokens
    masked, at any depth of dicts and lists."""
    if isinstance(data, dict):
        return {
            key: REDACTED if key in sensitive_keys else redact(value, sensitive_keys)
            for key, value in data.items()
        }
    if isinstance(data, (list, tuple)):
        return [redact(value, sensitive_keys) for value in data]
    if isinstance(data, str):
        return redact_text(data)
    return data


def redact_text(text, sensitive_keys=const.SENSITIVE_KEYS):
    """Mask secrets in free text: JSON bodies are redacted key by key, anything else loses its
    card numbers and card tokens."""
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if isinstance(parsed, (dict, list)):
        return json.dumps(redact(parsed, sensitive_keys))
    return CARD_TOKEN_RE.sub(REDACTED, _PAN_RE.sub(REDACTED, text))


def redact_url(url, sensitive_keys=const.SENSITIVE_KEYS):
    """Mask the sensitive query parameters of `url` (legacy OAuth puts secrets there)."""
    parts = urlsplit(url)
    query = [
        (key, REDACTED if key in sensitive_keys else redact_text(value))
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(parts._replace(query=urlencode(query, safe='[]')))
