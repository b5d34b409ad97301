"""Ecommerce customers (card on file), non-referenced credits and the PAKMS key (§2.2)."""
from . import ecomm, ids
from .cards import card_summary
from .charges import decline_reply, test_card_decline
from .ledger import ms
from .records import Credit, Customer
from .web import Reply, Routes, invalid_request

routes = Routes()

CUSTOMER_FIELDS = ("firstName", "lastName", "name", "phone", "email")


def _customer_view(customer):
    view = {"id": customer.id, "object": "customer", "created": ms(customer.created)}
    view.update(customer.fields)
    cards = [card_summary(customer.card)] if customer.card else []
    view["sources"] = {"object": "list", "data": cards}
    return view


def _duplicate_of(store, merchant_id, card):
    for customer in store.customers.values():
        if (customer.merchant_id == merchant_id and customer.card
                and customer.card["number"] == card["number"]):
            return customer
    return None


def _customer(store, merchant_id, payload):
    fields = {key: str(payload[key]) for key in CUSTOMER_FIELDS if payload.get(key) is not None}
    if "email" in fields and not ecomm.EMAIL.fullmatch(fields["email"]):
        raise invalid_request("email is not a valid email", "email", code="email_invalid")
    card = None
    if payload.get("source") is not None:
        token = ecomm.card_token(store, merchant_id, str(payload["source"]), "source")
        duplicate = _duplicate_of(store, merchant_id, token.card)
        if duplicate:
            # Re-adding a card already on file answers 409 (§2.2 line 87).
            raise invalid_request(f"This card is already on file for customer {duplicate.id}",
                                  "source", status=409)
        token.used = True
        card = token.card
    customer = Customer(ids.new_id(), merchant_id, fields, card, store.now())
    store.customers[customer.id] = customer
    return Reply(200, _customer_view(customer))


@routes("/v1/customers", "POST")
def create_customer(store, request):
    return ecomm.handle_post(store, request, _customer)


@routes("/v1/customers/<customer_id>", "GET")
def get_customer(store, request, customer_id):
    return ecomm.show_owned(store, request, "customers", customer_id, "customer", _customer_view)


def _credit_view(credit):
    view = {"id": credit.id, "object": "credit", "amount": credit.amount,
            "currency": credit.currency, "created": ms(credit.created), "status": "succeeded",
            "source": card_summary(credit.card)}
    view.update(credit.fields)
    return view


def _credit(store, merchant_id, payload):
    amount = ecomm.amount(payload)
    currency = ecomm.currency(payload)
    fields = ecomm.optional_fields(payload)
    reference = ecomm.external_reference(payload)
    if reference is not None:
        fields["external_reference_id"] = reference
    source = ecomm.source(store, merchant_id, payload)
    decline = test_card_decline(store, source.card)
    source.consume()
    if decline:
        return decline_reply(store, None, *decline)
    credit = Credit(ids.new_id(), merchant_id, amount, currency, source.card, store.now(), fields)
    store.credits[credit.id] = credit
    return Reply(200, _credit_view(credit))


@routes("/v1/credits", "POST")
def create_credit(store, request):
    return ecomm.handle_post(store, request, _credit)


@routes("/v1/credits", "GET")
def list_credits(store, request):
    with store.lock:
        caller = ecomm.principal(store, request)
        views = [_credit_view(c) for c in store.credits.values()
                 if c.merchant_id == caller.merchant_id]
        return Reply(200, ecomm.list_page(request, store.switches, views))


@routes("/v1/credits/<credit_id>", "GET")
def get_credit(store, request, credit_id):
    return ecomm.show_owned(store, request, "credits", credit_id, "credit", _credit_view)


# Clover serves this on the Ecommerce host and (reportedly) the API host (§0 line 32); with
# one base URL the single route answers both.
@routes("/pakms/apikey", "GET")
def pakms_key(store, request):
    with store.lock:
        caller = ecomm.principal(store, request)
        merchant = store.merchants[caller.merchant_id]
        return Reply(200, {"active": True, "apiAccessKey": merchant.pakms_key,
                           "createdTime": ms(merchant.created),
                           "developerAppUuid": caller.app_id or None,
                           "merchantUuid": merchant.id, "modifiedTime": ms(merchant.created)})
