from odoo import api, models

from odoo.addons.payment.logging import get_payment_logger

from .. import const, utils
from .payment_provider import CloverAPIError

_logger = get_payment_logger(__name__, const.SENSITIVE_KEYS)

# How an Ecommerce `/v1/credits` answer is processed: not `credit`, which is REST Pay's credit
# object (terminal credits, see payment_transaction_terminal.py).
CREDIT_KIND = 'ecommerce_credit'
# REST Pay Display's paths (clover-api.md §5.2): they go through the terminal, not the
# Ecommerce API.
CONNECT_PREFIX = '/connect/'


class PaymentTransaction(models.Model):
    """Money given back on a terminal (refunds and voids of terminal sales) and non-referenced
    credits, booked as refund transactions like any other refund."""

    _inherit = 'payment.transaction'

    # === BUSINESS METHODS - REFUNDS ON A TERMINAL === #

    def _clover_refund_on_terminal(self, amount):
        """Refund `amount` of the source terminal payment through REST Pay Display."""
        self.clover_refund_kind = 'refund'
        self._clover_send(
            'refund', f'{CONNECT_PREFIX}v1/payments/{self.source_transaction_id.provider_reference}/refunds',
            utils.build_payment_refund_payload(amount), scope='refund',
        )

    def _clover_void_terminal_sale(self):
        """Void the whole source terminal sale while Clover has not sent it to funding: the
        customer's statement then shows nothing rather than a sale and a refund."""
        self.clover_refund_kind = 'void'
        self._clover_send(
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

    # === BUSINESS METHODS - NON-REFERENCED CREDITS === #

    def _clover_send_credit(self):
        """Give money back without a payment to refund (older than 180 days, or none at all):
        to the customer's saved card through `/v1/credits`, or on a terminal where they tap
        their card (the terminal engine runs it).

        For a draft refund transaction without source, with `token_id` or `clover_terminal_id`.
        """
        self.ensure_one()
        self.clover_refund_kind = 'credit'
        if self.clover_terminal_id:
            self._clover_start_terminal_payment()
            return
        self._clover_send(CREDIT_KIND, '/v1/credits', {
            'amount': utils.format_clover_amount(-self.amount, self.currency_id),
            'currency': self.currency_id.name.lower(),
            'source': self.token_id.clover_source_token,
            'metadata': self._clover_metadata(),
        }, scope='credit')

    # === BUSINESS METHODS - PROCESSING === #

    @api.model
    def _extract_reference(self, provider_code, payment_data):
        """Override to find a credit's transaction by the reference its metadata carries."""
        if provider_code != 'clover' or CREDIT_KIND not in payment_data:
            return super()._extract_reference(provider_code, payment_data)
        return payment_data.get('reference') or (
            payment_data[CREDIT_KIND].get('metadata') or {}
        ).get('odoo_reference')

    def _extract_amount_data(self, payment_data):
        """Override to read a credit's amount and currency."""
        if self.provider_code != 'clover' or CREDIT_KIND not in payment_data:
            return super()._extract_amount_data(payment_data)
        credit = payment_data[CREDIT_KIND]
        return {
            'amount': utils.parse_clover_amount(credit['amount'], self.currency_id),
            'currency_code': credit['currency'].upper(),
        }

    def _apply_updates(self, payment_data):
        """Override to settle a credit from Clover's answer."""
        if self.provider_code != 'clover' or CREDIT_KIND not in payment_data:
            return super()._apply_updates(payment_data)
        credit = payment_data[CREDIT_KIND]
        self.provider_reference = credit['id']
        if credit.get('status') != 'succeeded':
            self._set_error(self.env._("Clover did not make the credit (status %s).", credit.get('status')))
            return None
        self.write(self._clover_card_values(credit.get('source') or {}))
        self._set_done()
        # No customer polls a credit: post-process it now (creates its payment).
        self.env.ref('payment.cron_post_process_payment_tx')._trigger()
        return None
