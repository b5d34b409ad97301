"""Platform REST v3: merchant, devices, payments, ecomm_payment_configs (clover-api.md §4).

Any Bearer of the merchant works here (OAuth, legacy, or the Ecommerce private key as a test
token, §1.3 line 59); a token of merchant A asking about merchant B gets 401.
"""
from . import ledger
from .auth import authenticate
from .web import Reply, Routes, platform_error

routes = Routes()

MODEL_NAMES = {"Clover_C405": "Clover Flex", "Clover_C300": "Clover Mini"}


def _unauthorized(_message):
    return platform_error(401, "401 Unauthorized")


def _merchant(store, request, merchant_id):
    caller = authenticate(store, request, _unauthorized)
    if caller.merchant_id != merchant_id:
        raise _unauthorized("token of another merchant")
    return store.merchants[merchant_id]


def _expanded(request):
    return {part.strip() for part in request.args.get("expand", "").split(",") if part.strip()}


@routes("/v3/merchants/<merchant_id>", "GET")
def get_merchant(store, request, merchant_id):
    with store.lock:
        merchant = _merchant(store, request, merchant_id)
        expand = _expanded(request)
        view = {"id": merchant.id, "name": merchant.name,
                "href": f"{request.host_url}v3/merchants/{merchant.id}",
                "owner": dict(merchant.owner) if "owner" in expand else {"id": merchant.owner["id"]},
                "createdTime": ledger.ms(merchant.created)}
        if "address" in expand:
            view["address"] = dict(merchant.address)
        return Reply(200, view)


def _device_view(device):
    return {
        "id": device.id, "name": device.name, "model": device.model,
        "merchant": {"id": device.merchant_id}, "serial": device.serial,
        "secureId": device.serial, "productName": MODEL_NAMES.get(device.model, device.model),
        "deviceTypeName": device.model.upper(), "orderPrefix": "", "terminalPrefix": 0,
        "buildType": "SANDBOX", "pinDisabled": False, "offlinePayments": False,
    }


@routes("/v3/merchants/<merchant_id>/devices", "GET")
def list_devices(store, request, merchant_id):
    with store.lock:
        _merchant(store, request, merchant_id)
        return Reply(200, {"elements": [_device_view(d)
                                        for d in store.merchant_devices(merchant_id)]})


@routes("/v3/merchants/<merchant_id>/payments", "GET")
def list_payments(store, request, merchant_id):
    with store.lock:
        _merchant(store, request, merchant_id)
        payments = [p for p in store.payments.values() if p.merchant_id == merchant_id]
        return Reply(200, {"elements": [ledger.v3_payment_view(store, p)
                                        for p in reversed(payments)]})


@routes("/v3/merchants/<merchant_id>/payments/<payment_id>", "GET")
def get_payment(store, request, merchant_id, payment_id):
    with store.lock:
        _merchant(store, request, merchant_id)
        payment = store.payments.get(payment_id)
        if payment is None or payment.merchant_id != merchant_id:
            raise platform_error(404, "Not Found")
        return Reply(200, ledger.v3_payment_view(store, payment))


@routes("/v3/merchants/<merchant_id>/ecomm_payment_configs", "GET")
def ecomm_payment_configs(store, request, merchant_id):
    with store.lock:
        # Clover's plugin calls this from the browser with ?pakmsKey= instead of a Bearer.
        merchant = store.merchants.get(merchant_id)
        pakms = request.args.get("pakmsKey")
        if not (merchant and pakms and pakms == merchant.pakms_key):
            _merchant(store, request, merchant_id)
        surcharging = {"supported": store.switches["surcharge_supported"]}
        if surcharging["supported"]:
            surcharging["rate"] = store.switches["surcharge_rate"]
        return Reply(200, {"surcharging": surcharging})
