from . import clover_oauth_nonce, payment_provider, res_config_settings
