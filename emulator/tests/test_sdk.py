"""The sdk.js stand-in and its frames (clover-api.md §7)."""
import json
import os
import shutil
import signal
import subprocess
import tempfile

import pytest

from emulator.cards import BIN_RANGES
from emulator.sdk import FIELDS
from emulator.tests.helpers import LocalSite

PARENT = "http://127.0.0.1:8069"


def _get(clover, path, **params):
    return clover.session.get(clover.base_url + path, params=params, timeout=10)


def test_sdk_js_is_served_with_the_clover_surface(clover):
    response = _get(clover, "/sdk.js")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/javascript")
    script = response.text
    for needle in ("window.Clover = Clover", "Clover.prototype.elements", "createToken",
                   "addEventListener", "mount", "var FILL_HOOK = false;"):
        assert needle in script, needle
    assert "window.CloverEmulator" in script  # present but inert unless the switch is on


def test_fill_hook_switch_reaches_the_script_and_the_fields(clover, control):
    control.configure(sdk_fill_hook=True)
    assert "var FILL_HOOK = true;" in _get(clover, "/sdk.js").text
    field = _get(clover, "/_sdk/field", type="CARD_NUMBER", parent=PARENT).text
    assert '"fill": true' in field


@pytest.mark.parametrize("kind", sorted(FIELDS))
def test_each_field_frame_is_a_plain_named_input(clover, kind):
    response = _get(clover, "/_sdk/field", type=kind, instance="i1", parent=PARENT,
                    styles=json.dumps({"input": {"fontSize": "18px"}}))
    assert response.status_code == 200
    page = response.text
    assert f'<input id="field" type="text" name="{FIELDS[kind][0]}"' in page
    assert '<script src="/_sdk/card.js"></script>' in page
    assert f'"parent": "{PARENT}"' in page and '"fontSize": "18px"' in page


def test_field_names_are_the_documented_ones():
    assert {kind: spec[0] for kind, spec in FIELDS.items()} == {
        "CARD_NUMBER": "cardnumber", "CARD_DATE": "exp", "CARD_CVV": "cvv",
        "CARD_POSTAL_CODE": "postal", "CARD_NAME": "name"}


@pytest.mark.parametrize("params", [{"type": "CARD_PIN", "parent": PARENT},
                                    {"type": "CARD_CVV", "parent": "javascript:alert(1)"}])
def test_bad_field_requests(clover, params):
    assert _get(clover, "/_sdk/field", **params).status_code == 400


def test_script_breaking_values_are_escaped(clover):
    page = _get(clover, "/_sdk/controller", parent=PARENT, key="</script><script>x()").text
    assert "</script><script>x()" not in page


def test_controller_tokenizes_on_the_emulator_origin_with_the_pakms_key(clover):
    page = _get(clover, "/_sdk/controller", instance="i1", key="pk", parent=PARENT).text
    assert 'fetch("/v1/tokens"' in page and '"apikey": CONFIG.key' in page
    assert '"key": "pk"' in page
    assert _get(clover, "/_sdk/controller").status_code == 400


def test_card_js_carries_the_bin_table(clover):
    script = _get(clover, "/_sdk/card.js").text
    assert json.dumps([list(row) for row in BIN_RANGES]) in script


MERCHANT_PAGE = """<!DOCTYPE html><html><body>
<div id="number"></div><div id="date"></div><div id="cvv"></div><div id="postal"></div>
<script src="EMULATOR/sdk.js"></script>
<script>
  const seen = [];
  window.addEventListener("message", (event) => seen.push(JSON.stringify(event.data)));
  const clover = new Clover("PAKMS", {merchantId: "MERCHANT"});
  const elements = clover.elements();
  const changes = [];
  const mounts = {CARD_NUMBER: "#number", CARD_DATE: "#date", CARD_CVV: "#cvv",
                  CARD_POSTAL_CODE: "#postal"};
  for (const [type, selector] of Object.entries(mounts)) {
    const element = elements.create(type, {input: {fontSize: "18px"}});
    element.mount(selector);
    element.addEventListener("change", (event) => changes.push([type, event[type]]));
  }
  const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  async function run() {
    await pause(500);
    const empty = await clover.createToken();
    CloverEmulator.fill("CARD_NUMBER", "4242 4242 4242 4242");
    CloverEmulator.fill("CARD_DATE", "12/30");
    CloverEmulator.fill("CARD_CVV", "123");
    CloverEmulator.fill("CARD_POSTAL_CODE", "62701");
    await pause(300);
    const filled = await clover.createToken();
    const frames = [...document.querySelectorAll("iframe")].map((f) => new URL(f.src).origin);
    await fetch("/result", {method: "POST", body: JSON.stringify(
      {empty, filled, changes, frames, seen: seen.join(" ")})});
  }
  run().catch((error) => fetch("/result", {method: "POST",
                                           body: JSON.stringify({failed: String(error)})}));
</script></body></html>"""


@pytest.fixture
def browser_run(emu, control):
    """Load MERCHANT_PAGE from another origin in headless Chromium; yield its result."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("no Chromium on this machine")
    control.configure(sdk_fill_hook=True)
    token = control.state()["pakms_key"]
    site = LocalSite({"/": MERCHANT_PAGE.replace("EMULATOR", emu.base_url).replace("PAKMS", token)})
    profile = tempfile.mkdtemp(prefix="emulator-chromium-")
    process = subprocess.Popen(
        [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
         f"--user-data-dir={profile}", site.url + "/"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        assert site.arrived.wait(30), "the page never reported"
        yield site.received[0]["body"]
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
        site.close()
        shutil.rmtree(profile, ignore_errors=True)


def test_sdk_in_a_real_browser_across_origins(browser_run, emu, control):
    result = browser_run
    assert "failed" not in result, result
    assert set(result["empty"]["errors"]) == {"CARD_NUMBER", "CARD_DATE", "CARD_CVV",
                                              "CARD_POSTAL_CODE"}
    assert result["empty"]["errors"]["CARD_NUMBER"] == "Card number is required."
    filled = result["filled"]
    assert filled["token"].startswith("clv_")
    assert filled["card"] == {"brand": "VISA", "last4": "4242", "first6": "424242",
                              "exp_month": "12", "exp_year": "2030"}
    assert set(result["frames"]) == {emu.base_url}
    assert ["CARD_NUMBER", {"touched": True}] in result["changes"]
    # The merchant page heard tokens and field states, never the card number.
    assert "4242 4242" not in result["seen"] and "4242424242424242" not in result["seen"]
    [tokenize] = control.requests(path="/v1/tokens")
    assert tokenize["headers"]["apikey"] == control.state()["pakms_key"]
    assert tokenize["json"]["card"]["brand"] == "VISA"
    assert tokenize["json"]["card"]["address_zip"] == "62701"
