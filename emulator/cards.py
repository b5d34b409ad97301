"""Card rules shared by tokenization, charges and sdk.js: Luhn, BIN brands, test cards."""
import json

BRANDS = ("VISA", "MC", "AMEX", "DISCOVER", "DINERS", "JCB")

# (brand, low prefix, high prefix): a number belongs to a brand when its leading digits,
# as long as the bounds, fall between them. sdk.js receives this same table as JSON.
BIN_RANGES = (
    ("AMEX", "34", "34"), ("AMEX", "37", "37"),
    ("DINERS", "300", "305"), ("DINERS", "3095", "3095"), ("DINERS", "36", "36"),
    ("DINERS", "38", "39"),
    ("JCB", "3528", "3589"),
    ("DISCOVER", "6011", "6011"), ("DISCOVER", "644", "649"), ("DISCOVER", "65", "65"),
    ("DISCOVER", "622126", "622925"),
    ("MC", "51", "55"), ("MC", "2221", "2720"),
    ("VISA", "4", "4"),
)

# clover-api.md §2.6: the decline cards, the partial-approval card (a decline on the
# Ecommerce API) and the gateway test card that answers 500.
DECLINE_CARDS = frozenset({"4264281511117771", "5424180273333333", "375987654000004"})
PARTIAL_AUTH_CARD = "4005578003333335"
GATEWAY_ERROR_CARD = "4005571702222222"

# Terminal payments have no keyed card: the emulated customer taps this one.
TERMINAL_CARD = {"number": "4242424242424242", "brand": "VISA", "exp_month": "12", "exp_year": "2030"}


def luhn_ok(number):
    if not number.isdigit():
        return False
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def brand_of(number):
    for brand, low, high in BIN_RANGES:
        head = number[:len(low)]
        if len(head) == len(low) and head.isdigit() and int(low) <= int(head) <= int(high):
            return brand
    return None


def bin_ranges_json():
    return json.dumps([list(row) for row in BIN_RANGES])


def card_summary(card):
    """The card as Clover shows it back: never the full number or the CVV."""
    summary = {
        "brand": card["brand"],
        "first6": card["number"][:6],
        "last4": card["number"][-4:],
        "exp_month": card["exp_month"],
        "exp_year": card["exp_year"],
    }
    for extra in ("name", "address_zip", "address_country"):
        if card.get(extra):
            summary[extra] = card[extra]
    return summary
