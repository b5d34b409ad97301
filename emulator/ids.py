"""Identifier formats Clover uses (clover-api.md §2.4, §3)."""
import secrets
import string

# Clover ids are 13 characters of Crockford base32 (no I, L, O, U); the official plugin
# validates merchant ids with exactly this alphabet.
CLOVER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_ALNUM = string.ascii_letters + string.digits


def new_id():
    return "".join(secrets.choice(CLOVER_ALPHABET) for _ in range(13))


def new_secret(prefix="", length=32):
    return prefix + "".join(secrets.choice(_ALNUM) for _ in range(length))


def new_card_token():
    return new_secret("clv_", 22)


def new_digits(length):
    return "".join(secrets.choice(string.digits) for _ in range(length))


def new_auth_code():
    # The sandbox example is "OK4447".
    return "OK" + new_digits(4)
