"""The control API under /_emulator/: JSON in, JSON out, mirrored by EmulatorClient."""
import fnmatch
import time
from dataclasses import asdict, dataclass

from . import oauth, seed, webhooks
from .connect import OUTCOMES, Script
from .switches import parse_switches
from .web import ApiError, Reply, Routes, read_json

routes = Routes()


@dataclass
class Fault:
    path: str  # exact path or a glob such as /v1/charges*
    method: str | None = None
    status: int | None = None
    body: object | None = None
    delay: float = 0.0
    drop: bool = False
    after: bool = False  # act after the handler ran (its effects stay), not before
    count: int = 1

    def matches(self, method, path):
        return (self.method is None or self.method.upper() == method) and (
            path == self.path or fnmatch.fnmatchcase(path, self.path))


def _flag(value):
    # GET query strings carry "false" as text.
    return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes", "on")


def _error(message, status=400):
    return ApiError(Reply(status, {"error": message}))


def _payload(request):
    return read_json(request, _error)


def _merchant(store, payload):
    merchant = store.merchant(payload.get("merchant_id"))
    if merchant is None:
        raise _error(f"unknown merchant {payload.get('merchant_id')}", 404)
    return merchant


def _device(store, reference):
    for device in store.devices.values():
        if reference in (device.id, device.serial):
            return device
    raise _error(f"unknown device {reference!r} (give its id or serial)", 404)


@routes("/_emulator/reset", "POST")
def reset(store, request):
    store.reset()
    return Reply(200, {"ok": True})


@routes("/_emulator/state", "GET")
def state(store, request):
    with store.lock:
        return Reply(200, store.identity())


@routes("/_emulator/merchants", "POST")
def add_merchant(store, request):
    payload = _payload(request)
    with store.lock:
        merchant = seed.add_merchant(store, payload.get("name") or "Second Test Merchant",
                                     payload.get("address"), int(payload.get("devices", 1)))
        return Reply(200, store.merchant_identity(merchant))


@routes("/_emulator/config", "GET", "POST")
def config(store, request):
    payload = _payload(request) if request.method == "POST" else {}
    with store.lock:
        try:
            store.switches.update(parse_switches(payload))
        except ValueError as exc:
            raise _error(str(exc)) from None
        return Reply(200, dict(store.switches))


@routes("/_emulator/oauth/issue", "POST")
def issue_tokens(store, request):
    payload = _payload(request)
    with store.lock:
        merchant = _merchant(store, payload)
        return Reply(200, oauth.issue_tokens(store, merchant.id, store.app.id,
                                             not payload.get("no_refresh_token", False)))


@routes("/_emulator/oauth/codes", "POST")
def issue_code(store, request):
    payload = _payload(request)
    with store.lock:
        merchant = _merchant(store, payload)
        code = oauth.issue_code(store, merchant.id, store.app.id, bool(payload.get("legacy")))
        return Reply(200, {"code": code, "merchant_id": merchant.id})


@routes("/_emulator/oauth/expire", "POST")
def expire_tokens(store, request):
    payload = _payload(request)
    with store.lock:
        return Reply(200, {"expired": oauth.expire_access_tokens(store, payload.get("access_token"))})


@routes("/_emulator/permissions", "POST")
def permissions(store, request):
    payload = _payload(request)
    with store.lock:
        merchant = _merchant(store, payload)
        merchant.revoked = bool(payload.get("revoked", True))
        return Reply(200, {"merchant_id": merchant.id, "revoked": merchant.revoked})


@routes("/_emulator/faults", "GET", "POST", "DELETE")
def faults(store, request):
    payload = _payload(request) if request.method == "POST" else {}
    with store.lock:
        if request.method == "DELETE":
            store.faults.clear()
        elif request.method == "POST":
            try:
                store.faults.append(Fault(**payload))
            except TypeError as exc:
                raise _error(f"bad fault: {exc}") from None
        return Reply(200, {"faults": [asdict(fault) for fault in store.faults]})


def take_fault(store, method, path):
    """The first queued fault for this call, used up by one; None if there is none."""
    with store.lock:
        for fault in store.faults:
            if fault.matches(method, path):
                fault.count -= 1
                if fault.count <= 0:
                    store.faults.remove(fault)
                store.counters["faults_applied"] += 1
                return fault
    return None


@routes("/_emulator/counters", "GET")
def counters(store, request):
    with store.lock:
        return Reply(200, {name: dict(value) if isinstance(value, dict) else value
                           for name, value in store.counters.items()})


@routes("/_emulator/requests", "GET", "DELETE")
def requests_log(store, request):
    with store.lock:
        if request.method == "DELETE":
            store.requests.clear()
        path, method = request.args.get("path"), request.args.get("method")
        entries = [entry for entry in store.requests
                   if (path is None or fnmatch.fnmatchcase(entry["path"], path))
                   and (method is None or entry["method"] == method.upper())]
        return Reply(200, {"requests": entries})


@routes("/_emulator/terminal/outcome", "POST")
def terminal_outcome(store, request):
    payload = _payload(request)
    if payload.get("outcome") not in OUTCOMES:
        raise _error(f"outcome must be one of {', '.join(OUTCOMES)}")
    with store.lock:
        device = _device(store, payload.get("device"))
        device.scripts.append(Script(payload["outcome"], float(payload.get("delay") or 0),
                                     bool(payload.get("hold"))))
        return Reply(200, _terminal_view(device))


@routes("/_emulator/terminal/release", "POST")
def terminal_release(store, request):
    """End the device's blocked call now; waits up to `wait` s for one to arrive."""
    payload = _payload(request)
    outcome = payload.get("outcome")
    if outcome is not None and outcome not in OUTCOMES:
        raise _error(f"outcome must be one of {', '.join(OUTCOMES)}")
    deadline = time.monotonic() + float(payload.get("wait", 5))
    with store.lock:
        device = _device(store, payload.get("device"))
        while device.active is None and time.monotonic() < deadline:
            store.changed.wait(deadline - time.monotonic())
        operation = device.active
        if operation is None:
            return Reply(200, {"released": False})
        operation.forced = outcome or operation.script.outcome
        store.changed.notify_all()
        return Reply(200, {"released": True, "outcome": operation.forced})


def _terminal_view(device):
    return {"device": device.id, "serial": device.serial, "running": device.running,
            "busy": device.active is not None, "screen": device.screen, "message": device.message,
            "scripted": [asdict(script) for script in device.scripts]}


@routes("/_emulator/terminal/state", "GET", "POST")
def terminal_state(store, request):
    payload = _payload(request) if request.method == "POST" else dict(request.args)
    with store.lock:
        device = _device(store, payload.get("device"))
        if "running" in payload:
            device.running = _flag(payload["running"])
            if not device.running and device.active is not None:
                # The app died under a blocked payment: the cloud stops hearing from it.
                device.active.forced = "timeout"
                store.changed.notify_all()
        return Reply(200, _terminal_view(device))


@routes("/_emulator/clock", "GET", "POST")
def clock(store, request):
    payload = _payload(request) if request.method == "POST" else {}
    with store.lock:
        store.clock_offset += float(payload.get("advance", 0))
        return Reply(200, {"now": store.now(), "offset": store.clock_offset})


@routes("/_emulator/webhooks", "GET")
def webhook_state(store, request):
    with store.lock:
        return Reply(200, {"url": store.webhook_url, "auth_code": store.app.webhook_auth_code,
                           "pending": list(store.events)})


@routes("/_emulator/webhooks/config", "POST")
def webhook_config(store, request):
    payload = _payload(request)
    with store.lock:
        store.webhook_url = payload.get("url")
        if payload.get("auth_code"):
            store.app.webhook_auth_code = payload["auth_code"]
        return Reply(200, {"url": store.webhook_url, "auth_code": store.app.webhook_auth_code})


def _webhook_call(action):
    try:
        return Reply(200, action())
    except ValueError as exc:
        raise _error(str(exc), 409) from None


@routes("/_emulator/webhooks/verify", "POST")
def webhook_verify(store, request):
    return _webhook_call(lambda: webhooks.verify(store))


@routes("/_emulator/webhooks/flush", "POST")
def webhook_flush(store, request):
    payload = _payload(request)
    return _webhook_call(lambda: webhooks.flush(store, payload.get("duplicate", 0),
                                                payload.get("drop", 0)))
