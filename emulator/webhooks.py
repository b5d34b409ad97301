"""App webhooks (clover-api.md §6.1): the verification POST, then firehose batches.

Deliveries happen outside store.lock, because a receiver (Odoo) typically calls back into
the emulator (GET /v3/.../payments/{id}) before answering.
"""
import json
import urllib.error
import urllib.request
import uuid

TIMEOUT = 10


def post(url, body, headers):
    """POST JSON; returns {"status": int} or {"status": None, "error": text}."""
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "Clover-Emulator-Webhooks",
                 **headers})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return {"status": response.status}
    except urllib.error.HTTPError as exc:
        return {"status": exc.code}
    except (urllib.error.URLError, OSError) as exc:
        return {"status": None, "error": str(exc)}


def _target(store):
    with store.lock:
        if not store.webhook_url:
            raise ValueError("no webhook URL configured: POST /_emulator/webhooks/config first")
        return store.webhook_url, store.app.id, store.app.webhook_auth_code


def verify(store):
    """Send {"verificationCode": uuid}; X-Clover-Auth only if the switch says so (§10)."""
    url, _app_id, auth_code = _target(store)
    code = str(uuid.uuid4())
    headers = {"X-Clover-Auth": auth_code} if store.switches["webhook_verification_auth"] else {}
    return {"verificationCode": code, **post(url, {"verificationCode": code}, headers)}


def batch_body(app_id, events):
    merchants = {}
    for event in events:
        merchants.setdefault(event["merchant_id"], []).append(
            {key: event[key] for key in ("objectId", "type", "ts")})
    return {"appId": app_id, "merchants": merchants}


def _count(value):
    """A flush option given as a boolean (all / none) or a number."""
    return int(value) if not isinstance(value, bool) else (1 if value else 0)


def flush(store, duplicate=0, drop=0):
    """Send pending events in one batch; `drop` loses the first N events (True: all),
    `duplicate` sends the batch N more times (True: once more)."""
    url, app_id, auth_code = _target(store)
    with store.lock:
        events, store.events = store.events, []
    lost = len(events) if drop is True else min(_count(drop), len(events))
    sent = events[lost:]
    if not sent:
        return {"events": len(events), "dropped": lost, "deliveries": []}
    body = batch_body(app_id, sent)
    deliveries = [post(url, body, {"X-Clover-Auth": auth_code})
                  for _ in range(1 + _count(duplicate))]
    with store.lock:
        store.counters["webhook_deliveries"] += len(deliveries)
        failed = not any(d["status"] and 200 <= d["status"] < 300 for d in deliveries)
        if failed and store.switches["webhook_requeue_failed"]:
            store.events[:0] = sent
    return {"events": len(events), "dropped": lost, "body": body, "deliveries": deliveries}
