"""OAuth v2 and legacy v1 (clover-api.md §1, checklist §9.1)."""
import time
from urllib.parse import parse_qs, urlsplit

import requests

REDIRECT = "https://odoo.example.com/payment/clover/oauth/callback?keep=1"


def _authorize(emu, identity, path="/oauth/v2/authorize", **extra):
    params = {"client_id": identity["app_id"], "redirect_uri": REDIRECT, "state": "s1", **extra}
    return requests.get(emu.base_url + path, params=params, allow_redirects=False, timeout=10)


def _approve(emu, identity, path="/oauth/v2/authorize"):
    form = {"client_id": identity["app_id"], "redirect_uri": REDIRECT, "state": "s1",
            "merchant_id": identity["merchant_id"], "authorize": "1"}
    response = requests.post(emu.base_url + path, data=form, allow_redirects=False, timeout=10)
    assert response.status_code == 302
    return response.headers["Location"]


def _query(location):
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


def _exchange(emu, identity, code, query=""):
    body = {"client_id": identity["app_id"], "client_secret": identity["app_secret"], "code": code}
    return requests.post(f"{emu.base_url}/oauth/v2/token{query}", json=body, timeout=10)


def _refresh(emu, identity, refresh_token):
    return requests.post(emu.base_url + "/oauth/v2/refresh", timeout=10,
                         json={"client_id": identity["app_id"], "refresh_token": refresh_token})


def _merchant_call(emu, identity, token):
    return requests.get(f"{emu.base_url}/v3/merchants/{identity['merchant_id']}", timeout=10,
                        headers={"Authorization": f"Bearer {token}"})


def test_authorize_page_names_merchant_and_app_with_an_authorize_form(emu, identity):
    response = _authorize(emu, identity)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    page = response.text
    assert identity["merchant_name"] in page and "Fusion Clover for Odoo" in page
    assert "<form method='post'" in page and ">Authorize</button>" in page


def test_authorize_redirects_with_code_merchant_client_employee_and_state(emu, identity):
    location = _approve(emu, identity)
    assert location.startswith("https://odoo.example.com/payment/clover/oauth/callback?")
    query = _query(location)
    assert query["keep"] == "1"  # the redirect_uri's own query survives
    assert query["merchant_id"] == identity["merchant_id"]
    assert query["client_id"] == identity["app_id"]
    assert query["state"] == "s1"
    assert query["employee_id"] and query["code"]


def test_auto_approve_redirects_at_once(emu, control, identity):
    control.configure(auto_approve=True)
    response = _authorize(emu, identity)
    assert response.status_code == 302
    assert _query(response.headers["Location"])["code"]


def test_authorize_refuses_an_unknown_app(emu, identity):
    response = _authorize(emu, identity, client_id="NOSUCHAPP0000")
    assert response.status_code == 400 and "Unknown client_id" in response.text


def test_token_exchange_returns_unix_second_expirations(emu, control, identity):
    code = _query(_approve(emu, identity))["code"]
    before = int(time.time())
    response = _exchange(emu, identity, code)
    assert response.status_code == 200
    tokens = response.json()
    assert set(tokens) == {"access_token", "access_token_expiration", "refresh_token",
                           "refresh_token_expiration"}
    assert before + 1800 <= tokens["access_token_expiration"] <= before + 1802
    assert before + 365 * 86400 <= tokens["refresh_token_expiration"] <= before + 365 * 86400 + 2
    assert control.counters()["token_exchanges"] == 1


def test_codes_are_single_use(emu, identity):
    code = _query(_approve(emu, identity))["code"]
    assert _exchange(emu, identity, code).status_code == 200
    assert _exchange(emu, identity, code).status_code == 401


def test_no_refresh_token_query(emu, control, identity):
    response = _exchange(emu, identity, control.oauth_code(), "?no_refresh_token=true")
    assert set(response.json()) == {"access_token", "access_token_expiration"}


def test_wrong_client_secret_is_401(emu, control, identity):
    body = {"client_id": identity["app_id"], "client_secret": "wrong", "code": control.oauth_code()}
    assert requests.post(emu.base_url + "/oauth/v2/token", json=body, timeout=10).status_code == 401


def test_v1_code_is_refused_at_v2_then_accepted_by_the_legacy_exchange(emu, control, identity):
    location = _approve(emu, identity, path="/oauth/authorize")
    code = _query(location)["code"]
    refused = _exchange(emu, identity, code)
    assert refused.status_code == 401
    assert refused.json() == {"status": "Unauthorized",
                              "message": "Failed to validate authentication code."}
    legacy = requests.get(emu.base_url + "/oauth/token", timeout=10, params={
        "client_id": identity["app_id"], "client_secret": identity["app_secret"], "code": code})
    assert legacy.status_code == 200
    assert list(legacy.json()) == ["access_token"]
    # Legacy tokens never expire.
    control.advance_clock(10 * 365 * 86400)
    assert _merchant_call(emu, identity, legacy.json()["access_token"]).status_code == 200


def test_refresh_rotates_and_a_reused_refresh_token_is_401(emu, control, identity):
    first = control.issue_tokens()
    second = _refresh(emu, identity, first["refresh_token"])
    assert second.status_code == 200
    rotated = second.json()
    assert rotated["refresh_token"] != first["refresh_token"]
    assert rotated["access_token"] != first["access_token"]
    assert _refresh(emu, identity, first["refresh_token"]).status_code == 401
    assert _refresh(emu, identity, rotated["refresh_token"]).status_code == 200
    assert control.counters()["refreshes"] == 2


def test_refresh_needs_the_right_client_id(emu, control, identity):
    tokens = control.issue_tokens()
    response = requests.post(emu.base_url + "/oauth/v2/refresh", timeout=10,
                             json={"client_id": "OTHERAPP00000", "refresh_token": tokens["refresh_token"]})
    assert response.status_code == 401


def test_refresh_token_cap_invalidates_the_oldest(emu, control, identity):
    control.configure(refresh_token_cap=2)
    oldest, middle, newest = (control.issue_tokens()["refresh_token"] for _ in range(3))
    assert _refresh(emu, identity, oldest).status_code == 401
    assert _refresh(emu, identity, middle).status_code == 200
    assert _refresh(emu, identity, newest).status_code == 200


def test_refresh_token_expires(emu, control, identity):
    control.configure(refresh_token_ttl=100)
    tokens = control.issue_tokens()
    control.advance_clock(101)
    assert _refresh(emu, identity, tokens["refresh_token"]).status_code == 401


def test_access_token_lifetime_switch_and_expiry(emu, control, identity):
    control.configure(access_token_ttl=60)
    tokens = control.issue_tokens()
    assert tokens["access_token_expiration"] - time.time() <= 61
    assert _merchant_call(emu, identity, tokens["access_token"]).status_code == 200
    control.advance_clock(61)
    assert _merchant_call(emu, identity, tokens["access_token"]).status_code == 401


def test_expire_one_access_token_now(emu, control, identity):
    doomed, kept = control.issue_tokens(), control.issue_tokens()
    assert control.expire_tokens(doomed["access_token"]) == {"expired": 1}
    assert _merchant_call(emu, identity, doomed["access_token"]).status_code == 401
    assert _merchant_call(emu, identity, kept["access_token"]).status_code == 200
    control.expire_tokens()
    assert _merchant_call(emu, identity, kept["access_token"]).status_code == 401


def test_revoked_permissions_make_every_surface_401(clover, control):
    charge = clover.paid_charge()
    control.revoke_permissions()
    assert clover.v3("").status_code == 401
    assert clover.call("GET", f"/v1/charges/{charge['id']}").status_code == 401
    assert clover.terminal("POST", "/device/ping").status_code == 401
    control.revoke_permissions(revoked=False)
    assert clover.v3("").status_code == 200
