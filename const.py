"""Clover constants: hosts, surfaces, payment methods and the keys never to log."""

# The system parameter that points every Clover surface at one base URL (the local emulator).
API_BASE_URL_PARAM = 'fusion_clover.api_base_url'
DISPATCHER_SECRET_PARAM = 'fusion_clover.dispatcher_secret'
DISPATCHER_URL_PARAM = 'fusion_clover.dispatcher_url'

# Clover's hosts per provider state; see clover-api.md §0. EU/LA hosts are not offered: the
# Ecommerce API serves the US and Canada only.
HOSTS = {
    'test': {
        'web': 'https://sandbox.dev.clover.com',
        'api': 'https://apisandbox.dev.clover.com',
        'ecommerce': 'https://scl-sandbox.dev.clover.com',
        'token': 'https://token-sandbox.dev.clover.com',
        'checkout': 'https://checkout.sandbox.dev.clover.com',
        # REST Pay Display cloud: the docs' examples use the sandbox web host.
        'connect': 'https://sandbox.dev.clover.com',
    },
    'enabled': {
        'web': 'https://www.clover.com',
        'api': 'https://api.clover.com',
        'ecommerce': 'https://scl.clover.com',
        'token': 'https://token.clover.com',
        'checkout': 'https://checkout.clover.com',
        # Not stated by Clover; integrations in production use the API host.
        'connect': 'https://api.clover.com',
    },
}

# The host each API surface lives on.
SURFACE_HOSTS = {
    'oauth': 'api',
    'ecommerce': 'ecommerce',
    'token': 'token',
    'platform': 'api',
    'connect': 'connect',
}

# Seconds to wait for an answer, per surface. Terminal payments block far longer: their timeout
# is computed from X-Clover-Timeout by the caller.
SURFACE_TIMEOUTS = {
    'oauth': 10,
    'ecommerce': 30,
    'token': 10,
    'platform': 10,
    'connect': 15,
}

DEFAULT_POS_ID = 'FusionCloverOdoo'
USER_AGENT = 'FusionCloverOdoo/19.0'
SDK_PATH = '/sdk.js'
AUTHORIZE_PATH = '/oauth/v2/authorize'
OAUTH_CALLBACK_ROUTE = '/payment/clover/oauth/callback'

# Refresh an OAuth access token this many seconds before it expires.
TOKEN_REFRESH_MARGIN = 60
# Signed OAuth states are valid this long, with this much tolerance for clocks ahead of ours.
STATE_MAX_AGE = 3600
STATE_CLOCK_SKEW = 60

# The currencies of the countries the Ecommerce API serves.
SUPPORTED_CURRENCIES = ('USD', 'CAD')

DEFAULT_PAYMENT_METHOD_CODES = {
    'card',
    'visa',
    'mastercard',
    'amex',
    'discover',
    'diners',
    'jcb',
}

# Odoo payment method code -> the brand Clover names in tokens and charges.
PAYMENT_METHODS_MAPPING = {
    'visa': 'VISA',
    'mastercard': 'MC',
    'amex': 'AMEX',
    'discover': 'DISCOVER',
    'diners': 'DINERS',
    'jcb': 'JCB',
}

# Keys whose values never reach a log line. `code` is not one of them: Clover's error codes
# (`card_declined`) must stay readable; it is the authorization code only on the OAuth surface.
SENSITIVE_KEYS = {
    'access_token',
    'refresh_token',
    'client_secret',
    'apiAccessKey',
    'apikey',
    'Authorization',
    'number',
    'cvv',
    'card',
    'source',
    'token',
}
OAUTH_SENSITIVE_KEYS = SENSITIVE_KEYS | {'code'}
