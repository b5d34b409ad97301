"""Money rules shared by the Ecommerce and REST Pay surfaces: capture, refund, void, views.

Both surfaces move the same Payment records, so a refund taken on one is seen on the other
and on Platform v3 (clover-api.md §4: a charge id is a v3 payment id).
"""
from . import ids
from .records import Payment, Refund

CARD_TYPES = {"VISA": "VISA", "MC": "MC", "AMEX": "AMEX", "DISCOVER": "DISCOVER",
              "DINERS": "DINERS_CLUB", "JCB": "JCB"}


class LedgerError(Exception):
    """A money rule was broken; `code` is Clover's error code (§2.5)."""

    def __init__(self, code, message, param=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.param = param


def new_payment(store, merchant_id, channel, amount, currency, card, *, captured=True,
                decline=None, **attributes):
    """A payment not yet kept; `decline` is (decline_code, message) for a failed one."""
    now = store.now()
    approved = decline is None
    payment = Payment(
        id=ids.new_id(), merchant_id=merchant_id, channel=channel, amount=amount,
        currency=currency, card=card, created=now, modified=now,
        status="succeeded" if approved else "failed",
        captured=captured and approved, amount_captured=amount if captured and approved else 0,
        order_id=ids.new_id(), ref_num=ids.new_digits(12),
        auth_code=ids.new_auth_code() if approved else None, **attributes)
    if decline:
        payment.decline_code, payment.failure_message = decline
    return payment


def keep(store, payment):
    store.payments[payment.id] = payment
    store.emit(payment.merchant_id, "P:" + payment.id, "CREATE")
    return payment


def remaining(payment):
    return payment.amount_captured - payment.amount_refunded


def capture(store, payment, amount=None):
    if payment.status == "failed":
        raise LedgerError("invalid_request", "A declined charge cannot be captured")
    if payment.voided:
        raise LedgerError("charge_already_refunded", "The charge was voided")
    if payment.captured:
        raise LedgerError("charge_already_captured", "The charge has already been captured")
    amount = payment.amount if amount is None else amount
    if amount > payment.amount:
        raise LedgerError("invalid_charge_amount",
                          "The capture amount exceeds the authorized amount", "amount")
    payment.captured = True
    payment.amount_captured = amount
    _touch(store, payment)


def refund(store, payment, amount=None, **fields):
    """Refund `amount` (None: all that remains); an uncaptured charge is voided instead."""
    if payment.status == "failed":
        raise LedgerError("invalid_request", "A declined charge cannot be refunded")
    if payment.voided:
        raise LedgerError("charge_already_refunded", "The charge has already been voided")
    if not payment.captured:
        return _void(store, payment, amount, fields)
    left = remaining(payment)
    if left <= 0:
        raise LedgerError("charge_already_refunded", "The charge has already been refunded")
    amount = left if amount is None else amount
    if amount > left:
        raise LedgerError("charge_already_refunded",
                          f"The refund amount exceeds the {left} cents not yet refunded", "amount")
    payment.amount_refunded += amount
    return _add_refund(store, payment, amount, False, fields)


def void(store, payment, reason=None):
    """A REST Pay void of a whole sale (no refunds taken yet)."""
    if payment.status == "failed" or payment.voided:
        raise LedgerError("invalid_request", "The payment cannot be voided")
    if payment.amount_refunded:
        raise LedgerError("charge_already_refunded", "The payment has refunds; refund the rest")
    payment.void_reason = reason
    return _void(store, payment, None, {})


def _void(store, payment, amount, fields):
    # Clover's plugin refuses partial voids ("Unable to process partial void"), §2.2 line 90.
    if amount is not None and amount != payment.amount:
        raise LedgerError("invalid_request", "Unable to process partial void", "amount")
    payment.voided = True
    payment.amount_refunded = payment.amount
    return _add_refund(store, payment, payment.amount, True, fields)


def _add_refund(store, payment, amount, is_void, fields):
    refund_record = Refund(ids.new_id(), payment.id, payment.merchant_id, amount,
                           payment.currency, store.now(), is_void, fields)
    store.refunds[refund_record.id] = refund_record
    payment.refund_ids.append(refund_record.id)
    _touch(store, payment)
    return refund_record


def _touch(store, payment):
    payment.modified = store.now()
    store.emit(payment.merchant_id, "P:" + payment.id, "UPDATE")


def ms(seconds):
    return int(seconds * 1000)


def fully_refunded(payment):
    return payment.voided or (payment.captured and remaining(payment) <= 0)


def charge_view(payment, switches):
    """The Ecommerce charge object (§2.4)."""
    failed = payment.status == "failed"
    view = {
        "id": payment.id,
        "object": "charge",
        "amount": payment.amount,
        "amount_captured": payment.amount_captured,
        "amount_refunded": payment.amount_refunded,
        "tax_amount": payment.tax_amount,
        "tip_amount": payment.tip_amount,
        "currency": payment.currency,
        "created": ms(payment.created),
        "captured": payment.captured,
        "paid": not failed,
        "refunded": fully_refunded(payment),
        "status": payment.status,
        "ref_num": int(payment.ref_num) if switches["ref_num_as_number"] else payment.ref_num,
        "auth_code": payment.auth_code,
        "order": payment.order_id,
        "outcome": {"network_status": "declined_by_network", "type": "issuer_declined"} if failed
        else {"network_status": "approved_by_network", "type": "authorized"},
        "source": dict(payment.card),
        "external_reference_id": payment.external_reference_id,
        "failure_code": "card_declined" if failed else None,
        "failure_message": payment.failure_message,
        "livemode": False,
    }
    view.update(payment.fields)
    return view


def refund_view(refund_record):
    view = {
        "id": refund_record.id,
        "object": "refund",
        "amount": refund_record.amount,
        "charge": refund_record.payment_id,
        "created": ms(refund_record.created),
        "currency": refund_record.currency,
        "status": "succeeded",
    }
    view.update(refund_record.fields)
    return view


def v3_refund_view(refund_record):
    return {"id": refund_record.id, "amount": refund_record.amount,
            "createdTime": ms(refund_record.created), "payment": {"id": refund_record.payment_id},
            "voided": False}


def v3_result(payment):
    if payment.status == "failed":
        return "FAIL"
    if payment.voided:
        return "VOIDED"
    return "SUCCESS" if payment.captured else "AUTH"


def v3_payment_view(store, payment):
    """The Platform v3 / REST Pay payment object (§4, §5.2)."""
    pending = payment.status == "succeeded" and not payment.captured and not payment.voided
    refunds = [store.refunds[rid] for rid in payment.refund_ids]
    view = {
        "id": payment.id,
        "order": {"id": payment.order_id},
        "amount": payment.amount,
        "tipAmount": payment.tip_amount,
        "taxAmount": payment.tax_amount,
        "cashbackAmount": 0,
        "externalPaymentId": payment.external_payment_id,
        "externalReferenceId": payment.external_reference_id,
        "employee": {"id": store.merchants[payment.merchant_id].owner["id"]},
        "tender": {"id": "CREDITCARDTND", "labelKey": "com.clover.tender.credit_card",
                   "label": "Credit Card"},
        "createdTime": ms(payment.created),
        "clientCreatedTime": ms(payment.created),
        "modifiedTime": ms(payment.modified),
        "offline": False,
        "result": v3_result(payment),
        "cardTransaction": {
            "authCode": payment.auth_code,
            "cardType": CARD_TYPES.get(payment.card["brand"], payment.card["brand"]),
            "first6": payment.card["first6"],
            "last4": payment.card["last4"],
            "entryType": "EMV_CONTACTLESS" if payment.channel == "terminal" else "KEYED",
            "referenceId": payment.ref_num,
            "transactionNo": payment.ref_num[-6:],
            "state": "PENDING" if pending else "CLOSED",
            "type": "PREAUTH" if pending else "AUTH",
        },
        "refunds": {"elements": [v3_refund_view(r) for r in refunds if not r.is_void]},
    }
    if payment.device_id:
        view["device"] = {"id": payment.device_id}
    if payment.void_reason:
        view["voidReason"] = payment.void_reason
    return view
