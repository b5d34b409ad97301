"""Ecommerce charges, capture and refunds (clover-api.md §2.2-§2.6, checklist §9.2)."""
import re
from functools import partial

from . import ecomm, ledger
from .cards import DECLINE_CARDS, GATEWAY_ERROR_CARD, PARTIAL_AUTH_CARD, card_summary
from .web import Reply, Routes, ecommerce_error, invalid_request

routes = Routes()

ECOMINDS = ("ecom", "moto", "retail")
REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")
SITE_URL = re.compile(r"(?!www\.)[^:/\s]{4,13}")


def test_card_decline(store, card):
    """What a test card forces (§2.6): None to approve, or (decline_code, message)."""
    number = card["number"]
    if number == GATEWAY_ERROR_CARD:
        raise ecommerce_error(500, "api_error", "The payment gateway returned an error",
                              "processing_error")
    if number in DECLINE_CARDS:
        return store.switches["decline_code"], "The card was declined."
    if number == PARTIAL_AUTH_CARD:
        # The Ecommerce API declines partial approvals (§2.6 line 122).
        return store.switches["decline_code"], "The card was declined: partial approval."
    return None


def _velocity_decline(store, card):
    limit = store.switches["velocity_limit"]
    if limit and store.card_charges[card["number"]] >= limit:
        return "card_velocity_exceeded", "The card was declined: too many charges on this card."
    return None


def decline_reply(store, object_id, decline_code, message):
    error = {"type": "card_error", "code": "card_declined", "message": message,
             store.switches["decline_code_field"]: decline_code}
    if object_id:
        error["charge"] = object_id
    return Reply(store.switches["decline_status"], {"error": error})


def _charge_fields(payload):
    fields = ecomm.optional_fields(payload)
    fields.setdefault("metadata", {})
    ecomind = payload.get("ecomind", "ecom")
    if ecomind not in ECOMINDS:
        raise invalid_request(f"ecomind must be one of {', '.join(ECOMINDS)}", "ecomind")
    fields["ecomind"] = ecomind
    site_url = payload.get("site_url")
    if site_url is not None:
        if not isinstance(site_url, str) or not SITE_URL.fullmatch(site_url):
            raise invalid_request("site_url must be 4-13 characters without scheme or www",
                                  "site_url")
        fields["site_url"] = site_url
    if payload.get("external_customer_reference") is not None:
        fields["external_customer_reference"] = str(payload["external_customer_reference"])
    return fields


def _charge_of(store, merchant_id, charge_id):
    payment = ecomm.owned(store.payments, charge_id, merchant_id, "charge")
    if payment.channel != "ecommerce":  # terminal payments are not charges
        raise ecomm.not_found("charge", charge_id)
    return payment


def _charge(store, merchant_id, payload, key):
    base = ecomm.amount(payload)
    currency = ecomm.currency(payload)
    tax = ecomm.amount(payload, "tax_amount", False, "invalid_tax_amount", minimum=0) or 0
    tip = ecomm.amount(payload, "tip_amount", False, "invalid_tip_amount", minimum=0) or 0
    if tax > base:
        raise invalid_request("tax_amount is part of amount and cannot exceed it", "tax_amount",
                              code="invalid_tax_amount")
    capture = payload.get("capture", True)
    if not isinstance(capture, bool):
        raise invalid_request("capture must be a boolean", "capture")
    fields = _charge_fields(payload)
    reference = ecomm.external_reference(payload)
    source = ecomm.source(store, merchant_id, payload)
    # tip_amount is added to the total; amount already includes the tax (§2.3 line 94).
    total = base + tip
    if total > ecomm.MAX_AMOUNT:
        raise invalid_request("amount exceeds the maximum", "amount", code="amount_too_large")
    decline = test_card_decline(store, source.card) or _velocity_decline(store, source.card)
    source.consume()
    if source.customer_id:
        fields["customer"] = source.customer_id
    payment = ledger.new_payment(
        store, merchant_id, "ecommerce", total, currency, card_summary(source.card),
        captured=capture, decline=decline, tax_amount=tax, tip_amount=tip,
        external_reference_id=reference, fields=fields)
    store.counters["charges_created"] += 1
    if key:
        store.counters["charges_by_idempotency_key"][key] += 1
    if decline:
        if store.switches["failed_charges_retrievable"]:
            ledger.keep(store, payment)
        return decline_reply(store, payment.id, *decline)
    ledger.keep(store, payment)
    store.card_charges[source.card["number"]] += 1
    return Reply(200, ledger.charge_view(payment, store.switches))


@routes("/v1/charges", "POST")
def create_charge(store, request):
    key = request.headers.get("idempotency-key")
    return ecomm.handle_post(store, request, partial(_charge, key=key), forwarded_for=True)


@routes("/v1/charges", "GET")
def list_charges(store, request):
    with store.lock:
        caller = ecomm.principal(store, request)
        customer = request.args.get("customer")
        views = [ledger.charge_view(p, store.switches) for p in store.payments.values()
                 if p.merchant_id == caller.merchant_id and p.channel == "ecommerce"
                 and (customer is None or p.fields.get("customer") == customer)]
        return Reply(200, ecomm.list_page(request, store.switches, views))


@routes("/v1/charges/<charge_id>", "GET")
def get_charge(store, request, charge_id):
    with store.lock:
        caller = ecomm.principal(store, request)
        payment = _charge_of(store, caller.merchant_id, charge_id)
        return Reply(200, ledger.charge_view(payment, store.switches))


def _capture(store, merchant_id, payload, charge_id):
    payment = _charge_of(store, merchant_id, charge_id)
    amount = ecomm.amount(payload, required=False)
    fields = ecomm.optional_fields(payload)
    try:
        ledger.capture(store, payment, amount)
    except ledger.LedgerError as exc:
        raise ecomm.ledger_error(exc) from None
    payment.fields.update(fields)
    return Reply(200, ledger.charge_view(payment, store.switches))


@routes("/v1/charges/<charge_id>/capture", "POST")
def capture_charge(store, request, charge_id):
    return ecomm.handle_post(store, request, partial(_capture, charge_id=charge_id),
                             forwarded_for=True)


def _refund_fields(payload):
    fields = {key: value for key, value in ecomm.optional_fields(payload).items()
              if key == "metadata"}
    reason = payload.get("reason")
    if reason is not None:
        if reason not in REFUND_REASONS:
            raise invalid_request(f"reason must be one of {', '.join(REFUND_REASONS)}", "reason")
        fields["reason"] = reason
    reference = ecomm.external_reference(payload)
    if reference is not None:
        fields["external_reference_id"] = reference
    return fields


def _refund(store, merchant_id, payload):
    if store.switches["strict_refund_body"]:
        # The sandbox once seen refusing every refund body but {"charge"} (spec.md §7).
        extra = sorted(set(payload) - {"charge"})
        if extra:
            raise invalid_request(f"Received unknown parameter: {extra[0]}", extra[0])
    charge_id = payload.get("charge")
    if not charge_id:
        raise invalid_request("charge is required", "charge", code="missing")
    payment = _charge_of(store, merchant_id, charge_id)
    amount = ecomm.amount(payload, required=False)
    fields = _refund_fields(payload)
    try:
        record = ledger.refund(store, payment, amount, **fields)
    except ledger.LedgerError as exc:
        raise ecomm.ledger_error(exc) from None
    return Reply(200, ledger.refund_view(record))


@routes("/v1/refunds", "POST")
def create_refund(store, request):
    return ecomm.handle_post(store, request, _refund)


def _merchant_refunds(store, merchant_id):
    return [r for r in store.refunds.values()
            if r.merchant_id == merchant_id and store.payments[r.payment_id].channel == "ecommerce"]


@routes("/v1/refunds", "GET")
def list_refunds(store, request):
    with store.lock:
        caller = ecomm.principal(store, request)
        charge = request.args.get("charge")
        views = [ledger.refund_view(r) for r in _merchant_refunds(store, caller.merchant_id)
                 if charge is None or r.payment_id == charge]
        return Reply(200, ecomm.list_page(request, store.switches, views))


@routes("/v1/refunds/<refund_id>", "GET")
def get_refund(store, request, refund_id):
    with store.lock:
        caller = ecomm.principal(store, request)
        for record in _merchant_refunds(store, caller.merchant_id):
            if record.id == refund_id:
                return Reply(200, ledger.refund_view(record))
        raise ecomm.not_found("refund", refund_id)
