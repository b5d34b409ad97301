from . import test_api_request
from . import test_oauth_connect
from . import test_payment_transaction
from . import test_provider
from . import test_state_vectors
from . import test_token_concurrency
from . import test_utils
