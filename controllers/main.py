import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

from odoo import http
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.http import request

from odoo.addons.payment import utils as payment_utils
from odoo.addons.payment.logging import get_payment_logger

from .. import const, utils
from ..models.payment_provider import CloverAPIError, CloverConnectionIncomplete

_logger = get_payment_logger(__name__, const.OAUTH_SENSITIVE_KEYS)  # The callback carries `code`.


class CloverController(http.Controller):
    _payment_url = '/payment/clover/payment'

    @http.route(_payment_url, type='jsonrpc', auth='public')
    def clover_payment(self, reference, access_token, card_token):
        """Pay a transaction with the card token Clover's iframe made in the browser.

        The card itself never reaches Odoo: only its single-use `clv_` token does.

        :param str reference: The reference of the transaction.
        :param str access_token: The token signing the reference and the partner.
        :param str card_token: The `clv_` token.
        :return: The transaction's state and, if it failed, why (a decline's message).
        :rtype: dict
        """
        tx_sudo = request.env['payment.transaction'].sudo()
        if isinstance(reference, str):
            tx_sudo = tx_sudo._clover_lock_by_reference(reference)
        if not (tx_sudo and isinstance(access_token, str) and payment_utils.check_access_token(
            access_token, tx_sudo.reference, tx_sudo.partner_id.id,
        )):
            raise ValidationError(request.env._("Received tampered payment request data."))
        if not (isinstance(card_token, str) and len(card_token) <= utils.CARD_TOKEN_MAX_LENGTH
                and utils.CARD_TOKEN_RE.fullmatch(card_token)):
            raise ValidationError(request.env._("The card could not be read. Please try again."))
        tx_sudo._clover_pay_with_card_token(card_token, locked=True)
        return {
            'state': tx_sudo.state,
            'state_message': tx_sudo.state_message if tx_sudo.state == 'error' else '',
        }

    @http.route(const.OAUTH_CALLBACK_ROUTE, type='http', auth='user', methods=['GET'])
    def clover_oauth_callback(self, state=None, code=None, merchant_id=None, **kwargs):
        """Finish Connect to Clover: verify the signed state, exchange the code, store the tokens.

        Reached from Clover's authorize page, directly or through the dispatcher. Every refusal
        stores nothing and says why on a page; Clover's own errors never show as a traceback.
        """
        try:
            request.env['payment.provider']._clover_check_admin()
        except AccessError as error:
            return self._clover_result_page(403, error.args[0])
        providers_sudo = request.env['payment.provider'].sudo().search([
            ('code', '=', 'clover'),
            *request.env['payment.provider']._check_company_domain(request.env.user.company_ids),
        ])
        if not providers_sudo:
            return self._clover_result_page(
                404, request.env._("There is no Clover provider in this company.")
            )
        if not (state and code and merchant_id and utils.MERCHANT_ID_RE.fullmatch(merchant_id)):
            return self._clover_result_page(
                400, request.env._("Clover's answer is incomplete: state, code and merchant are required.")
            )

        provider_sudo, refusal = self._clover_check_state(state, merchant_id, providers_sudo)
        if refusal:
            return self._clover_result_page(403, refusal)
        known_merchant = provider_sudo.clover_merchant_id
        if known_merchant and known_merchant != merchant_id:
            return self._clover_result_page(403, request.env._(
                "This provider is connected to merchant %(known)s, not %(other)s. Disconnect it first.",
                known=known_merchant, other=merchant_id,
            ))
        try:
            provider_sudo._clover_complete_connection(merchant_id, code)
        except CloverConnectionIncomplete as error:
            _logger.warning("Connect to Clover incomplete for provider %s: %s", provider_sudo.id, error)
            return self._clover_result_page(502, str(error), provider=provider_sudo)
        except (CloverAPIError, UserError) as error:
            _logger.warning("Connect to Clover failed for provider %s: %s", provider_sudo.id, error)
            return self._clover_result_page(502, request.env._("Clover refused the connection: %s", error))
        provider_sudo.invalidate_recordset()
        return self._clover_result_page(200, request.env._(
            "Connected to Clover. Merchant: %s", provider_sudo.clover_merchant_name or merchant_id,
        ), provider=provider_sudo)

    def _clover_check_state(self, state, merchant_id, providers_sudo):
        """Verify `state` for a callback naming `merchant_id`; consume it if valid.

        :return: The provider the state is for and None, or None and why the state is refused.
        :rtype: tuple
        """
        secret = request.env['ir.config_parameter'].sudo().get_param(const.DISPATCHER_SECRET_PARAM)
        if not secret:
            return None, request.env._("No state secret is configured: start again from Connect to Clover.")
        try:
            payload = utils.verify_state(state, secret, int(time.time()))
        except utils.InvalidState as error:
            _logger.warning("Refused a Clover OAuth state: %s.", error.reason)
            if error.reason == 'outdated':
                return None, request.env._(
                    "This sign-in link was made by an older version; start again from Connect to Clover."
                )
            return None, request.env._(
                "The sign-in link is invalid or has expired (%s). Start again from Connect to Clover.",
                error.reason,
            )
        provider_sudo, refusal = self._clover_bound_provider(payload, merchant_id, providers_sudo)
        if refusal:
            return None, refusal
        if not self._clover_is_own_callback(payload['redirect_to'], provider_sudo):
            _logger.warning("Refused a Clover OAuth state meant for another Odoo.")
            return None, request.env._("This sign-in link was issued for another Odoo.")
        issued_at = datetime.fromtimestamp(payload['iat'], tz=UTC).replace(tzinfo=None)
        if not request.env['clover.oauth.nonce'].sudo()._consume(payload['nonce'], issued_at):
            _logger.warning("Refused a replayed Clover OAuth state.")
            return None, request.env._(
                "This sign-in link was already used. Start again from Connect to Clover."
            )
        return provider_sudo, None

    @staticmethod
    def _clover_bound_provider(payload, merchant_id, providers_sudo):
        """Return the provider a verified state binds to and None, or None and why it binds to none.

        A Connect state (`sub`) completes only for the admin who clicked Connect, on that provider.
        A launch state from the dispatcher (`merchant_id`) completes only for that merchant, on
        the provider already connected to it, else the current company's.
        """
        if 'sub' in payload:
            provider_sudo = next(
                (p for p in providers_sudo if p._clover_is_state_subject(payload)), None,
            )
            if not provider_sudo:
                _logger.warning("Refused a Clover OAuth state issued to another user or provider.")
                return None, request.env._(
                    "This sign-in link was started by another user or for another Clover provider."
                    " Start again from Connect to Clover."
                )
            return provider_sudo, None
        if payload['merchant_id'] != merchant_id:
            _logger.warning("Refused a Clover launch state issued for another merchant.")
            return None, request.env._(
                "This sign-in link was issued for another Clover merchant. Open the app again from Clover."
            )
        provider_sudo = providers_sudo.filtered(lambda p: p.clover_merchant_id == merchant_id)[:1] \
            or providers_sudo.filtered(lambda p: not p.company_id or p.company_id == request.env.company)[:1]
        if not provider_sudo:
            return None, request.env._("There is no Clover provider in this company.")
        return provider_sudo, None

    @staticmethod
    def _clover_is_own_callback(redirect_to, provider_sudo):
        """Whether a state's `redirect_to` is this Odoo's callback, by the dispatcher's rules."""
        own = urlsplit(provider_sudo._clover_get_callback_url())
        if utils.redirect_problem(redirect_to, {own.hostname}, scheme=own.scheme):
            return False
        target = urlsplit(redirect_to)
        return (target.port, target.path) == (own.port, own.path)

    @staticmethod
    def _clover_result_page(status, message, provider=None):
        values = {'message': message, 'success': status == 200, 'provider': provider}
        return request.render('fusion_clover.oauth_result', values, status=status)
