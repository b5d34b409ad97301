from . import clover_oauth_nonce
from . import clover_terminal
from . import clover_webhook_event
from . import payment_provider
from . import payment_token
from . import payment_transaction
from . import payment_transaction_reconcile
from . import res_config_settings
