"""Who is calling: Bearer credentials resolved to a merchant (clover-api.md §1.3, §2.1).

A Bearer is an OAuth access token (v2, expiring), a legacy v1 token (never expires) or the
merchant's Ecommerce private key. Clover answers 401 alike for a bad token and for missing
permission, so a merchant whose permissions were revoked gets the same 401.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    merchant_id: str
    app_id: str
    kind: str  # "oauth", "legacy" or "private_key"


def bearer_of(request):
    header = request.headers.get("Authorization", "")
    scheme, _, credential = header.partition(" ")
    if scheme.lower() != "bearer" or not credential.strip():
        return None
    return credential.strip()


def resolve(store, credential):
    """The Principal behind a credential, or None if it is unknown or expired."""
    token = store.access_tokens.get(credential)
    if token is not None:
        if token.expires is not None and token.expires <= store.now():
            return None
        return Principal(token.merchant_id, token.app_id,
                         "legacy" if token.expires is None else "oauth")
    for merchant in store.merchants.values():
        if merchant.private_key == credential:
            return Principal(merchant.id, "", "private_key")
    return None


def authenticate(store, request, error, allow_private_key=True):
    """The caller's Principal; raises error(message) (a surface's 401) otherwise."""
    credential = bearer_of(request)
    if credential is None:
        raise error("Missing Bearer token")
    principal = resolve(store, credential)
    if principal is None:
        raise error("Invalid or expired token")
    if principal.kind == "private_key" and not allow_private_key:
        raise error("An Ecommerce private key cannot call this API; use an OAuth token")
    if store.merchants[principal.merchant_id].revoked:
        raise error("The app lacks the permission for this merchant")
    return principal
