import json
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import psycopg2.errors
import requests

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from odoo.addons.payment import utils as payment_utils
from odoo.addons.payment.logging import get_payment_logger

from .. import const, utils

_logger = get_payment_logger(__name__, const.SENSITIVE_KEYS)

# The columns that hold the OAuth connection. They are written only through
# `_clover_commit_connection_values`, in a cursor of their own (see there).
CONNECTION_FIELDS = (
    'clover_merchant_id',
    'clover_merchant_name',
    'clover_oauth_access_token',
    'clover_oauth_refresh_token',
    'clover_oauth_token_expiry',
    'clover_oauth_last_refresh',
    'clover_pakms_key',
)


class CloverAPIError(ValidationError):
    """Clover refused a request or could not be reached.

    `outcome_unknown` is set when Clover may have acted without us learning the result (no answer,
    a timeout or a 5xx): money-moving callers must then keep the transaction pending and retry
    with the same idempotency key instead of declaring a failure.
    """

    def __init__(self, message, *, status=None, code=None, decline_code=None,
                 error_type=None, outcome_unknown=False):
        super().__init__(message)
        self.status = status
        self.code = code
        self.decline_code = decline_code
        self.error_type = error_type
        self.outcome_unknown = outcome_unknown

    @property
    def is_decline(self):
        return self.error_type == 'card_error' or self.code == 'card_declined'


class PaymentProvider(models.Model):
    _inherit = 'payment.provider'

    code = fields.Selection(selection_add=[('clover', "Clover")], ondelete={'clover': 'set default'})

    # === Credentials === #
    clover_app_id = fields.Char(
        string="Clover App ID", help="The App ID of the Clover app, used as OAuth client_id.",
        copy=False,
    )
    clover_app_secret = fields.Char(string="App Secret", copy=False, groups='base.group_system')
    clover_remote_app_id = fields.Char(
        string="Remote App ID (RAID)",
        help="Sent as X-POS-Id on terminal calls; Clover requires it in production.",
        copy=False,
    )
    clover_merchant_id = fields.Char(string="Clover Merchant ID", copy=False)
    clover_merchant_name = fields.Char(string="Connected Merchant", copy=False, readonly=True)
    clover_oauth_access_token = fields.Char(
        string="OAuth Access Token", copy=False, groups='base.group_system',
    )
    clover_oauth_refresh_token = fields.Char(
        string="OAuth Refresh Token", copy=False, groups='base.group_system',
    )
    clover_oauth_token_expiry = fields.Datetime(
        string="Access Token Expiry", copy=False, readonly=True,
    )
    clover_oauth_last_refresh = fields.Datetime(
        string="Last Token Refresh", copy=False, readonly=True,
    )
    clover_rest_api_token = fields.Char(
        string="Legacy REST API Token",
        help="A merchant API token from before OAuth v2; used only when no OAuth token is set.",
        copy=False, groups='base.group_system',
    )
    clover_api_key = fields.Char(
        string="Ecommerce Private Key",
        help="The Ecommerce API private token; the last resort when no OAuth or REST token is set.",
        copy=False, groups='base.group_system',
    )
    clover_webhook_auth_code = fields.Char(
        string="Webhook Auth Code",
        help="The X-Clover-Auth code Clover's Developer Dashboard shows once the webhook URL is "
             "verified; webhooks without it (or an HMAC of their body with the app secret) are "
             "refused.",
        copy=False, groups='base.group_system',
    )
    clover_pakms_key = fields.Char(
        string="PAKMS Public Key",
        help="The public key the browser uses to tokenize cards; fetched when connecting.",
        copy=False,
    )
    clover_is_connected = fields.Boolean(
        string="Connected to Clover", compute='_compute_clover_is_connected',
    )

    # === COMPUTE METHODS === #

    def _compute_feature_support_fields(self):  # pylint: disable=missing-return
        """Override of `payment` to enable the features Clover supports."""
        super()._compute_feature_support_fields()
        self.filtered(lambda p: p.code == 'clover').update({
            'support_manual_capture': 'full_only',
            'support_refund': 'partial',
            'support_tokenization': True,
        })

    @api.depends('clover_oauth_token_expiry', 'clover_merchant_id')
    def _compute_clover_is_connected(self):
        # The token itself is a secret: whether one exists is computed as superuser.
        for provider in self:
            provider.clover_is_connected = bool(
                provider.clover_merchant_id and provider.sudo().clover_oauth_access_token
            )

    # === BUSINESS METHODS === #

    def _get_supported_currencies(self):
        """Override of `payment` to keep the currencies of the countries Clover Ecommerce serves."""
        supported_currencies = super()._get_supported_currencies()
        if self.code == 'clover':
            supported_currencies = supported_currencies.filtered(
                lambda c: c.name in const.SUPPORTED_CURRENCIES
            )
        return supported_currencies

    def _get_default_payment_method_codes(self):
        """Override of `payment` to return the default payment method codes."""
        self.ensure_one()
        if self.code != 'clover':
            return super()._get_default_payment_method_codes()
        return const.DEFAULT_PAYMENT_METHOD_CODES

    def _get_reset_values(self):
        """Override of `payment` to clear the Clover connection with the other credentials."""
        reset_values = super()._get_reset_values()
        if self.code == 'clover':
            reset_values.update(self._clover_disconnected_values())
        return reset_values

    def _get_removal_values(self):
        """Override of `payment` to forget the Clover credentials when the module is removed."""
        removal_values = super()._get_removal_values()
        removal_values.update(self._clover_disconnected_values())
        removal_values.update({
            'clover_app_id': False,
            'clover_app_secret': False,
            'clover_remote_app_id': False,
            'clover_rest_api_token': False,
            'clover_api_key': False,
        })
        return removal_values

    def _get_compatible_providers(self, *args, report=None, **kwargs):
        """Override of `payment` to hide Clover providers that cannot tokenize a card yet."""
        providers = super()._get_compatible_providers(*args, report=report, **kwargs)
        unconnected = providers.filtered(
            lambda p: p.code == 'clover' and not (p.clover_pakms_key and p.clover_merchant_id)
        )
        if unconnected:
            payment_utils.add_to_report(
                report, unconnected, available=False,
                reason=self.env._("not connected to Clover (no PAKMS key)"),
            )
        return providers - unconnected

    @api.model
    def _clover_update_existing_providers(self):
        """Bring Clover providers created before the card form existed up to date (their record is
        not updated): give them the form, and reach card brands through Card only, since brands
        attached on their own forbid manual capture."""
        providers = self.with_context(active_test=False).search([('code', '=', 'clover')])
        providers.filtered(lambda p: not p.inline_form_view_id).inline_form_view_id = (
            self.env.ref('fusion_clover.inline_form')
        )
        for provider in providers:
            if brands := provider.payment_method_ids.filtered('primary_payment_method_id'):
                provider.payment_method_ids -= brands

    def _clover_get_inline_form_values(self):
        """Return what the browser needs to mount Clover's card fields, as JSON: public values
        only (the PAKMS key is Clover's public tokenization key)."""
        self.ensure_one()
        return json.dumps({
            'pakms_key': self.clover_pakms_key,
            'merchant_id': self.clover_merchant_id,
            'sdk_url': self._clover_get_sdk_url(),
        })

    @api.model
    def _clover_disconnected_values(self):
        return dict.fromkeys(CONNECTION_FIELDS, False)

    def _clover_get_base_url(self, host):
        """Return the base URL of one of Clover's hosts (`const.HOSTS` keys) for this provider's
        state, or the override `fusion_clover.api_base_url` that stands for every host."""
        override = self.env['ir.config_parameter'].sudo().get_param(const.API_BASE_URL_PARAM)
        if override:
            return override.rstrip('/')
        environment = 'enabled' if self.state == 'enabled' else 'test'
        return const.HOSTS[environment][host]

    def _clover_get_sdk_url(self):
        return self._clover_get_base_url('checkout') + const.SDK_PATH

    def _clover_detect_brand_from_pan(self, pan):
        return utils.detect_brand_from_pan(pan)

    # === ACTION METHODS: CONNECTION === #

    def action_clover_oauth_connect(self):
        """Open Clover's authorize page with a signed state that brings the merchant back here."""
        self.ensure_one()
        self._clover_check_admin()
        if not self.clover_app_id:
            raise UserError(self.env._("Set the Clover App ID before connecting."))
        callback_url = self._clover_get_callback_url()
        payload = utils.new_state_payload(callback_url, time.time())
        state = utils.sign_state(payload, self._clover_get_dispatcher_secret())
        dispatcher_url = self.env['ir.config_parameter'].sudo().get_param(
            const.DISPATCHER_URL_PARAM
        )
        query = urlencode({
            'client_id': self.clover_app_id,
            'redirect_uri': dispatcher_url or callback_url,
            'state': state,
        })
        return {
            'type': 'ir.actions.act_url',
            'url': f"{self._clover_get_base_url('web')}{const.AUTHORIZE_PATH}?{query}",
            'target': 'self',
        }

    def action_clover_oauth_disconnect(self):
        """Forget the OAuth tokens and the PAKMS key; the merchant id stays for reconnecting."""
        self.ensure_one()
        self._clover_check_admin()
        values = self._clover_disconnected_values()
        del values['clover_merchant_id']
        self._clover_commit_connection_values(values)
        return True

    def action_clover_test_connection(self):
        """Fetch the merchant from Clover's Platform API and say whom we are connected to."""
        self.ensure_one()
        self._clover_check_admin()
        name = self._clover_fetch_merchant_name()
        return {
            'type': 'ir.actions.client',
            'tag': 'display_notification',
            'params': {
                'type': 'success',
                'message': self.env._("Test Connection successful. Merchant: %s", name),
                'next': {'type': 'ir.actions.client', 'tag': 'soft_reload'},
            },
        }

    def _clover_check_admin(self):
        """Refuse connection changes to anyone but a Clover administrator: clerks may read the
        provider, and these actions write the connection as superuser."""
        if not self.env.is_superuser() and not self.env.user.has_group(
            'fusion_clover.group_fusion_clover_admin'
        ):
            raise AccessError(self.env._("Only a Clover administrator can change the Clover connection."))

    def _clover_get_callback_url(self):
        return self.get_base_url() + const.OAUTH_CALLBACK_ROUTE

    def _clover_get_dispatcher_secret(self):
        """Return the HMAC key for signed states; create one when this Odoo runs without a
        dispatcher, since then Odoo is the only party that signs and verifies."""
        params = self.env['ir.config_parameter'].sudo()
        secret = params.get_param(const.DISPATCHER_SECRET_PARAM)
        if not secret:
            if params.get_param(const.DISPATCHER_URL_PARAM):
                raise UserError(self.env._(
                    "Set the system parameter %s to the dispatcher's secret.",
                    const.DISPATCHER_SECRET_PARAM,
                ))
            secret = utils.new_secret()
            params.set_param(const.DISPATCHER_SECRET_PARAM, secret)
        return secret

    # === BUSINESS METHODS: CONNECTION === #

    def _clover_exchange_oauth_code(self, code, merchant_id=None):
        """Exchange an authorization code for tokens and store them (with the merchant, if given).

        A v2 code gives an expiring access token and a refresh token. Codes from the legacy
        authorize page fail at v2 with a 401; they are retried at the legacy endpoint, which
        answers with a non-expiring access token only.

        :return: The token response.
        :rtype: dict
        """
        self.ensure_one()
        credentials = {
            'client_id': self.clover_app_id,
            'client_secret': self.sudo().clover_app_secret,
            'code': code,
        }
        try:
            token_data = self._clover_api_request('oauth', 'POST', '/oauth/v2/token', payload=credentials)
        except CloverAPIError as error:
            if error.status != 401:
                raise
            _logger.info("Clover refused the code at v2; trying the legacy exchange.")
            token_data = self._clover_api_request('oauth', 'POST', '/oauth/token', params=credentials)
        values = self._clover_token_values(token_data)
        if merchant_id:
            values['clover_merchant_id'] = merchant_id
        self._clover_commit_connection_values(values)
        return token_data

    def _clover_complete_connection(self, merchant_id, code):
        """Finish a Connect: store the merchant and its tokens, then fetch its name and PAKMS key."""
        self.ensure_one()
        self._clover_exchange_oauth_code(code, merchant_id=merchant_id)
        self._clover_fetch_merchant_name()
        pakms = self._clover_api_request('ecommerce', 'GET', '/pakms/apikey')
        self._clover_commit_connection_values({'clover_pakms_key': pakms['apiAccessKey']})

    def _clover_fetch_merchant_name(self):
        merchant_id = self._clover_get_connection_values()['clover_merchant_id']
        if not merchant_id:
            raise UserError(self.env._("Connect to Clover first: no merchant is set."))
        merchant = self._clover_api_request('platform', 'GET', f'/v3/merchants/{merchant_id}')
        self._clover_commit_connection_values({'clover_merchant_name': merchant.get('name')})
        return merchant.get('name')

    @api.model
    def _clover_token_values(self, token_data):
        """Return the provider values of a token or refresh response: the access token, the new
        refresh token and the expiry always travel together."""
        expiration = token_data.get('access_token_expiration')
        return {
            'clover_oauth_access_token': token_data['access_token'],
            'clover_oauth_refresh_token': token_data.get('refresh_token') or False,
            'clover_oauth_token_expiry': expiration and datetime.fromtimestamp(
                int(expiration), tz=UTC
            ).replace(tzinfo=None),
            'clover_oauth_last_refresh': fields.Datetime.now(),
        }

    # === TOKEN FRESHNESS === #

    @contextmanager
    def _clover_connection_cursor(self):
        """Yield this provider as superuser in a cursor of its own, committed on exit.

        Clover's refresh tokens are single use: a rotated token written in the business
        transaction would be lost if that transaction rolled back, while Clover has already burnt
        the old one. So the connection columns live outside business transactions.
        """
        # The other cursor reads the database: hand it this transaction's pending writes.
        self.flush_recordset()
        with self.env.registry.cursor() as cr:
            # Fail rather than hang if this very request already holds the provider row.
            cr.execute("SET LOCAL lock_timeout = '15s'")
            yield self.with_env(self.env(cr=cr, su=True))

    def _clover_commit_connection_values(self, values):
        """Write connection values (tokens, merchant, PAKMS key) and commit them at once."""
        self.ensure_one()
        with self._clover_connection_cursor() as provider:
            provider.write(values)
        self.invalidate_recordset(list(values))

    def _clover_get_connection_values(self):
        """Read the connection as committed now, not as this transaction's snapshot saw it."""
        self.ensure_one()
        with self._clover_connection_cursor() as provider:
            return provider.read(CONNECTION_FIELDS)[0]

    def _clover_get_platform_token(self):
        """Return the OAuth access token to use now, refreshed first if it expires within 60 s."""
        return self._clover_refresh_oauth_if_needed()

    def _clover_refresh_oauth_if_needed(self):
        """Return a usable access token, refreshing it when it is about to expire.

        The common case reads this transaction's view of the token and opens no other cursor;
        only an expiring token goes through the locked, committed refresh.
        """
        provider_sudo = self.sudo()
        values = {
            'clover_oauth_access_token': provider_sudo.clover_oauth_access_token,
            'clover_oauth_token_expiry': provider_sudo.clover_oauth_token_expiry,
        }
        if values['clover_oauth_access_token'] and not self._clover_needs_refresh(values, None, False):
            return values['clover_oauth_access_token']
        return self._clover_locked_refresh(rejected_token=None)

    def _clover_refresh_oauth_token(self, rejected_token=None):
        """Refresh the OAuth access token (unless a concurrent caller just did).

        :return: True when a usable access token is stored.
        :rtype: bool
        """
        return bool(self._clover_locked_refresh(rejected_token=rejected_token, force=not rejected_token))

    def _clover_locked_refresh(self, rejected_token=None, force=False):
        """Return a usable access token, refreshing it at Clover only if still needed once the
        provider row is locked, so that N concurrent callers cause exactly one refresh.

        :param str rejected_token: A token Clover just answered 401 to.
        :param bool force: Refresh even if the token looks valid.
        :return: The access token to use, or None when no OAuth token is stored.
        :rtype: str|None
        """
        self.ensure_one()
        for attempt in range(3):
            try:
                return self._clover_refresh_in_own_cursor(rejected_token, force)
            except psycopg2.errors.SerializationFailure:
                # A concurrent refresher committed while we waited for the lock: our snapshot
                # is stale. A new cursor sees its result and will not refresh again.
                if attempt == 2:
                    raise
                force = False
        return None  # Unreachable; keeps linters certain of the return type.

    def _clover_refresh_in_own_cursor(self, rejected_token, force):
        with self._clover_connection_cursor() as provider:
            values = provider._clover_read_connection_for_update(lock=False)
            if not provider._clover_needs_refresh(values, rejected_token, force):
                return values['clover_oauth_access_token'] or None
            values = provider._clover_read_connection_for_update(lock=True)
            if not provider._clover_needs_refresh(values, rejected_token, force):
                return values['clover_oauth_access_token']
            if not values['clover_oauth_refresh_token']:
                raise CloverAPIError(
                    self.env._("The Clover access token expired and there is no refresh token. "
                      "Reconnect to Clover."), status=401,
                )
            token_data = provider._clover_api_request('oauth', 'POST', '/oauth/v2/refresh', payload={
                'client_id': provider.clover_app_id,
                'refresh_token': values['clover_oauth_refresh_token'],
            })
            provider.write(provider._clover_token_values(token_data))
            _logger.info("Refreshed the Clover OAuth token of provider %s.", provider.id)
            return token_data['access_token']

    def _clover_read_connection_for_update(self, lock):
        if lock:
            # Wait for a concurrent refresher rather than refresh a second time.
            # Losing that wait to a concurrent refresh is expected and retried: do not log it.
            self.env.cr.execute(
                "SELECT id FROM payment_provider WHERE id = %s FOR NO KEY UPDATE", [self.id],
                log_exceptions=False,
            )
            self.invalidate_recordset(CONNECTION_FIELDS)
        return self.read(CONNECTION_FIELDS)[0]

    @api.model
    def _clover_needs_refresh(self, values, rejected_token, force):
        access_token = values['clover_oauth_access_token']
        if not access_token:
            return False
        if force or (rejected_token and access_token == rejected_token):
            return True
        expiry = values['clover_oauth_token_expiry']
        margin = timedelta(seconds=const.TOKEN_REFRESH_MARGIN)
        return bool(expiry) and expiry - margin <= fields.Datetime.now()

    # === REQUEST HELPERS === #

    def _clover_api_request(self, surface, method, endpoint, *, payload=None, params=None,
                            idempotency_key=None, reference=None, timeout=None, headers=None):
        """The one way out to Clover: every feature calls Clover through here.

        :param str surface: `oauth`, `ecommerce`, `token`, `platform` or `connect`.
        :param str method: The HTTP method.
        :param str endpoint: The path on the surface's host, e.g. `/v1/charges`.
        :param dict payload: The JSON body.
        :param dict params: The query string.
        :param str idempotency_key: Sent as `Idempotency-Key`; required on money-moving calls.
        :param str reference: The transaction reference, for the logs.
        :param float timeout: Seconds to wait instead of the surface's default.
        :param dict headers: Extra headers (`x-forwarded-for`, `X-Clover-Device-Id`, ...).
        :return: The JSON response, `{}` when Clover answers with no body.
        :rtype: dict
        :raise CloverAPIError: When Clover refuses the request or cannot be reached.
        :raise UserError: When the provider lacks the credentials the surface needs.
        """
        self.ensure_one()
        return self._send_api_request(
            method, endpoint, params=params, json=payload, reference=reference,
            clover_surface=surface, idempotency_key=idempotency_key, clover_timeout=timeout,
            clover_headers=headers or {},
        )

    def _send_api_request(self, method, endpoint, *, params=None, data=None, json=None,
                          reference=None, **kwargs):
        """Override of `payment` for Clover's timeouts per surface, its error contract and the
        401 → refresh → retry-once rule, through the same build, log and parse hooks."""
        if self.code != 'clover':
            return super()._send_api_request(
                method, endpoint, params=params, data=data, json=json, reference=reference,
                **kwargs,
            )
        surface = kwargs['clover_surface']
        credential = self._clover_get_credential(surface)
        response = self._clover_send(method, endpoint, params, json, reference, credential, kwargs)
        if response.status_code == 401 and credential[0] == 'oauth':
            # An access token can die before its stated expiry; retry once with a new one. The
            # retry does not come back here, so a second 401 is final.
            credential = ('oauth', self._clover_locked_refresh(rejected_token=credential[1]))
            response = self._clover_send(method, endpoint, params, json, reference, credential, kwargs)
        if not response.ok:
            raise self._clover_error_from_response(response)
        return self._parse_response_content(response, **kwargs)

    def _clover_send(self, method, endpoint, params, json, reference, credential, kwargs):
        url = self._build_request_url(endpoint, **kwargs)
        headers = self._build_request_headers(method, endpoint, json, clover_credential=credential, **kwargs)
        self._log_request(method, url, json or params, reference=reference)
        timeout = kwargs.get('clover_timeout') or const.SURFACE_TIMEOUTS[kwargs['clover_surface']]
        try:
            response = requests.request(
                method, url, params=params, json=json, headers=headers, timeout=timeout,
            )
        except requests.exceptions.Timeout as error:
            raise CloverAPIError(
                self.env._("Clover did not answer in time. The outcome is unknown; retrying is safe."),
                outcome_unknown=True,
            ) from error
        except requests.exceptions.RequestException as error:
            raise CloverAPIError(
                self.env._("Could not establish the connection to Clover."), outcome_unknown=True,
            ) from error
        self._log_response(response, reference=reference)
        return response

    def _clover_get_credential(self, surface):
        """Return `(kind, secret)` for the surface, by precedence: OAuth access token, legacy
        REST token, Ecommerce private key. Token calls use the PAKMS key; OAuth calls carry the
        app credentials in their body instead."""
        if surface == 'oauth':
            return ('none', None)
        if surface == 'token':
            pakms_key = self.clover_pakms_key
            if not pakms_key:
                raise UserError(self.env._("No PAKMS key: connect to Clover first."))
            return ('apikey', pakms_key)
        access_token = self._clover_get_platform_token()
        if access_token:
            return ('oauth', access_token)
        if surface == 'connect':
            raise UserError(self.env._(
                "Clover terminals (REST Pay Display) accept only an OAuth token. "
                "Click Connect to Clover on the provider."
            ))
        provider_sudo = self.sudo()
        if provider_sudo.clover_rest_api_token:
            return ('legacy', provider_sudo.clover_rest_api_token)
        if provider_sudo.clover_api_key:
            return ('ecommerce_key', provider_sudo.clover_api_key)
        raise UserError(self.env._("This provider is not connected to Clover. Click Connect to Clover."))

    def _build_request_url(self, endpoint, **kwargs):
        """Override of `payment` to pick the host of the request's surface."""
        if self.code != 'clover':
            return super()._build_request_url(endpoint, **kwargs)
        return self._clover_get_base_url(const.SURFACE_HOSTS[kwargs['clover_surface']]) + endpoint

    def _build_request_headers(self, method, endpoint, payload, **kwargs):
        """Override of `payment` to authenticate and label the request for Clover."""
        if self.code != 'clover':
            return super()._build_request_headers(method, endpoint, payload, **kwargs)
        headers = {
            'Accept': 'application/json',
            'User-Agent': const.USER_AGENT,
        }
        kind, secret = kwargs['clover_credential']
        if kind == 'apikey':
            headers['apikey'] = secret
        elif secret:
            headers['Authorization'] = f'Bearer {secret}'
        if kwargs['clover_surface'] == 'connect':
            headers['X-POS-Id'] = self.clover_remote_app_id or const.DEFAULT_POS_ID
        if kwargs.get('idempotency_key'):
            headers['Idempotency-Key'] = kwargs['idempotency_key']
        headers.update(kwargs.get('clover_headers') or {})
        return headers

    def _parse_response_content(self, response, **kwargs):
        """Override of `payment` to accept Clover's empty bodies."""
        if self.code != 'clover':
            return super()._parse_response_content(response, **kwargs)
        return response.json() if response.content.strip() else {}

    def _parse_response_error(self, response):
        """Override of `payment` to read Clover's `{"error": {...}}` or `{"message"}` bodies."""
        if self.code != 'clover':
            return super()._parse_response_error(response)
        return self._clover_error_details(response)['message']

    @api.model
    def _clover_error_details(self, response):
        try:
            body = response.json()
        except ValueError:
            body = {}
        error = body.get('error') if isinstance(body, dict) else None
        if not isinstance(error, dict):
            error = body if isinstance(body, dict) else {}
        return {
            'message': error.get('message') or response.reason or str(response.status_code),
            'code': error.get('code'),
            'decline_code': error.get('decline_code') or error.get('declineCode'),
            'error_type': error.get('type'),
        }

    def _clover_error_from_response(self, response):
        details = self._clover_error_details(response)
        status = response.status_code
        if status == 401:
            message = self.env._(
                "Clover refused the credentials (%s). Reconnect to Clover; if it persists, the "
                "Clover app lacks a permission and the merchant must reinstall it.",
                details['message'],
            )
        elif status == 429:
            message = self.env._("Clover is rate limiting requests; try again in a moment.")
        elif status >= 500:
            message = self.env._("Clover had an error (HTTP %(status)s): %(message)s",
                        status=status, message=details['message'])
        else:
            message = self.env._("Clover refused the request: %s", details['message'])
        return CloverAPIError(
            message, status=status, code=details['code'], decline_code=details['decline_code'],
            error_type=details['error_type'], outcome_unknown=status >= 500,
        )

    def _log_request(self, method, url, payload, *, reference=None):
        """Override of `payment` to keep secrets and card data out of the logs."""
        if self.code == 'clover':
            url, payload = utils.redact_url(url), utils.redact(payload)
        return super()._log_request(method, url, payload, reference=reference)

    def _log_response(self, response, *, reference=None):
        """Override of `payment` to keep tokens and card data out of the logs."""
        if self.code != 'clover':
            return super()._log_response(response, reference=reference)
        log = _logger.info if response.ok else _logger.warning
        log(
            "Received HTTP %s from Clover at %s for %s:\n%s",
            response.status_code, utils.redact_url(response.url),
            f"transaction {reference}" if reference else f"provider {self.id}",
            utils.redact_text(response.text),
        )
        return None
