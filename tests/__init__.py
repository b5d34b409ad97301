from . import (
    test_api_request,
    test_oauth_connect,
    test_provider,
    test_state_vectors,
    test_token_concurrency,
    test_utils,
)
