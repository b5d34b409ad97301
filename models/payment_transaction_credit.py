from odoo import api, models

from .. import utils

# How an Ecommerce `/v1/credits` answer is processed: not `credit`, which is REST Pay's credit
# object (terminal credits, see payment_transaction_terminal.py).
CREDIT_KIND = 'ecommerce_credit'


class PaymentTransaction(models.Model):
    """Non-referenced credits: money given back to a card without a payment to refund, booked
    as a refund transaction like any other refund."""

    _inherit = 'payment.transaction'

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
        self._clover_send_money_request(CREDIT_KIND, '/v1/credits', {
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
