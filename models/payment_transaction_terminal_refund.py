from odoo import models

from odoo.addons.payment.logging import get_payment_logger

from .. import const, utils
from .payment_provider import CloverAPIError

_logger = get_payment_logger(__name__, const.SENSITIVE_KEYS)

# REST Pay Display's paths (clover-api.md §5.2): they go through the terminal, not the
# Ecommerce API.
CONNECT_PREFIX = '/connect/'


class PaymentTransaction(models.Model):
    """Money given back on a terminal: refunds and voids of terminal sales, sent and, when Clover
    does not answer, sent again by the same machinery as online requests.

    Loaded after payment_transaction_request.py, whose `_clover_post` this extends.
    """

    _inherit = 'payment.transaction'

    # === BUSINESS METHODS - REFUNDS ON A TERMINAL === #

    def _clover_refund_on_terminal(self, amount):
        """Refund `amount` of the source terminal payment through REST Pay Display."""
        self.clover_refund_kind = 'refund'
        self._clover_send_money_request(
            'refund', f'{CONNECT_PREFIX}v1/payments/{self.source_transaction_id.provider_reference}/refunds',
            utils.build_payment_refund_payload(amount), scope='refund',
        )

    def _clover_void_terminal_sale(self):
        """Void the whole source terminal sale while Clover has not sent it to funding: the
        customer's statement then shows nothing rather than a sale and a refund."""
        self.clover_refund_kind = 'void'
        self._clover_send_money_request(
            'refund', f'{CONNECT_PREFIX}v1/payments/{self.source_transaction_id.provider_reference}/void',
            {'voidReason': 'USER_CANCEL'}, scope='void',
        )

    def _clover_post(self, request):
        """Override to send REST Pay Display requests through the payment's terminal, so that an
        unanswered terminal refund is kept and sent again like any other request."""
        if not request['endpoint'].startswith(CONNECT_PREFIX):
            return super()._clover_post(request)
        terminal = (self.source_transaction_id or self).clover_terminal_id
        try:
            answer = terminal._clover_request(
                'POST', request['endpoint'], payload=request['payload'],
                idempotency_key=request['idempotency_key'], reference=self.reference,
            )
        except CloverAPIError as error:
            if not error.is_decline:
                raise
            return {'error': {
                'message': str(error), 'code': error.code, 'decline_code': error.decline_code,
            }}
        return self._clover_refund_from_terminal_answer(answer)

    def _clover_refund_from_terminal_answer(self, answer):
        """Return REST Pay's answer to a refund or a void as the refund object an online refund
        answers with, so both are processed alike.

        A refund answers `{refund, payment}`; a void answers with the voided payment alone.
        Clover answers a void it turned into a refund (past its window) with a refund: that is
        said, and booked as the refund it is.
        """
        currency = self.currency_id.name.lower()
        refund = answer.get('refund')
        if refund:
            if self.clover_refund_kind == 'void':
                _logger.warning(
                    "Clover refunded terminal payment %s instead of voiding it (%s).",
                    self.source_transaction_id.provider_reference, self.reference,
                )
                self.clover_refund_kind = 'refund'
            return {
                'id': refund['id'], 'amount': refund['amount'], 'currency': currency,
                'status': 'succeeded', 'metadata': self._clover_metadata(),
            }
        payment = answer.get('payment') or {}
        return {
            'id': payment.get('id'), 'amount': payment.get('amount'), 'currency': currency,
            'status': 'succeeded' if payment.get('result') == 'VOIDED' else payment.get('result'),
            'metadata': self._clover_metadata(),
        }
