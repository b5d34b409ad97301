from . import clover_oauth_nonce
from . import clover_terminal
from . import payment_provider
from . import payment_token
from . import payment_transaction
from . import payment_transaction_receipt
from . import res_config_settings
