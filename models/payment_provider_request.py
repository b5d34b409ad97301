import requests

from odoo import api, models
from odoo.exceptions import UserError

from .. import const, utils
from .payment_provider import CloverAPIError, _logger


class PaymentProvider(models.Model):
    """The one way out to Clover: host, credential, headers, timeouts, errors and logs of every
    call, through Odoo's `_send_api_request` hooks."""

    _inherit = 'payment.provider'

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
        request = (method, endpoint, params, json, reference)
        credential = self._clover_credential_before_sending(surface)
        response = self._clover_send_http_request(*request, credential, kwargs)
        if response.status_code == 401 and credential[0] == 'oauth':
            # An access token can die before its stated expiry; retry once with a new one. The
            # retry does not come back here, so a second 401 is final.
            credential = self._clover_credential_before_sending(surface, rejected=credential)
            response = self._clover_send_http_request(*request, credential, kwargs)
        if not response.ok:
            raise self._clover_error_from_response(response)
        return self._parse_response_content(response, **kwargs)

    def _clover_credential_before_sending(self, surface, rejected=None):
        """Return the credential for a request about to be sent, refreshing the OAuth token first
        when it is due or was just `rejected` (a 401).

        A refresh that fails has sent nothing of the request: whatever became of the refresh,
        the request itself has no unknown outcome, and its caller may say so and let it be tried
        again.

        :raise CloverAPIError: With `outcome_unknown` unset, when no credential could be had.
        """
        try:
            if rejected:
                return ('oauth', self._clover_locked_refresh(rejected_token=rejected[1]))
            return self._clover_get_credential(surface)
        except CloverAPIError as error:
            if not error.outcome_unknown:
                error.nothing_sent = True
                raise
            raise CloverAPIError(
                self.env._("Could not renew the access to Clover (%s); nothing was sent.", error),
                status=error.status, nothing_sent=True,
            ) from error

    def _clover_send_http_request(self, method, endpoint, params, json, reference, credential, kwargs):
        url = self._build_request_url(endpoint, **kwargs)
        headers = self._build_request_headers(method, endpoint, json, clover_credential=credential, **kwargs)
        self._log_request(
            method, url, json or params, reference=reference, clover_surface=kwargs['clover_surface'],
        )
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
            # Clover's text may quote what it was sent ("No such token: clv_..."): never repeat it.
            'message': utils.redact_text(
                str(error.get('message') or response.reason or response.status_code)
            ),
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

    def _log_request(self, method, url, payload, *, reference=None, clover_surface=None):
        """Override of `payment` to keep secrets and card data out of the logs; on the OAuth
        surface, a `code` is the authorization code (elsewhere it is Clover's readable error
        code)."""
        if self.code == 'clover':
            keys = const.OAUTH_SENSITIVE_KEYS if clover_surface == 'oauth' else const.SENSITIVE_KEYS
            url, payload = utils.redact_url(url, keys), utils.redact(payload, keys)
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
