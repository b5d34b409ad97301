"""Behaviour switches: every undocumented or contradictory Clover behaviour is one of these.

Each switch names the clover-api.md (or spec.md) passage it comes from, so a reader can check
why the default is what it is. README.md carries the same table; a test keeps them in step.
"""
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Switch:
    default: Any
    parse: Callable[[Any], Any]
    source: str
    meaning: str


def _bool(value):
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"not a boolean: {value!r}")


def _int(value):
    if isinstance(value, bool):
        raise ValueError(f"not an integer: {value!r}")
    return int(value)


def _float(value):
    if isinstance(value, bool):
        raise ValueError(f"not a number: {value!r}")
    return float(value)


def _choice(*options):
    def parse(value):
        if value not in options:
            raise ValueError(f"{value!r} is not one of {', '.join(options)}")
        return value
    return parse


def _velocity(value):
    # "on" means the sandbox's observed ~8 charges; a number sets the limit; 0/off disables it.
    if value is True or str(value).lower() in ("true", "on", "yes"):
        return 8
    if value is False or str(value).lower() in ("false", "off", "no"):
        return 0
    return _int(value)


SWITCHES = {
    "auto_approve": Switch(
        False, _bool, "issue 3; §1.1 line 43",
        "GET /oauth/v2/authorize redirects at once instead of showing the Authorize page"),
    "callback_employee_id": Switch(
        True, _bool, "§1.1 line 44",
        "the OAuth callback carries employee_id (as on dashboard launches)"),
    "access_token_ttl": Switch(
        1800, _int, "§10 line 260; spec.md §7 line 107 (~30 min)",
        "seconds an OAuth v2 access token lives"),
    "refresh_token_ttl": Switch(
        365 * 24 * 3600, _int, "§1.1 line 46 (doc examples ~365 days)",
        "seconds a refresh token lives"),
    "refresh_token_cap": Switch(
        10, _int, "§1.1 line 47 (cap exists, number undocumented)",
        "active refresh tokens per merchant+app; issuing more invalidates the oldest"),
    "idempotency_ttl": Switch(
        24 * 3600, _int, "§2.1 line 72; §10 line 256",
        "seconds an Ecommerce idempotency key is remembered"),
    "idempotency_mismatch": Switch(
        "error", _choice("error", "replay"), "§10 line 256",
        "same key, different body: 400 idempotency_error, or replay the first response"),
    "decline_status": Switch(
        402, _int, "§2.5 line 112; §10 line 255",
        "HTTP status of an Ecommerce decline (402, or 400 per respcodes)"),
    "decline_code": Switch(
        "issuer_declined", str, "§2.5 line 112",
        "decline_code value returned for the decline test cards"),
    "decline_code_field": Switch(
        "decline_code", _choice("decline_code", "declineCode"), "§2.5 line 112; §10 line 255",
        "name of the decline sub-code field in the error body"),
    "failed_charges_retrievable": Switch(
        True, _bool, "§10 line 255",
        "declined charges are stored and readable with GET /v1/charges/{id}"),
    "strict_refund_body": Switch(
        False, _bool, "spec.md §7 lines 108-109",
        "reproduce the sandbox that rejected any /v1/refunds body but {\"charge\"}"),
    "allow_past_expiry": Switch(
        True, _bool, "spec.md §7 lines 110-111; §2.6 line 116",
        "tokenization accepts an expiry in the past (sandbox does, production does not)"),
    "velocity_limit": Switch(
        0, _velocity, "spec.md §7 line 111 (declines after ~6-10 charges)",
        "charges per card before declines start; 0 = off, true = 8"),
    "rate_limit_per_second": Switch(
        0, _int, "§9 line 249; §2.5 line 114",
        "requests per second per credential before 429; 0 = off"),
    "charges_list_key": Switch(
        "data", _choice("data", "elements"), "§2.2 line 81",
        "key holding the items of GET /v1/charges and /v1/refunds"),
    "ref_num_as_number": Switch(
        False, _bool, "§2.4 line 106",
        "ref_num is a bare number instead of a 12-digit string"),
    "surcharge_supported": Switch(
        False, _bool, "§4 line 146",
        "ecomm_payment_configs surcharging.supported"),
    "surcharge_rate": Switch(
        0.03, _float, "§4 line 146 (a fraction: the plugin shows rate*100 %)",
        "ecomm_payment_configs surcharging.rate when supported"),
    "device_id_kind": Switch(
        "serial", _choice("serial", "uuid"), "§5.1 line 161; §10 line 257",
        "what X-Clover-Device-Id must carry: the device serial or its v3 id"),
    "terminal_decline_style": Switch(
        "result_fail", _choice("result_fail", "error"), "§5.3 line 189; §10 line 259",
        "terminal decline: HTTP 200 with result FAIL, or an error body with decline_status"),
    "thank_you_path": Switch(
        "thank-you", str, "§5.2 line 179; §10 line 259",
        "last segment of the thank-you screen path under /connect/v1/device/"),
    "terminal_default_outcome": Switch(
        "approve", _choice("approve", "decline", "cancel", "timeout"), "emulator (demo)",
        "outcome of a terminal payment when nothing is scripted"),
    "terminal_default_delay": Switch(
        1.0, _float, "emulator (demo)",
        "seconds the unscripted customer takes to tap"),
    "void_window": Switch(
        25 * 60, _int, "§5.3 line 190; §5.2 line 174",
        "seconds after which a REST Pay void becomes a refund"),
    "webhook_verification_auth": Switch(
        False, _bool, "§6.1 line 199; §10 line 258",
        "the verification POST carries X-Clover-Auth"),
    "webhook_requeue_failed": Switch(
        False, _bool, "§6.1 line 202; §10 line 258",
        "events of a failed delivery stay pending (Clover documents no retries)"),
    "sdk_fill_hook": Switch(
        False, _bool, "emulator (browser tests)",
        "sdk.js fields accept {action:'fill'} messages from the page, for cross-origin test drivers"),
}


def defaults():
    return {name: switch.default for name, switch in SWITCHES.items()}


def parse_switches(values):
    """Validate and convert user-given switches; raise ValueError naming the bad one."""
    parsed = {}
    for name, value in values.items():
        if name not in SWITCHES:
            raise ValueError(f"unknown switch {name!r}")
        try:
            parsed[name] = SWITCHES[name].parse(value)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"switch {name}: {exc}") from None
    return parsed
