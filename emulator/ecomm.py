"""What every Ecommerce endpoint shares: auth, required headers, idempotency, field checks,
payment sources and list pages (clover-api.md §2). Callers hold store.lock.
"""
import json
import re
from dataclasses import dataclass

from .auth import authenticate
from .records import IdempotencyRecord
from .web import (
    Reply,
    body_fingerprint,
    ecommerce_error,
    invalid_request,
    is_outcome,
    read_json,
    run_catching,
)

MAX_AMOUNT = 99_999_999  # amount_too_large above $999,999.99 (§2.5)
EXTERNAL_REFERENCE = re.compile(r"[A-Za-z0-9 ]{1,12}")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
LIST_OPERATORS = {"gt": int.__gt__, "gte": int.__ge__, "lt": int.__lt__, "lte": int.__le__}


def _unauthorized(message):
    return ecommerce_error(401, "authentication_error", message)


def principal(store, request):
    return authenticate(store, request, _unauthorized)


def body(request):
    return read_json(request, invalid_request)


def require_forwarded_for(request):
    # "Requests that don't include the header are not successful" (§2.1 line 70).
    if not request.headers.get("x-forwarded-for", "").strip():
        raise invalid_request("The x-forwarded-for header (the shopper's IP) is required")


def idempotent(store, request, merchant_id, payload, produce):
    """Run produce() once per Idempotency-Key; replay its reply for the same key and body."""
    key = request.headers.get("idempotency-key")
    if not key:
        return run_catching(produce)
    scope = (merchant_id, key)
    fingerprint = body_fingerprint(request, payload)
    record = store.idempotency.get(scope)
    if record and record.created + store.switches["idempotency_ttl"] > store.now():
        if record.fingerprint != fingerprint and store.switches["idempotency_mismatch"] == "error":
            raise ecommerce_error(
                400, "idempotency_error", "Keys for idempotent requests can only be used with "
                "the same parameters they were first used with", "idempotency_error")
        store.counters["idempotent_replays"] += 1
        return record.reply
    reply = run_catching(produce)
    if is_outcome(reply):
        store.idempotency[scope] = IdempotencyRecord(fingerprint, reply, store.now())
    return reply


def handle_post(store, request, produce, forwarded_for=False):
    """Authenticate, check headers, read the body, then run produce(store, merchant_id,
    payload) once per Idempotency-Key."""
    with store.lock:
        caller = principal(store, request)
        if forwarded_for:
            require_forwarded_for(request)
        payload = body(request)
        return idempotent(store, request, caller.merchant_id, payload,
                          lambda: produce(store, caller.merchant_id, payload))


def owned(records, object_id, merchant_id, kind):
    """The record of this merchant with that id; another merchant's is as good as missing."""
    record = records.get(object_id)
    if record is None or record.merchant_id != merchant_id:
        raise not_found(kind, object_id)
    return record


def show_owned(store, request, table, object_id, kind, view):
    """A GET of one record (from store.<table>) of the caller's merchant."""
    with store.lock:
        caller = principal(store, request)
        return Reply(200, view(owned(getattr(store, table), object_id, caller.merchant_id, kind)))


def amount(payload, name="amount", required=True, code="invalid_charge_amount", minimum=1):
    """An integer amount in cents; None when absent and not required."""
    value = payload.get(name)
    if value is None:
        if required:
            raise invalid_request(f"{name} is required", name, code="missing")
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise invalid_request(f"{name} must be an integer of at least {minimum} cents", name,
                              code=code)
    if value > MAX_AMOUNT:
        raise invalid_request(f"{name} exceeds the maximum", name, code="amount_too_large")
    return value


def currency(payload):
    value = payload.get("currency")
    if value is None:
        raise invalid_request("currency is required", "currency", code="missing")
    # Documented as lowercase (§2.3): "USD" is refused, as an exact client must not send it.
    if not isinstance(value, str) or not re.fullmatch(r"[a-z]{3}", value):
        raise invalid_request("currency must be a lowercase 3-letter ISO code", "currency")
    return value


def external_reference(payload):
    value = payload.get("external_reference_id")
    if value is not None and not (isinstance(value, str) and EXTERNAL_REFERENCE.fullmatch(value)):
        raise invalid_request("external_reference_id must be 1-12 letters, digits or spaces",
                              "external_reference_id")
    return value


def optional_fields(payload):
    """The descriptive fields present in payload, validated, to echo on the object."""
    fields = {}
    if "description" in payload:
        if not isinstance(payload["description"], str) or len(payload["description"]) > 255:
            raise invalid_request("description must be a string of at most 255 characters",
                                  "description")
        fields["description"] = payload["description"]
    if "metadata" in payload:
        metadata = payload["metadata"]
        if not isinstance(metadata, dict) or len(json.dumps(metadata)) > 500:
            raise invalid_request("metadata must be an object of at most 500 characters",
                                  "metadata")
        fields["metadata"] = metadata
    email = payload.get("receipt_email")
    if email is not None:
        if not isinstance(email, str) or not EMAIL.fullmatch(email):
            raise invalid_request("receipt_email is not a valid email", "receipt_email",
                                  code="email_invalid")
        fields["receipt_email"] = email
    return fields


@dataclass
class Source:
    card: dict
    token: object | None
    customer_id: str | None

    def consume(self):
        if self.token is not None:
            self.token.used = True


def source(store, merchant_id, payload):
    """The card behind `source` (a clv_ token or a customer id) or `customer`."""
    value, customer_id = payload.get("source"), payload.get("customer")
    if value is None and customer_id is None:
        raise invalid_request("source is required", "source", code="missing")
    if value is not None and not isinstance(value, str):
        raise invalid_request("source must be a clv_ token or a customer id", "source")
    if value and value.startswith("clv_"):
        token = card_token(store, merchant_id, value, "source")
        return Source(token.card, token, customer_id)
    customer = store.customers.get(value or customer_id)
    if customer is None or customer.merchant_id != merchant_id:
        raise invalid_request(f"No such source: {value or customer_id}", "source",
                              code="resource_missing")
    if customer.card is None:
        raise invalid_request("The customer has no card on file", "source",
                              code="card_on_file_missing")
    return Source(customer.card, None, customer.id)


def card_token(store, merchant_id, token_id, param):
    """An unused card token of this merchant (tokens are bound to the PAKMS key's merchant)."""
    token = store.card_tokens.get(token_id)
    if token is None or token.merchant_id != merchant_id:
        raise invalid_request(f"No such token: {token_id}", param, code="resource_missing")
    if token.used:
        raise invalid_request("The token has already been used", param, code="token_already_used")
    return token


def ledger_error(exc):
    return invalid_request(exc.message, exc.param, code=exc.code)


def not_found(kind, object_id):
    return invalid_request(f"No such {kind}: {object_id}", code="resource_missing", status=404)


def _created_filter(args):
    tests = []
    if "created" in args:
        tests.append((int.__eq__, args["created"]))
    tests += [(test, args[f"created[{op}]"]) for op, test in LIST_OPERATORS.items()
              if f"created[{op}]" in args]
    try:
        return [(test, int(value)) for test, value in tests]
    except ValueError:
        raise invalid_request("created must be a timestamp in milliseconds", "created") from None


def _limit(args):
    try:
        limit = int(args.get("limit", 10))
    except ValueError:
        limit = 0
    if not 1 <= limit <= 100:
        raise invalid_request("limit must be between 1 and 100", "limit")
    return limit


def _window(object_ids, args):
    """The ids before ending_before or after starting_after (newest-first order)."""
    for name, keep_after in (("starting_after", True), ("ending_before", False)):
        anchor = args.get(name)
        if anchor is None:
            continue
        if anchor not in object_ids:
            raise invalid_request(f"No such object: {anchor}", name, code="resource_missing")
        index = object_ids.index(anchor)
        return (object_ids[index + 1:], True) if keep_after else (object_ids[:index], False)
    return object_ids, True


def list_page(request, switches, views):
    """A list object over views (dicts with id and created), newest first."""
    limit = _limit(request.args)
    filters = _created_filter(request.args)
    matching = [v for v in reversed(views) if all(test(v["created"], x) for test, x in filters)]
    by_id = {view["id"]: view for view in matching}
    window, from_start = _window(list(by_id), request.args)
    page = window[:limit] if from_start else window[-limit:]
    return {"object": "list", "url": request.path,
            switches["charges_list_key"]: [by_id[object_id] for object_id in page],
            "has_more": len(window) > limit}
