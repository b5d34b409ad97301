"""Deterministic identities, so a demo can be configured from constants.

Ids use Clover's 13-character alphabet (no I, L, O, U), so clients that validate them pass.
"""
from . import ids
from .records import App, Device, Merchant

APP_ID = "FVSNAPP000001"
APP_SECRET = "5f1c9e4a-0d7b-4c1e-9a55-3e8f2b7d6c10"
APP_NAME = "Fusion Clover for Odoo"
WEBHOOK_AUTH_CODE = "emu-webhook-auth-0d1e2f3a4b5c6d7e"

MERCHANT_ID = "FVSNMERCHANT1"
MERCHANT_NAME = "Emulated Health Supply"
MERCHANT_ADDRESS = {
    "address1": "100 Main Street",
    "address2": "Suite 4",
    "address3": None,
    "city": "Springfield",
    "state": "IL",
    "zip": "62701",
    "country": "US",
}
OWNER = {"id": "FVSNEMP000001", "name": "Pat Owner", "email": "owner@example.com"}
PRIVATE_KEY = "b7e2c1f0-6a3d-4e59-8c21-9f0d7a6b5e41"
PAKMS_KEY = "e3a9c0d4b8f14f6a9d2e7c5b1a0f8e63"

DEVICES = (
    {"id": "6f1a2b3c-4d5e-4f60-8a71-b2c3d4e5f601", "serial": "C045UQ20000001",
     "name": "Front Counter Flex", "model": "Clover_C405"},
    {"id": "6f1a2b3c-4d5e-4f60-8a71-b2c3d4e5f602", "serial": "C043UQ20000002",
     "name": "Pharmacy Mini", "model": "Clover_C300"},
)


def install(store):
    """Fill a freshly reset store with the default app, merchant and devices."""
    store.apps[APP_ID] = App(APP_ID, APP_SECRET, APP_NAME, WEBHOOK_AUTH_CODE)
    store.merchants[MERCHANT_ID] = Merchant(
        MERCHANT_ID, MERCHANT_NAME, dict(MERCHANT_ADDRESS), dict(OWNER),
        PRIVATE_KEY, PAKMS_KEY, store.now())
    for device in DEVICES:
        store.devices[device["id"]] = Device(merchant_id=MERCHANT_ID, **device)


def add_merchant(store, name, address=None, devices=1):
    """A further merchant with fresh keys and `devices` terminals; returns the Merchant."""
    merchant = Merchant(
        ids.new_id(), name, dict(address or MERCHANT_ADDRESS),
        {"id": ids.new_id(), "name": f"{name} Owner", "email": "owner@example.com"},
        ids.new_secret("", 36), ids.new_secret("", 32), store.now())
    store.merchants[merchant.id] = merchant
    for number in range(1, devices + 1):
        device = Device(ids.new_secret("", 36), f"C045UQ{ids.new_digits(8)}",
                        f"{name} Terminal {number}", "Clover_C405", merchant.id)
        store.devices[device.id] = device
    return merchant
