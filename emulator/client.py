"""EmulatorClient: one method per control endpoint under /_emulator/."""
import requests


class EmulatorClient:
    def __init__(self, base_url, timeout=30):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()

    def close(self):
        self.session.close()

    def _call(self, method, path, payload=None, params=None, timeout=None):
        response = self.session.request(method, f"{self.base_url}/_emulator/{path}", json=payload,
                                        params=params, timeout=timeout or self.timeout)
        response.raise_for_status()
        return response.json()

    @staticmethod
    def _given(**values):
        return {key: value for key, value in values.items() if value is not None}

    # state and switches
    def reset(self):
        return self._call("POST", "reset")

    def state(self):
        return self._call("GET", "state")

    def add_merchant(self, name=None, address=None, devices=1):
        return self._call("POST", "merchants", self._given(name=name, address=address,
                                                          devices=devices))

    def config(self):
        return self._call("GET", "config")

    def configure(self, **switches):
        return self._call("POST", "config", switches)

    # OAuth
    def issue_tokens(self, merchant_id=None, no_refresh_token=False):
        return self._call("POST", "oauth/issue", self._given(
            merchant_id=merchant_id, no_refresh_token=no_refresh_token or None))

    def oauth_code(self, merchant_id=None, legacy=False):
        return self._call("POST", "oauth/codes", self._given(merchant_id=merchant_id,
                                                            legacy=legacy))["code"]

    def expire_tokens(self, access_token=None):
        return self._call("POST", "oauth/expire", self._given(access_token=access_token))

    def revoke_permissions(self, merchant_id=None, revoked=True):
        return self._call("POST", "permissions", self._given(merchant_id=merchant_id,
                                                            revoked=revoked))

    # faults
    def add_fault(self, path, method=None, status=None, body=None, delay=None, drop=False,
                  after=False, count=1):
        return self._call("POST", "faults", self._given(
            path=path, method=method, status=status, body=body, delay=delay, drop=drop,
            after=after, count=count))

    def faults(self):
        return self._call("GET", "faults")["faults"]

    def clear_faults(self):
        return self._call("DELETE", "faults")

    # what crossed the wire
    def counters(self):
        return self._call("GET", "counters")

    def requests(self, path=None, method=None):
        return self._call("GET", "requests",
                          params=self._given(path=path, method=method))["requests"]

    def clear_requests(self):
        return self._call("DELETE", "requests")

    # terminals
    def terminal_outcome(self, device, outcome, delay=None, hold=False):
        return self._call("POST", "terminal/outcome", self._given(
            device=device, outcome=outcome, delay=delay, hold=hold))

    def terminal_release(self, device, outcome=None, wait=5.0):
        return self._call("POST", "terminal/release",
                          self._given(device=device, outcome=outcome, wait=wait),
                          timeout=self.timeout + wait)

    def terminal_set_running(self, device, running):
        return self._call("POST", "terminal/state", {"device": device, "running": running})

    def terminal_state(self, device):
        return self._call("GET", "terminal/state", params={"device": device})

    # clock
    def advance_clock(self, seconds):
        return self._call("POST", "clock", {"advance": seconds})

    # webhooks
    def webhook_config(self, url, auth_code=None):
        return self._call("POST", "webhooks/config", self._given(url=url, auth_code=auth_code))

    def webhooks(self):
        return self._call("GET", "webhooks")

    def webhook_verify(self):
        return self._call("POST", "webhooks/verify")

    def webhook_flush(self, duplicate=0, drop=0):
        return self._call("POST", "webhooks/flush", {"duplicate": duplicate, "drop": drop})
