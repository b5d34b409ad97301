"""Plain records the store keeps; behaviour lives in the surface modules."""
from collections import deque
from dataclasses import dataclass, field


@dataclass
class App:
    id: str
    secret: str
    name: str
    webhook_auth_code: str


@dataclass
class Merchant:
    id: str
    name: str
    address: dict
    owner: dict
    private_key: str
    pakms_key: str
    created: float
    revoked: bool = False


@dataclass
class Device:
    id: str
    serial: str
    name: str
    model: str
    merchant_id: str
    running: bool = True
    screen: str = "welcome"
    message: str | None = None
    scripts: deque = field(default_factory=deque)
    active: object | None = None  # the connect.Operation holding the screen


@dataclass
class AuthCode:
    code: str
    merchant_id: str
    app_id: str
    legacy: bool
    used: bool = False


@dataclass
class AccessToken:
    token: str
    merchant_id: str
    app_id: str
    expires: float | None  # None: a legacy v1 token, which never expires


@dataclass
class RefreshToken:
    token: str
    merchant_id: str
    app_id: str
    expires: float
    active: bool = True


@dataclass
class CardToken:
    id: str
    merchant_id: str
    card: dict
    created: float
    used: bool = False


@dataclass
class Customer:
    id: str
    merchant_id: str
    fields: dict
    card: dict | None
    created: float


@dataclass
class Credit:
    id: str
    merchant_id: str
    amount: int
    currency: str
    card: dict
    created: float
    fields: dict


@dataclass
class IdempotencyRecord:
    fingerprint: str
    reply: object
    created: float


@dataclass
class Payment:
    """One Clover payment, whether an Ecommerce charge or a terminal sale (same id on v3)."""
    id: str
    merchant_id: str
    channel: str  # "ecommerce" or "terminal"
    amount: int  # authorized total in cents
    currency: str
    card: dict  # cards.card_summary()
    created: float
    status: str  # "succeeded" or "failed"
    captured: bool
    order_id: str
    ref_num: str
    auth_code: str | None
    amount_captured: int = 0
    amount_refunded: int = 0
    voided: bool = False
    tax_amount: int = 0
    tip_amount: int = 0
    external_reference_id: str | None = None
    external_payment_id: str | None = None
    decline_code: str | None = None
    failure_message: str | None = None
    void_reason: str | None = None
    fields: dict = field(default_factory=dict)  # other echoed request fields (description...)
    refund_ids: list = field(default_factory=list)
    device_id: str | None = None
    modified: float | None = None


@dataclass
class Refund:
    id: str
    payment_id: str
    merchant_id: str
    amount: int
    currency: str
    created: float
    is_void: bool
    fields: dict = field(default_factory=dict)
