"""OAuth v2 (authorize page, token, single-use rotating refresh) and legacy v1 (§1).

Callers of issue_code/issue_tokens hold store.lock.
"""
import html
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from werkzeug.wrappers import Response

from . import ids
from .records import AccessToken, AuthCode, RefreshToken
from .web import Reply, Routes, oauth_error, read_json

routes = Routes()

# The only /oauth/v2/token error body seen in public material (a sandbox 401).
BAD_CODE_MESSAGE = "Failed to validate authentication code."


def issue_code(store, merchant_id, app_id, legacy=False):
    code = AuthCode(ids.new_secret("", 32), merchant_id, app_id, legacy)
    store.codes[code.code] = code
    return code.code


def issue_tokens(store, merchant_id, app_id, with_refresh=True):
    """A token response with Unix-second expirations (§1.1 line 46)."""
    now = store.now()
    access = AccessToken(ids.new_secret("", 48), merchant_id, app_id,
                         int(now) + store.switches["access_token_ttl"])
    store.access_tokens[access.token] = access
    body = {"access_token": access.token, "access_token_expiration": access.expires}
    if with_refresh:
        refresh = RefreshToken(ids.new_secret("", 48), merchant_id, app_id,
                               int(now) + store.switches["refresh_token_ttl"])
        store.refresh_tokens[refresh.token] = refresh
        _enforce_refresh_cap(store, merchant_id, app_id)
        body.update(refresh_token=refresh.token, refresh_token_expiration=refresh.expires)
    return body


def _enforce_refresh_cap(store, merchant_id, app_id):
    # Exceeding the cap invalidates the oldest tokens (§1.1 line 47); dicts keep issue order.
    active = [token for token in store.refresh_tokens.values()
              if token.active and token.merchant_id == merchant_id and token.app_id == app_id]
    for token in active[:max(0, len(active) - store.switches["refresh_token_cap"])]:
        token.active = False


def expire_access_tokens(store, token=None):
    """Expire one access token, or every expiring one, as of now; returns how many."""
    past = store.now() - 1
    if token is not None:
        targets = [store.access_tokens[token]] if token in store.access_tokens else []
    else:
        targets = [t for t in store.access_tokens.values() if t.expires is not None]
    for record in targets:
        record.expires = past
    return len(targets)


# --- authorize page -------------------------------------------------------------------------

class _PageError(Exception):
    pass


def _page(status, title, content):
    document = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>"
        "body{font-family:sans-serif;background:#f4f6f4;margin:0}"
        ".card{max-width:28rem;margin:4rem auto;background:#fff;padding:2rem;"
        "border-radius:8px;box-shadow:0 1px 4px #0002}"
        "h1{color:#228800;font-size:1.3rem}button{background:#228800;color:#fff;border:0;"
        "padding:.7rem 1.6rem;border-radius:4px;font-size:1rem;cursor:pointer}"
        "select{font-size:1rem;margin:.5rem 0 1rem}</style></head>"
        f"<body><div class='card'>{content}</div></body></html>")
    return Response(document, status=status, mimetype="text/html")


def _authorization(store, params):
    """Validate an authorize request; returns (app, merchant)."""
    app = store.apps.get(params.get("client_id", ""))
    if app is None:
        raise _PageError("Unknown client_id: no such app.")
    if not params.get("redirect_uri"):
        raise _PageError("redirect_uri is required.")
    merchant = store.merchant(params.get("merchant_id"))
    if merchant is None:
        raise _PageError("Unknown merchant_id.")
    return app, merchant


def _callback_url(store, params, app, merchant, legacy):
    query = {"merchant_id": merchant.id, "client_id": app.id,
             "code": issue_code(store, merchant.id, app.id, legacy)}
    if store.switches["callback_employee_id"]:
        query["employee_id"] = merchant.owner["id"]
    if params.get("state"):
        query["state"] = params["state"]
    parts = urlsplit(params["redirect_uri"])
    merged = parse_qsl(parts.query, keep_blank_values=True) + list(query.items())
    return urlunsplit(parts._replace(query=urlencode(merged)))


def _authorize_form(request, store, app, merchant):
    hidden = "".join(
        f"<input type='hidden' name='{name}' value='{html.escape(request.args.get(name, ''))}'>"
        for name in ("client_id", "redirect_uri", "state"))
    options = "".join(
        f"<option value='{m.id}'{' selected' if m.id == merchant.id else ''}>"
        f"{html.escape(m.name)} ({m.id})</option>" for m in store.merchants.values())
    return _page(200, "Authorize app", (
        f"<h1>Authorize {html.escape(app.name)}</h1>"
        f"<p><b>{html.escape(app.name)}</b> asks to access your Clover merchant account "
        f"<b id='merchant-name'>{html.escape(merchant.name)}</b>: payments, devices and "
        "merchant details.</p>"
        f"<form method='post' action='{html.escape(request.path)}'>{hidden}"
        f"<label>Merchant<br><select name='merchant_id'>{options}</select></label><br>"
        "<button type='submit' name='authorize' value='1'>Authorize</button></form>"
        "<p><small>Local Clover emulator: no real account is involved.</small></p>"))


def _authorize(store, request, legacy):
    params = request.args if request.method == "GET" else request.form
    with store.lock:
        try:
            app, merchant = _authorization(store, params)
        except _PageError as exc:
            return _page(400, "Authorization error", f"<h1>Error</h1><p>{html.escape(str(exc))}</p>")
        if request.method == "GET" and not store.switches["auto_approve"]:
            return _authorize_form(request, store, app, merchant)
        location = _callback_url(store, params, app, merchant, legacy)
    return Response(status=302, headers={"Location": location})


@routes("/oauth/v2/authorize", "GET", "POST")
def authorize_v2(store, request):
    return _authorize(store, request, legacy=False)


@routes("/oauth/authorize", "GET", "POST")
def authorize_v1(store, request):
    return _authorize(store, request, legacy=True)


# --- token endpoints --------------------------------------------------------------------------

def _bad_request(message):
    return oauth_error(400, message, "Bad Request")


def _client(store, client_id, client_secret):
    app = store.apps.get(client_id or "")
    if app is None or (client_secret is not None and client_secret != app.secret):
        raise oauth_error(401, "Invalid client credentials")
    return app


def _redeem(store, app, code_value, allow_legacy):
    code = store.codes.get(code_value or "")
    # A v1 code stays unused when refused here, so the legacy exchange can still take it.
    if code is None or code.used or code.app_id != app.id or (code.legacy and not allow_legacy):
        raise oauth_error(401, BAD_CODE_MESSAGE)
    code.used = True
    store.counters["token_exchanges"] += 1
    return code


@routes("/oauth/v2/token", "POST")
def token_v2(store, request):
    body = read_json(request, _bad_request)
    with store.lock:
        app = _client(store, body.get("client_id"), body.get("client_secret") or "")
        code = _redeem(store, app, body.get("code"), allow_legacy=False)
        with_refresh = request.args.get("no_refresh_token", "").lower() != "true"
        return Reply(200, issue_tokens(store, code.merchant_id, app.id, with_refresh))


@routes("/oauth/v2/refresh", "POST")
def refresh_v2(store, request):
    body = read_json(request, _bad_request)
    with store.lock:
        app = _client(store, body.get("client_id"), None)
        token = store.refresh_tokens.get(body.get("refresh_token") or "")
        if (token is None or not token.active or token.app_id != app.id
                or token.expires <= store.now()):
            raise oauth_error(401, "Invalid refresh token")
        # Single use: the presented token dies now, whatever happens next (§1.1 line 47).
        token.active = False
        store.counters["refreshes"] += 1
        return Reply(200, issue_tokens(store, token.merchant_id, app.id))


@routes("/oauth/token", "GET", "POST")
def token_v1(store, request):
    """Legacy exchange: query or form parameters, a token that never expires (§1.2)."""
    params = request.values
    with store.lock:
        app = _client(store, params.get("client_id"), params.get("client_secret") or "")
        code = _redeem(store, app, params.get("code"), allow_legacy=True)
        token = AccessToken(ids.new_secret("", 36), code.merchant_id, app.id, None)
        store.access_tokens[token.token] = token
        return Reply(200, {"access_token": token.token})
