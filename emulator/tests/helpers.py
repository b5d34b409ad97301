"""What the emulator tests share: test cards, a thin Clover caller, a local website."""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

VISA = "4242424242424242"
MASTERCARD = "5555555555554444"


class Clover:
    """A thin caller of Clover's own paths on the emulator, as a client integration would be."""

    def __init__(self, base_url, identity, access_token):
        self.base_url = base_url
        self.identity = identity
        self.access_token = access_token
        self.session = requests.Session()

    def call(self, method, path, body=None, token=None, headers=None, timeout=10, **kwargs):
        sent = {"Authorization": f"Bearer {token or self.access_token}"}
        sent.update(headers or {})
        return self.session.request(method, self.base_url + path, json=body, headers=sent,
                                    timeout=timeout, **kwargs)

    def tokenize(self, number=VISA, apikey=None, **card):
        card = {"number": number, "exp_month": "12", "exp_year": "2030", "cvv": "123", **card}
        return self.session.post(self.base_url + "/v1/tokens", json={"card": card},
                                 headers={"apikey": apikey or self.identity["pakms_key"]}, timeout=10)

    def token(self, number=VISA, **card):
        response = self.tokenize(number, **card)
        assert response.status_code == 200, response.text
        return response.json()["id"]

    def charge(self, amount=1000, source=None, key=None, headers=None, **fields):
        body = {"amount": amount, "currency": "usd", "source": source or self.token(), **fields}
        sent = {"x-forwarded-for": "203.0.113.7", **(headers or {})}
        if key:
            sent["idempotency-key"] = key
        return self.call("POST", "/v1/charges", body, headers=sent)

    def paid_charge(self, amount=1000, **fields):
        response = self.charge(amount, **fields)
        assert response.status_code == 200, response.text
        return response.json()

    def refund(self, body, key=None):
        return self.call("POST", "/v1/refunds", body,
                         headers={"idempotency-key": key} if key else None)

    def terminal(self, method, path, body=None, key=None, device=None, headers=None, **kwargs):
        sent = {"X-Clover-Device-Id": device or self.identity["devices"][0]["serial"],
                "X-POS-Id": "FusionCloverOdoo"}
        if key:
            sent["Idempotency-Key"] = key
        sent.update(headers or {})
        return self.call(method, "/connect/v1" + path, body, headers=sent, **kwargs)

    def v3(self, path, **kwargs):
        return self.call("GET", f"/v3/merchants/{self.identity['merchant_id']}{path}", **kwargs)


def error_of(response):
    """The Ecommerce error object of a response."""
    return response.json()["error"]


class LocalSite:
    """A loopback website of its own origin: serves `pages` on GET, records POSTed JSON
    (webhook receiver, browser test results) and answers them with `status`."""

    def __init__(self, pages=None):
        self.pages = pages or {}
        self.received = []
        self.status = 200
        self.on_receive = None
        self.arrived = threading.Event()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                page = site.pages.get(self.path, "").encode()
                self.send_response(200 if page else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                site.received.append({"path": self.path, "headers": dict(self.headers), "body": body})
                if site.on_receive:
                    site.on_receive(body)
                self.send_response(site.status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                site.arrived.set()

            def log_message(self, *args):
                """Quiet: pytest shows failures, not traffic."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02},
                         daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
