"""The hosted iframe SDK stand-in (clover-api.md §7): sdk.js and the frames it mounts."""
import json
import re
from pathlib import Path

from werkzeug.wrappers import Response

from .cards import bin_ranges_json
from .web import Routes

routes = Routes()

STATIC = Path(__file__).with_name("static")
ORIGIN = re.compile(r"https?://[^/\s]+")
# Element type -> (input name, autocomplete, inputmode, placeholder). The names are stable
# so browser tests can type into the inputs.
FIELDS = {
    "CARD_NUMBER": ("cardnumber", "cc-number", "numeric", "1234 1234 1234 1234"),
    "CARD_DATE": ("exp", "cc-exp", "numeric", "MM/YY"),
    "CARD_CVV": ("cvv", "cc-csc", "numeric", "CVV"),
    "CARD_POSTAL_CODE": ("postal", "postal-code", "text", "ZIP"),
    "CARD_NAME": ("name", "cc-name", "text", "Name on card"),
}


def _script_json(value):
    # "</" inside a <script> would end it early.
    return json.dumps(value).replace("</", "<\\/")


def _render(name, mimetype, **values):
    text = (STATIC / name).read_text(encoding="utf-8")
    for key, value in values.items():
        text = text.replace(f"__{key}__", value)
    return Response(text, mimetype=mimetype, headers={"Cache-Control": "no-store"})


def _error(message):
    return Response(message, status=400, mimetype="text/plain")


def _parent_origin(request):
    parent = request.args.get("parent", "")
    return parent if ORIGIN.fullmatch(parent) else None


@routes("/sdk.js", "GET")
def sdk_js(store, request):
    return _render("sdk.js", "application/javascript",
                   FILL_HOOK=json.dumps(store.switches["sdk_fill_hook"]))


@routes("/_sdk/card.js", "GET")
def card_js(store, request):
    return _render("card.js", "application/javascript", BIN_RANGES=bin_ranges_json())


@routes("/_sdk/field", "GET")
def field(store, request):
    kind = request.args.get("type", "")
    parent = _parent_origin(request)
    if kind not in FIELDS or parent is None:
        return _error("type must be a Clover element type and parent an origin")
    try:
        styles = json.loads(request.args.get("styles") or "{}")
    except ValueError:
        styles = {}
    name, autocomplete, inputmode, placeholder = FIELDS[kind]
    config = {"type": kind, "instance": request.args.get("instance", ""), "parent": parent,
              "styles": styles if isinstance(styles, dict) else {},
              "styleKey": kind.lower().replace("_", "-"), "fill": store.switches["sdk_fill_hook"]}
    return _render("field.html", "text/html", NAME=name, AUTOCOMPLETE=autocomplete,
                   INPUTMODE=inputmode, PLACEHOLDER=placeholder, LABEL=kind.replace("_", " ").title(),
                   CONFIG=_script_json(config))


@routes("/_sdk/controller", "GET")
def controller(store, request):
    parent = _parent_origin(request)
    if parent is None:
        return _error("parent must be an origin")
    config = {"instance": request.args.get("instance", ""), "key": request.args.get("key", ""),
              "merchant": request.args.get("merchant", ""), "parent": parent}
    return _render("controller.html", "text/html", CONFIG=_script_json(config))
