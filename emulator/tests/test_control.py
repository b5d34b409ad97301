"""The control API: reset, switches, faults, counters, recorded requests, merchants, clock."""
import json
import re
import time
from pathlib import Path

import pytest
import requests

from emulator import SWITCHES, EmulatorClient, running_emulator
from emulator.switches import defaults, parse_switches
from emulator.tests.helpers import error_of

README = Path(__file__).resolve().parents[1] / "README.md"


def test_state_has_the_seeded_identities(identity):
    assert identity["app_id"] == "FVSNAPP000001"
    assert identity["merchant_id"] == "FVSNMERCHANT1"
    assert identity["merchant_name"] == "Emulated Health Supply"
    assert identity["private_key"] and identity["pakms_key"] and identity["webhook_auth_code"]
    assert [d["serial"] for d in identity["devices"]] == ["C045UQ20000001", "C043UQ20000002"]
    assert set(identity["devices"][0]) == {"id", "serial", "name", "model"}


def test_reset_restores_state_counters_and_switches(clover, control, identity):
    charge = clover.paid_charge()
    control.configure(decline_status=400)
    control.reset()
    assert control.config()["decline_status"] == 402
    assert control.counters()["charges_created"] == 0
    assert control.state() == identity
    fresh = control.issue_tokens()["access_token"]
    assert clover.call("GET", f"/v1/charges/{charge['id']}", token=fresh).status_code == 404


def test_config_reads_and_merges(control):
    assert control.config() == defaults()
    merged = control.configure(velocity_limit="on", surcharge_rate="0.04")
    assert (merged["velocity_limit"], merged["surcharge_rate"]) == (8, 0.04)
    assert merged["decline_status"] == 402


@pytest.mark.parametrize("switches", [{"no_such_switch": 1}, {"device_id_kind": "mac"},
                                      {"decline_status": "many"}, {"auto_approve": "maybe"}])
def test_bad_switches_are_refused(control, switches):
    with pytest.raises(requests.HTTPError) as raised:
        control.configure(**switches)
    assert raised.value.response.status_code == 400


def test_parse_switches_types():
    assert parse_switches({"velocity_limit": True, "auto_approve": "1", "void_window": "60"}) == {
        "velocity_limit": 8, "auto_approve": True, "void_window": 60}
    assert parse_switches({"velocity_limit": "off"}) == {"velocity_limit": 0}


def test_startup_switches_survive_reset_and_instances_are_independent():
    with running_emulator(decline_status=400, auto_approve=True) as emu:
        emu.control.reset()
        config = emu.control.config()
        assert (config["decline_status"], config["auto_approve"]) == (400, True)
        assert emu.base_url.startswith("http://127.0.0.1:")


def test_readme_lists_every_switch_with_its_default_and_source():
    text = README.read_text(encoding="utf-8")
    rows = {match[1]: match[0] for match in re.finditer(r"^\| `(\w+)` \|.*$", text, re.MULTILINE)}
    assert set(rows) == set(SWITCHES)
    for name, switch in SWITCHES.items():
        assert f"`{json.dumps(switch.default)}`" in rows[name], name
        assert switch.source in rows[name], name


def test_add_merchant(clover, control):
    other = control.add_merchant("Second Pharmacy", devices=1)
    assert other["merchant_name"] == "Second Pharmacy" and len(other["merchant_id"]) == 13
    assert len(other["devices"]) == 1
    assert other["merchant_id"] in [m["merchant_id"] for m in control.state()["merchants"]]
    tokens = control.issue_tokens(merchant_id=other["merchant_id"])
    merchant = clover.call("GET", f"/v3/merchants/{other['merchant_id']}", token=tokens["access_token"])
    assert merchant.json()["name"] == "Second Pharmacy"


def test_unknown_merchant_is_404(control):
    with pytest.raises(requests.HTTPError) as raised:
        control.issue_tokens(merchant_id="NOSUCHMERCHT1")
    assert raised.value.response.status_code == 404


def test_clock(control):
    before = control.advance_clock(0)["now"]
    after = control.advance_clock(3600)
    assert after["offset"] == 3600 and after["now"] - before >= 3600


def test_counters_and_recorded_requests(clover, control, key):
    charge = clover.paid_charge(key=key)
    clover.call("POST", f"/v1/charges/{charge['id']}/capture", {}, headers={"x-forwarded-for": "9.9.9.9"})
    counters = control.counters()
    assert counters["calls"]["POST /v1/charges"] == 1
    assert counters["routes"]["POST /v1/charges/<charge_id>/capture"] == 1
    assert counters["charges_by_idempotency_key"] == {key: 1}
    [entry] = control.requests(path="/v1/charges")
    assert entry["method"] == "POST" and entry["status"] == 200
    assert entry["headers"]["x-forwarded-for"] == "203.0.113.7"
    assert entry["headers"]["idempotency-key"] == key
    assert entry["json"]["amount"] == 1000 and entry["json"]["source"].startswith("clv_")
    assert len(control.requests(path="/v1/charges*")) == 2
    assert control.requests(method="GET") == []
    assert all(not e["path"].startswith("/_emulator/") for e in control.requests())
    control.clear_requests()
    assert control.requests() == []


def test_injected_status_once_in_the_surface_envelope(clover, control):
    control.add_fault("/v1/charges", method="POST", status=503)
    failed = clover.charge()
    assert failed.status_code == 503
    assert error_of(failed)["type"] == "api_error"
    assert clover.charge().status_code == 200
    assert control.counters()["faults_applied"] == 1
    assert control.faults() == []


def test_injected_429_and_custom_body(clover, control):
    control.add_fault("/v1/refunds", status=429)
    control.add_fault("/v3/*", status=502, body={"message": "Bad Gateway"})
    throttled = clover.refund({"charge": "X"})
    assert (error_of(throttled)["type"], error_of(throttled)["code"]) == ("rate_limit_error", "rate_limit")
    assert clover.v3("").json() == {"message": "Bad Gateway"}
    control.add_fault("/connect/v1/device/ping", status=500)
    assert clover.terminal("POST", "/device/ping").json()["type"] == "api_error"


def test_method_filter_count_and_clear(clover, control):
    control.add_fault("/v3/*", method="POST", status=500)
    assert clover.v3("").status_code == 200
    control.add_fault("/v3/*", status=500, count=2)
    assert [clover.v3("").status_code for _ in range(3)] == [500, 500, 200]
    control.add_fault("/v3/*", status=500)
    control.clear_faults()
    assert clover.v3("").status_code == 200


def test_injected_delay(clover, control):
    control.add_fault("/v3/merchants/*", delay=0.2)
    started = time.monotonic()
    assert clover.v3("").status_code == 200
    assert time.monotonic() - started >= 0.2


def test_dropped_connection_before_the_handler_creates_nothing(clover, control, key):
    control.add_fault("/v1/charges", method="POST", drop=True)
    with pytest.raises(requests.exceptions.ConnectionError):
        clover.charge(key=key)
    assert control.counters()["charges_created"] == 0


def test_response_lost_after_the_charge_then_the_retry_gets_the_same_charge(clover, control, key):
    control.add_fault("/v1/charges", method="POST", drop=True, after=True)
    token = clover.token()
    with pytest.raises(requests.exceptions.ConnectionError):
        clover.charge(source=token, key=key)
    retried = clover.charge(source=token, key=key)
    assert retried.status_code == 200
    counters = control.counters()
    assert counters["charges_created"] == 1 and counters["idempotent_replays"] == 1


def test_fault_after_the_handler_keeps_its_effect(clover, control):
    charge = clover.paid_charge()
    control.add_fault("/v1/refunds", status=500, after=True)
    assert clover.refund({"charge": charge["id"]}).status_code == 500
    assert clover.call("GET", f"/v1/charges/{charge['id']}").json()["refunded"] is True


def test_the_control_api_is_never_faulted(control):
    control.add_fault("/_emulator/*", status=500)
    assert control.state()["merchant_id"]


def test_rate_limit_switch(clover, control):
    control.configure(rate_limit_per_second=3)
    statuses = [clover.v3("").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert clover.v3("").json() == {"message": "Too many requests"}
    other = control.issue_tokens()["access_token"]
    assert clover.v3("", token=other).status_code == 200


def test_unknown_paths_and_methods(clover):
    assert clover.call("GET", "/v1/nothing").status_code == 404
    assert error_of(clover.call("DELETE", "/v1/charges"))["type"] == "api_error"


def test_client_methods_cover_the_control_endpoints():
    endpoints = {"reset", "state", "add_merchant", "config", "configure", "issue_tokens",
                 "oauth_code", "expire_tokens", "revoke_permissions", "add_fault", "faults",
                 "clear_faults", "counters", "requests", "clear_requests", "terminal_outcome",
                 "terminal_release", "terminal_set_running", "terminal_state", "advance_clock",
                 "webhook_config", "webhooks", "webhook_verify", "webhook_flush"}
    assert endpoints <= set(dir(EmulatorClient))
