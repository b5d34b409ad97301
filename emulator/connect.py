"""REST Pay Display, cloud flavour, under /connect/v1 (clover-api.md §5).

POST /payments and /credits block their request thread until the emulated customer acts:
a scripted outcome after a delay, a release or cancel through the API, or the caller's
X-Clover-Timeout. Every financial call is idempotent by Idempotency-Key: a replay returns the
stored outcome, and a replay of a call still in flight waits for it instead of conflicting.
"""
import time
from dataclasses import dataclass

from . import ids, ledger
from .auth import authenticate
from .cards import TERMINAL_CARD, card_summary
from .records import Device
from .web import Reply, Routes, body_fingerprint, connect_error, is_outcome, read_json, run_catching

routes = Routes()

OUTCOMES = ("approve", "decline", "cancel", "timeout")
MAX_AMOUNT = 999_999_999
VOID_REASONS = (
    "USER_CANCEL", "TRANSPORT_ERROR", "REJECT_SIGNATURE", "REJECT_PARTIAL_AUTH", "NOT_APPROVED",
    "FAILED", "AUTH_CLOSED_NEW_CARD", "DEVELOPER_PAY_PARTIAL_AUTH", "REJECT_DUPLICATE",
    "REJECT_OFFLINE", "GIFTCARD_LOAD_FAILED", "USER_GIFTCARD_LOAD_CANCEL",
    "DEVELOPER_PAY_TIP_ADJUST_FAILED", "USER_CUSTOMER_CANCEL", "FRAUD")
# §5.3: the busy body and the canceled-on-device body, verbatim from Clover's docs.
BUSY_BODY = {"message": "Conflicting request (CreateCharge) currently in progress for "
                        "operation type: FOREGROUND", "type": "RESOURCE_CONFLICT"}
CANCELED_BODY = {"code": "processing_error", "message": "The payment request was canceled",
                 "type": "api_error"}
INTERNAL_BODY = {"code": "internal_error", "message": "The emulator failed; see its log",
                 "type": "api_error"}
TIMEOUT_BODY = {"code": "device_timeout", "message": "The device did not respond in time",
                "type": "api_error"}


@dataclass
class Script:
    outcome: str
    delay: float
    hold: bool = False


@dataclass
class Operation:
    """One idempotent call; `reply` is None while it is in flight."""
    fingerprint: str
    device: Device
    generation: int
    script: Script | None = None
    forced: str | None = None
    reply: Reply | None = None


def _bad_request(message):
    return connect_error(400, "invalid_request", message)


def _unauthorized(message):
    return connect_error(401, "unauthorized", message, "authentication_error")


def _device(store, merchant_id, header):
    if not header:
        raise _bad_request("The X-Clover-Device-Id header is required")
    attribute = "serial" if store.switches["device_id_kind"] == "serial" else "id"
    for device in store.merchant_devices(merchant_id):
        if getattr(device, attribute) == header:
            return device
    raise connect_error(404, "device_not_found",
                        f"No device with {attribute} {header} for this merchant")


def _call(store, request, financial):
    """Check the headers every call needs; returns (principal, device, idempotency key)."""
    # REST Pay needs an OAuth token: an Ecommerce private key gets 401 (spec.md §7).
    caller = authenticate(store, request, _unauthorized, allow_private_key=False)
    device = _device(store, caller.merchant_id, request.headers.get("X-Clover-Device-Id"))
    if not request.headers.get("X-POS-Id"):
        raise _bad_request("The X-POS-Id header is required")
    key = request.headers.get("Idempotency-Key")
    if financial and not key:
        raise _bad_request("The Idempotency-Key header is required for this call")
    return caller, device, key


def _require_running(device):
    if not device.running:
        raise connect_error(504, "device_not_connected",
                            "Cloud Pay Display is not running on the device", "api_error")


def _body(request):
    return read_json(request, _bad_request)


def _idempotent_call(store, request, merchant_id, device, key, payload, perform):
    """Run perform(op) once per key; replays get its reply, waiting while it is in flight."""
    scope = (merchant_id, key)
    fingerprint = body_fingerprint(request, payload)
    operation = store.operations.get(scope)
    if operation is not None:
        if operation.fingerprint != fingerprint and store.switches["idempotency_mismatch"] == "error":
            raise connect_error(400, "idempotency_error",
                                "This Idempotency-Key was used with a different request")
        store.counters["idempotent_replays"] += 1
        while operation.reply is None:
            store.changed.wait()
        return operation.reply
    _require_running(device)
    if device.active is not None:
        return Reply(503, BUSY_BODY)
    operation = Operation(fingerprint, device, store.generation)
    store.operations[scope] = operation
    try:
        operation.reply = run_catching(lambda: perform(operation))
    finally:
        if operation.reply is None:  # perform() crashed: replays waiting on it must not hang
            operation.reply = Reply(500, INTERNAL_BODY)
        # A timeout or a refused request took nothing: the key may start a fresh attempt.
        if not is_outcome(operation.reply) and store.operations.get(scope) is operation:
            del store.operations[scope]
        store.changed.notify_all()
    return operation.reply


# --- blocking card operations ---------------------------------------------------------------

def _next_script(store, device):
    if device.scripts:
        return device.scripts.popleft()
    return Script(store.switches["terminal_default_outcome"],
                  store.switches["terminal_default_delay"])


def _await_customer(store, operation, client_timeout):
    """Block (releasing the lock) until the operation's outcome is known."""
    start = time.monotonic()
    script = operation.script
    decided_at = None if script.hold else start + script.delay
    give_up_at = start + client_timeout if client_timeout else None
    while operation.forced is None:
        now = time.monotonic()
        if decided_at is not None and now >= decided_at:
            return script.outcome
        if give_up_at is not None and now >= give_up_at:
            return "timeout"
        deadlines = [moment - now for moment in (decided_at, give_up_at) if moment is not None]
        store.changed.wait(min(deadlines) if deadlines else None)
    return operation.forced


def _client_timeout(request):
    value = request.headers.get("X-Clover-Timeout")
    if value is None:
        return None
    if not value.isdigit() or int(value) > 300:
        raise _bad_request("X-Clover-Timeout must be 0-300 seconds")
    return int(value) or None  # 0: the device side enforces no timeout


def _card_operation(store, operation, client_timeout, settle):
    """Hold the device for a customer; settle(outcome) builds the reply of a card outcome."""
    device = operation.device
    device.active, device.screen = operation, "payment"
    operation.script = _next_script(store, device)
    store.counters["terminal_operations"] += 1
    store.changed.notify_all()
    try:
        outcome = _await_customer(store, operation, client_timeout)
    finally:
        device.active = None
    if operation.generation != store.generation:  # the emulator was reset meanwhile
        return Reply(504, TIMEOUT_BODY)
    if outcome == "cancel":
        device.screen = "welcome"
        return Reply(209, CANCELED_BODY)
    if outcome == "timeout":
        device.screen = "welcome"
        return Reply(504, TIMEOUT_BODY)
    # The device spins on the result until told to show welcome or thank-you (§5.2 line 178).
    device.screen = "result"
    return settle(outcome)


def _declined(store, body):
    if store.switches["terminal_decline_style"] == "result_fail":
        return Reply(200, body)
    return Reply(store.switches["decline_status"],
                 {"code": "card_declined", "message": "The card was declined",
                  "type": "card_error"})


def _amounts(payload):
    amount = payload.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, int) or not 1 <= amount <= MAX_AMOUNT:
        raise _bad_request(f"amount must be an integer from 1 to {MAX_AMOUNT}")
    for name in ("taxAmount", "tipAmount"):
        value = payload.get(name, 0)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise _bad_request(f"{name} must be a non-negative integer")
    return amount


def _payment_attributes(payload):
    """(amount, Payment attributes) from a /payments body (§5.2)."""
    amount = _amounts(payload)
    final = payload.get("final", False)
    capture = payload.get("capture", True)
    if not isinstance(final, bool) or not isinstance(capture, bool):
        raise _bad_request("final and capture must be booleans")
    if "tipAmount" in payload and not final:
        raise _bad_request("tipAmount can only be sent with final=true")
    for name, limit in (("externalPaymentId", 32), ("externalReferenceId", 12)):
        value = payload.get(name)
        if value is not None and (not isinstance(value, str) or not 0 < len(value) <= limit):
            raise _bad_request(f"{name} must be a string of at most {limit} characters")
    return amount, {"captured": final or capture, "tax_amount": payload.get("taxAmount", 0),
                    "tip_amount": payload.get("tipAmount", 0),
                    "external_payment_id": payload.get("externalPaymentId"),
                    "external_reference_id": payload.get("externalReferenceId")}


def _settle_payment(store, merchant_id, device, payload):
    """Validate a /payments body; returns the settle(outcome) that records the payment."""
    amount, attributes = _payment_attributes(payload)

    def settle(outcome):
        decline = None if outcome == "approve" else ("issuer_declined", "The card was declined")
        payment = ledger.keep(store, ledger.new_payment(
            store, merchant_id, "terminal", amount, "usd", card_summary(TERMINAL_CARD),
            decline=decline, device_id=device.id, **attributes))
        body = {"payment": ledger.v3_payment_view(store, payment)}
        return Reply(200, body) if decline is None else _declined(store, body)
    return settle


def _settle_credit(store, merchant_id, device, payload):
    """Validate a /credits body; returns the settle(outcome) that answers the credit."""
    amount = _amounts(payload)

    def settle(outcome):
        card = card_summary(TERMINAL_CARD)
        credit = {"id": ids.new_id(), "amount": amount, "createdTime": store.now_ms(),
                  "result": "SUCCESS" if outcome == "approve" else "FAIL",
                  "cardTransaction": {"cardType": card["brand"], "last4": card["last4"],
                                      "first6": card["first6"], "type": "CREDIT",
                                      "state": "CLOSED", "entryType": "EMV_CONTACTLESS"}}
        return Reply(200, {"credit": credit}) if outcome == "approve" else _declined(
            store, {"credit": credit})
    return settle


def _financial_call(store, request, prepare):
    """The common path of financial calls: prepare(merchant_id, device, payload) validates the
    body and returns perform(operation), run once per Idempotency-Key."""
    payload = _body(request)
    with store.lock:
        caller, device, key = _call(store, request, financial=True)
        perform = prepare(caller.merchant_id, device, payload)
        return _idempotent_call(store, request, caller.merchant_id, device, key, payload, perform)


def _customer_call(store, request, make_settle):
    def prepare(merchant_id, device, payload):
        settle = make_settle(store, merchant_id, device, payload)
        timeout = _client_timeout(request)
        return lambda operation: _card_operation(store, operation, timeout, settle)
    return _financial_call(store, request, prepare)


@routes("/connect/v1/payments", "POST")
def create_payment(store, request):
    return _customer_call(store, request, _settle_payment)


@routes("/connect/v1/credits", "POST")
def create_credit(store, request):
    return _customer_call(store, request, _settle_credit)


# --- refunds and voids (no customer needed, but the device must be idle) ------------------

def _terminal_payment(store, merchant_id, payment_id):
    payment = store.payments.get(payment_id)
    if payment is None or payment.merchant_id != merchant_id or payment.channel != "terminal":
        raise connect_error(404, "not_found", f"No such payment: {payment_id}")
    return payment


def _ledger_call(action):
    try:
        return action()
    except ledger.LedgerError as exc:
        raise connect_error(400, exc.code, exc.message) from None


def _refund_reply(store, payment, record):
    return Reply(200, {"id": record.id, "refund": ledger.v3_refund_view(record),
                       "payment": ledger.v3_payment_view(store, payment)})


def _refund(store, merchant_id, payment_id, payload):
    payment = _terminal_payment(store, merchant_id, payment_id)
    amount = None
    if payload.get("fullRefund") is not True:
        amount = payload.get("amount")
        if isinstance(amount, bool) or not isinstance(amount, int) or not 1 <= amount <= MAX_AMOUNT:
            raise _bad_request("Send amount (1-999999999) or fullRefund: true")
    record = _ledger_call(lambda: ledger.refund(store, payment, amount))
    return _refund_reply(store, payment, record)


@routes("/connect/v1/payments/<payment_id>/refunds", "POST")
def refund_payment(store, request, payment_id):
    return _financial_call(store, request, lambda merchant_id, _device, payload: (
        lambda _operation: _refund(store, merchant_id, payment_id, payload)))


def _void(store, merchant_id, payment_id, payload):
    payment = _terminal_payment(store, merchant_id, payment_id)
    reason = payload.get("voidReason")
    if reason is not None and reason not in VOID_REASONS:
        raise _bad_request(f"voidReason must be one of {', '.join(VOID_REASONS)}")
    if store.now() - payment.created > store.switches["void_window"]:
        # Past the window the sale went to funding: the void becomes a refund (§5.2 line 174).
        record = _ledger_call(lambda: ledger.refund(store, payment))
        return _refund_reply(store, payment, record)
    _ledger_call(lambda: ledger.void(store, payment, reason))
    return Reply(200, {"voidReason": reason, "voidStatus": "SENT_TO_SERVER",
                       "payment": ledger.v3_payment_view(store, payment)})


@routes("/connect/v1/payments/<payment_id>/void", "POST")
def void_payment(store, request, payment_id):
    return _financial_call(store, request, lambda merchant_id, _device, payload: (
        lambda _operation: _void(store, merchant_id, payment_id, payload)))


# --- device screens ------------------------------------------------------------------------

def interrupt(store, device):
    """End whatever holds the screen as a customer cancel (209), then show welcome."""
    if device.active is not None:
        device.active.forced = "cancel"
    device.screen, device.message = "welcome", None
    store.changed.notify_all()


def _screen_call(store, request):
    caller, device, _key = _call(store, request, financial=False)
    _require_running(device)
    return device


def _show(store, request, screen, message=None):
    with store.lock:
        device = _screen_call(store, request)
        if device.active is not None:
            return Reply(503, BUSY_BODY)
        device.screen, device.message = screen, message
        return Reply(200, {})


@routes("/connect/v1/device/ping", "POST")
def ping(store, request):
    with store.lock:
        _screen_call(store, request)
        return Reply(200, {"connected": True})


@routes("/connect/v1/device/welcome", "POST")
def welcome(store, request):
    return _show(store, request, "welcome")


@routes("/connect/v1/device/<screen>", "POST")
def thank_you(store, request, screen):
    # The exact thank-you path is undocumented (§10): it is whatever the switch names.
    if screen != store.switches["thank_you_path"]:
        raise connect_error(404, "not_found", f"No device action {screen}")
    return _show(store, request, "thank-you")


@routes("/connect/v1/device/display", "POST")
def display(store, request):
    payload = _body(request)
    if not isinstance(payload.get("text"), str) or not payload["text"]:
        raise _bad_request("text is required")
    return _show(store, request, "message", payload["text"])


@routes("/connect/v1/device/cancel", "POST")
def cancel(store, request):
    with store.lock:
        interrupt(store, _screen_call(store, request))
        return Reply(200, {})


@routes("/connect/v1/device/reset", "PUT")
def reset(store, request):
    with store.lock:
        interrupt(store, _screen_call(store, request))
        return Reply(200, {})
