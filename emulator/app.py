"""The WSGI application: routing, request recording, injected faults, rate limits, CORS."""
import contextlib
import re
import socket
import sys
import time
from collections import deque

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map
from werkzeug.wrappers import Request, Response

from . import charges, connect, control, customers, oauth, platform, sdk, tokens
from .web import ApiError, Reply, surface_error

CONTROL_PREFIX = "/_emulator/"
RATE_LIMITED = ("/v1/", "/v3/", "/connect/", "/pakms/")
# Browser-callable Clover endpoints (tokenization, the plugin's surcharge lookup).
CORS_PATHS = re.compile(r"/v1/tokens|/v3/merchants/[^/]+/ecomm_payment_configs")
CORS_HEADERS = {"Access-Control-Allow-Origin": "*",
                "Access-Control-Allow-Headers": "apikey, authorization, content-type",
                "Access-Control-Allow-Methods": "GET, POST, OPTIONS"}
SURFACES = (oauth, charges, customers, tokens, platform, connect, sdk, control)


class DroppedConnection(Exception):
    pass


def _json_or_none(request):
    if not request.is_json:
        return None
    return request.get_json(silent=True, cache=True)


class EmulatorApp:
    def __init__(self, store, log=False):
        self.store = store
        self.log = log
        # Rule.empty(): a rule belongs to one Map, and several emulators may share a process.
        self.url_map = Map([rule.empty() for module in SURFACES for rule in module.routes.rules])

    def __call__(self, environ, start_response):
        request = Request(environ)
        started = time.monotonic()
        try:
            response = self.handle(request)
        except DroppedConnection:
            self._log_line(request, "dropped", started)
            _close_socket(environ)
            # werkzeug treats a ConnectionError as a client gone: nothing is written back.
            raise ConnectionAbortedError("fault injection: connection dropped") from None
        self._log_line(request, response.status_code, started)
        return response(environ, start_response)

    def handle(self, request):
        if request.path.startswith(CONTROL_PREFIX):
            return self.dispatch(request)
        entry = self._record(request)
        if request.method == "OPTIONS" and CORS_PATHS.fullmatch(request.path):
            response = Response(status=204)
        else:
            response = self._faulted(request)
        entry["status"] = response.status_code
        if CORS_PATHS.fullmatch(request.path):
            response.headers.extend(CORS_HEADERS)
        return response

    def _faulted(self, request):
        fault = control.take_fault(self.store, request.method, request.path)
        if fault is not None and not fault.after:
            early = _apply_fault(fault, request.path)
            if early is not None:
                return early
        response = self._rate_limited(request) or self.dispatch(request)
        if fault is not None and fault.after:
            return _apply_fault(fault, request.path) or response
        return response

    def dispatch(self, request):
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            rule, values = adapter.match(return_rule=True)
            if not request.path.startswith(CONTROL_PREFIX):
                with self.store.lock:
                    self.store.counters["routes"][f"{request.method} {rule.rule}"] += 1
            result = rule.endpoint(self.store, request, **values)
        except ApiError as exc:
            result = exc.reply
        except HTTPException as exc:
            result = surface_error(request.path, exc.code, exc.name).reply
        return result.to_response() if isinstance(result, Reply) else result

    def _record(self, request):
        # Header names lowercased: HTTP treats them so, and tests then need no casing rules.
        entry = {"method": request.method, "path": request.path, "query": request.args.to_dict(),
                 "headers": {name.lower(): value for name, value in request.headers.items()},
                 "json": _json_or_none(request),
                 "body": request.get_data(cache=True, as_text=True), "status": None}
        with self.store.lock:
            entry["time"] = self.store.now()
            self.store.requests.append(entry)
            self.store.counters["calls"][f"{request.method} {request.path}"] += 1
        return entry

    def _rate_limited(self, request):
        limit = self.store.switches["rate_limit_per_second"]
        if not limit or not request.path.startswith(RATE_LIMITED):
            return None
        caller = request.headers.get("Authorization") or request.headers.get("apikey") or \
            request.remote_addr
        now = time.monotonic()
        with self.store.lock:
            window = self.store.rate_windows.setdefault(caller, deque())
            while window and window[0] <= now - 1:
                window.popleft()
            if len(window) >= limit:
                return surface_error(request.path, 429, "Too many requests").reply.to_response()
            window.append(now)
        return None

    def _log_line(self, request, status, started):
        if self.log:
            elapsed = (time.monotonic() - started) * 1000
            # The path only: queries carry secrets (legacy /oauth/token takes client_secret).
            sys.stderr.write(f"{request.method} {request.path} -> {status} ({elapsed:.0f} ms)\n")
            sys.stderr.flush()


def _apply_fault(fault, path):
    """Sleep, then drop the connection or answer the fault's status; None lets the call be."""
    if fault.delay:
        time.sleep(fault.delay)
    if fault.drop:
        raise DroppedConnection()
    if fault.status is None:
        return None
    if fault.body is not None:
        return Reply(fault.status, fault.body).to_response()
    return surface_error(path, fault.status, f"Injected fault {fault.status}").reply.to_response()


def _close_socket(environ):
    connection = environ.get("werkzeug.socket")
    if connection is not None:
        with contextlib.suppress(OSError):  # the client may be gone already
            connection.shutdown(socket.SHUT_RDWR)
