from . import clover_oauth_nonce
from . import clover_terminal
from . import payment_provider
from . import payment_provider_oauth_state
from . import payment_token
from . import payment_transaction
from . import payment_transaction_refund
from . import res_config_settings
