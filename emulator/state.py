"""The emulator's whole memory: one lock, one condition, and the records Clover would keep.

Every handler reads and writes under `store.lock`; terminal payments wait on `store.changed`
(a condition over the same lock), which anything that could end a wait notifies.
"""
import threading
import time
from collections import Counter, deque

from . import seed
from .switches import defaults, parse_switches

REQUEST_LOG_SIZE = 5000


def new_counters():
    return {
        "refreshes": 0,
        "token_exchanges": 0,
        "calls": Counter(),
        "routes": Counter(),
        "charges_created": 0,
        "charges_by_idempotency_key": Counter(),
        "idempotent_replays": 0,
        "terminal_operations": 0,
        "webhook_deliveries": 0,
        "faults_applied": 0,
    }


class Store:
    def __init__(self, switches=None):
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        # reset() returns to these: the defaults plus whatever the instance was started with.
        self.base_switches = {**defaults(), **parse_switches(switches or {})}
        self.generation = 0
        self.reset()

    def reset(self):
        with self.lock:
            self._release_waiters()
            self.generation += 1
            self.switches = dict(self.base_switches)
            self.clock_offset = 0.0
            self.apps, self.merchants, self.devices = {}, {}, {}
            self.codes, self.access_tokens, self.refresh_tokens = {}, {}, {}
            self.card_tokens, self.customers, self.credits = {}, {}, {}
            self.payments, self.refunds = {}, {}
            self.idempotency, self.operations = {}, {}
            self.card_charges = Counter()
            self.rate_windows = {}
            self.faults = []
            self.events = []
            self.webhook_url = None
            self.counters = new_counters()
            self.requests = deque(maxlen=REQUEST_LOG_SIZE)
            seed.install(self)

    def close(self):
        """Wake every blocked terminal call so server threads can finish."""
        with self.lock:
            self._release_waiters()

    def _release_waiters(self):
        for device in getattr(self, "devices", {}).values():
            if device.active is not None:
                device.active.forced = "timeout"
        self.changed.notify_all()

    # The emulator's own clock, shiftable by the control API (token expiry, void window).
    def now(self):
        return time.time() + self.clock_offset

    def now_ms(self):
        return int(self.now() * 1000)

    @property
    def app(self):
        return self.apps[seed.APP_ID]

    def merchant(self, merchant_id=None):
        return self.merchants.get(merchant_id or seed.MERCHANT_ID)

    def merchant_devices(self, merchant_id):
        return [device for device in self.devices.values() if device.merchant_id == merchant_id]

    def emit(self, merchant_id, object_id, kind):
        """Queue a webhook event for an object the emulator changed (§6.1)."""
        self.events.append({"merchant_id": merchant_id, "objectId": object_id,
                            "type": kind, "ts": self.now_ms()})

    def identity(self):
        """Everything a demo or a test needs to configure a client, seeded merchant first."""
        merchant = self.merchant()
        return {
            "app_id": self.app.id,
            "app_secret": self.app.secret,
            "merchant_id": merchant.id,
            "merchant_name": merchant.name,
            "private_key": merchant.private_key,
            "pakms_key": merchant.pakms_key,
            "webhook_auth_code": self.app.webhook_auth_code,
            "devices": [device_identity(d) for d in self.merchant_devices(merchant.id)],
            "merchants": [self.merchant_identity(m) for m in self.merchants.values()],
        }

    def merchant_identity(self, merchant):
        return {
            "merchant_id": merchant.id,
            "merchant_name": merchant.name,
            "private_key": merchant.private_key,
            "pakms_key": merchant.pakms_key,
            "revoked": merchant.revoked,
            "devices": [device_identity(d) for d in self.merchant_devices(merchant.id)],
        }


def device_identity(device):
    return {"id": device.id, "serial": device.serial, "name": device.name, "model": device.model}
