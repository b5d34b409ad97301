import json
import time
from urllib.parse import urlencode

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from odoo.addons.payment import utils as payment_utils
from odoo.addons.payment.logging import get_payment_logger

from .. import const, utils

# Shared by the provider's files (connection, requests): one logger name for Clover's calls.
_logger = get_payment_logger(__name__, const.SENSITIVE_KEYS)


class CloverAPIError(ValidationError):
    """Clover refused a request or could not be reached.

    `outcome_unknown` is set when Clover may have acted without us learning the result (no answer,
    a timeout or a 5xx): money-moving callers must then keep the transaction pending and retry
    with the same idempotency key instead of declaring a failure. `nothing_sent` is set when the
    request never left Odoo (its credential could not be had): the caller may say so.
    """

    def __init__(self, message, *, status=None, code=None, decline_code=None,
                 error_type=None, outcome_unknown=False, nothing_sent=False):
        super().__init__(message)
        self.nothing_sent = nothing_sent
        self.status = status
        self.code = code
        self.decline_code = decline_code
        self.error_type = error_type
        self.outcome_unknown = outcome_unknown

    @property
    def is_decline(self):
        return self.error_type == 'card_error' or self.code == 'card_declined'


class CloverConnectionIncomplete(UserError):
    """A Connect stored the merchant's tokens, but a step after it failed: the message says what
    succeeded and what to try again."""


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
    clover_pakms_key = fields.Char(
        string="PAKMS Public Key",
        help="The public key the browser uses to tokenize cards; fetched when connecting.",
        copy=False,
    )
    clover_is_connected = fields.Boolean(
        string="Connected to Clover", compute='_compute_clover_is_connected',
    )
    clover_has_credential = fields.Boolean(
        string="Has Clover Credentials", compute='_compute_clover_has_credential',
        help="A merchant and a way to call Clover for it: an OAuth token, a legacy REST token or "
             "an Ecommerce private key.",
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

    @api.depends('clover_merchant_id', 'clover_oauth_access_token', 'clover_rest_api_token', 'clover_api_key')
    def _compute_clover_has_credential(self):
        # Whether a secret exists is computed as superuser; the secrets stay unread.
        for provider in self:
            provider_sudo = provider.sudo()
            provider.clover_has_credential = bool(provider.clover_merchant_id and (
                provider_sudo.clover_oauth_access_token or provider_sudo.clover_rest_api_token
                or provider_sudo.clover_api_key
            ))

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
        attached on their own forbid manual capture.

        Run on every upgrade, it changes only providers without the form, which predate it: a
        brand an administrator attached since is theirs to keep.
        """
        outdated = self.with_context(active_test=False).search([
            ('code', '=', 'clover'), ('inline_form_view_id', '=', False),
        ])
        outdated.inline_form_view_id = self.env.ref('fusion_clover.inline_form')
        for provider in outdated:
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
        """Fetch the merchant from Clover's Platform API and say whom we are connected to; fetch
        the PAKMS key too when it is missing (a Connect that could not), since checkout needs it."""
        self.ensure_one()
        self._clover_check_admin()
        name = self._clover_fetch_merchant_name()
        message = self.env._("Test Connection successful. Merchant: %s", name)
        if not self._clover_get_connection_values()['clover_pakms_key']:
            self._clover_fetch_pakms_key()
            message = self.env._(
                "Test Connection successful. Merchant: %s. The card payment key (PAKMS) was "
                "fetched: customers can now pay by card.", name,
            )
        return {
            'type': 'ir.actions.client',
            'tag': 'display_notification',
            'params': {
                'type': 'success',
                'message': message,
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
        # A new connection replaces the previous one whole, its refresh token included.
        values = {'clover_oauth_refresh_token': False, **self._clover_token_values(token_data)}
        if merchant_id:
            values['clover_merchant_id'] = merchant_id
        self._clover_commit_connection_values(values)
        return token_data

    def _clover_complete_connection(self, merchant_id, code):
        """Finish a Connect: store the merchant and its tokens, then fetch its PAKMS key and name.

        The code is single use and its tokens are stored at once, so a failure past the exchange
        keeps the connection and says so: what is missing is fetched again by Test Connection.

        :raise CloverAPIError: When the code exchange fails (nothing is stored).
        :raise CloverConnectionIncomplete: When the tokens are stored but a later step failed.
        """
        self.ensure_one()
        self._clover_exchange_oauth_code(code, merchant_id=merchant_id)
        try:
            self._clover_fetch_pakms_key()
        except (CloverAPIError, UserError) as error:
            raise CloverConnectionIncomplete(self.env._(
                "Connected to Clover merchant %(merchant)s: its access tokens are stored. But "
                "Clover did not give the card payment key (PAKMS): %(error)s. Until it is "
                "fetched, customers cannot pay by card: click Test Connection on the provider "
                "to fetch it again.", merchant=merchant_id, error=error,
            )) from error
        try:
            self._clover_fetch_merchant_name()
        except (CloverAPIError, UserError) as error:
            raise CloverConnectionIncomplete(self.env._(
                "Connected to Clover merchant %(merchant)s, and customers can pay by card. But "
                "Clover did not give the merchant's name: %(error)s. Click Test Connection on "
                "the provider to fetch it again.", merchant=merchant_id, error=error,
            )) from error

    def _clover_fetch_pakms_key(self):
        """Fetch and store the merchant's PAKMS key, which the browser tokenizes cards with."""
        pakms_key = self._clover_api_request('ecommerce', 'GET', '/pakms/apikey').get('apiAccessKey')
        if not pakms_key:
            raise CloverAPIError(self.env._("Clover's answer holds no PAKMS key."))
        self._clover_commit_connection_values({'clover_pakms_key': pakms_key})

    def _clover_fetch_merchant_name(self):
        merchant_id = self._clover_get_connection_values()['clover_merchant_id']
        if not merchant_id:
            raise UserError(self.env._("Connect to Clover first: no merchant is set."))
        merchant = self._clover_api_request('platform', 'GET', f'/v3/merchants/{merchant_id}')
        self._clover_commit_connection_values({'clover_merchant_name': merchant.get('name')})
        return merchant.get('name')
