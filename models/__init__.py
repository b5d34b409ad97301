from . import clover_oauth_nonce
from . import payment_provider
from . import res_config_settings
