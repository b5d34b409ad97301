"""Replies, per-surface error envelopes and route registration.

Clover's surfaces do not share an error format (clover-api.md §2.5, §5.3, §1.3), so every
error is built by the factory of the surface that raises it.
"""
import json

from werkzeug.routing import Rule
from werkzeug.wrappers import Response


class Reply:
    """A JSON answer that can be stored (idempotency) and replayed byte for byte."""

    def __init__(self, status, body):
        self.status = status
        self.body = body

    def to_response(self):
        return Response(json.dumps(self.body), status=self.status, mimetype="application/json")


class ApiError(Exception):
    def __init__(self, reply):
        super().__init__(reply.body)
        self.reply = reply


def run_catching(produce):
    """produce()'s Reply, or the Reply of the ApiError it raised (to store as an outcome)."""
    try:
        return produce()
    except ApiError as exc:
        return exc.reply


def is_outcome(reply):
    """Whether a reply records something that happened, to keep for idempotent replays: a
    success, a customer cancel (209) or a card decline. A refused request (validation, auth,
    throttling, server error) is not kept, so a corrected retry may reuse its key, as Stripe
    does; Clover documents no rule (§10 line 256)."""
    body = reply.body if isinstance(reply.body, dict) else {}
    error = body.get("error", body)
    return reply.status < 300 or (isinstance(error, dict) and error.get("type") == "card_error")


def ecommerce_error(status, type_, message, code=None, **extra):
    """Ecommerce/tokenization envelope {"error": {type, code, message, param?, ...}} (§2.5)."""
    error = {"type": type_, "message": message}
    if code:
        error["code"] = code
    error.update({key: value for key, value in extra.items() if value is not None})
    return ApiError(Reply(status, {"error": error}))


def invalid_request(message, param=None, code="invalid_request", status=400):
    return ecommerce_error(status, "invalid_request_error", message, code, param=param)


def connect_error(status, code, message, type_="invalid_request_error"):
    """REST Pay Display bodies are flat: {code, message, type} (§5.3)."""
    return ApiError(Reply(status, {"code": code, "message": message, "type": type_}))


def platform_error(status, message):
    return ApiError(Reply(status, {"message": message}))


def oauth_error(status, message, reason="Unauthorized"):
    # Shape observed from /oauth/v2/token: {"status": "Unauthorized", "message": "..."}.
    return ApiError(Reply(status, {"status": reason, "message": message}))


def surface_error(path, status, message):
    """An error in the envelope of whichever surface `path` belongs to (faults, 429s)."""
    if path.startswith(("/v1/", "/pakms/")):
        kind = "rate_limit_error" if status == 429 else "api_error"
        code = "rate_limit" if status == 429 else "processing_error"
        return ecommerce_error(status, kind, message, code)
    if path.startswith("/connect/"):
        return connect_error(status, "rate_limit" if status == 429 else "processing_error",
                             message, "api_error")
    return platform_error(status, message)


def read_json(request, error):
    """The request body as a JSON object; an empty body is {}; anything else raises error()."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise error("The request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise error("The request body must be a JSON object")
    return body


def body_fingerprint(request, body):
    """What must match for an idempotent replay: the call and its body, key order ignored."""
    return f"{request.method} {request.path} {json.dumps(body, sort_keys=True)}"


class Routes:
    """Collects werkzeug rules whose endpoints are the handler functions themselves."""

    def __init__(self):
        self.rules = []

    def __call__(self, path, *methods):
        def register(handler):
            self.rules.append(Rule(path, methods=list(methods), endpoint=handler))
            return handler
        return register
