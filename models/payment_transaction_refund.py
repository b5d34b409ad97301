from odoo import models
from odoo.exceptions import ValidationError

from odoo.addons.payment.logging import get_payment_logger

from .. import const, utils
from .payment_provider import CloverAPIError

_logger = get_payment_logger(__name__, const.SENSITIVE_KEYS)

# A refund body Clover refused as such (spec.md §7), not a refusal of the refund itself.
REFUND_BODY_ERROR_CODES = (None, 'invalid_request')


class PaymentTransaction(models.Model):
    """Captures, voids and refunds of Clover payments, apart from the payment flow."""

    _inherit = 'payment.transaction'

    def _send_capture_request(self):
        """Override of `payment` to capture the authorized Clover charge of the source transaction.

        Clover captures a charge once: the provider supports full captures only.
        """
        if self.provider_code != 'clover':
            return super()._send_capture_request()
        charge_id = self.source_transaction_id.provider_reference
        self._clover_send_money_request(
            'charge', f'/v1/charges/{charge_id}/capture',
            {'amount': utils.format_clover_amount(self.amount, self.currency_id)}, scope='capture',
        )
        return None

    def _send_void_request(self):
        """Override of `payment` to void the uncaptured Clover charge of the source transaction.

        Clover has no void endpoint: a refund without an amount voids an uncaptured charge whole.
        """
        if self.provider_code != 'clover':
            return super()._send_void_request()
        self._clover_send_money_request(
            'refund', '/v1/refunds', {'charge': self.source_transaction_id.provider_reference},
            scope='void',
        )
        return None

    def _send_refund_request(self):
        """Override of `payment` to refund (part of) the Clover charge of the source transaction.

        The refund carries its amount. Some sandboxes refuse any refund body but `{"charge"}`
        (spec.md §7), which refunds all that remains: that body is sent only when Clover confirms
        that what remains is exactly this refund, so a partial refund never becomes a full one.
        """
        if self.provider_code != 'clover':
            return super()._send_refund_request()
        source_tx = self.source_transaction_id
        # Refunds of one charge are checked and sent one at a time.
        source_tx._clover_lock()
        amount = utils.format_clover_amount(-self.amount, self.currency_id)
        self._clover_check_refundable(amount)
        charge_id = source_tx.provider_reference
        try:
            self._clover_send_money_request('refund', '/v1/refunds', {
                'charge': charge_id, 'amount': amount, 'metadata': self._clover_metadata(),
            }, scope='refund')
        except CloverAPIError as error:
            if error.status != 400 or error.code not in REFUND_BODY_ERROR_CODES:
                raise
            self._clover_refund_all_that_remains(charge_id, amount, error)

    def _clover_check_refundable(self, amount):
        """Refuse, before calling Clover, a refund above what is left to refund on the source.

        Pending refunds count: Clover may have made them.

        :param int amount: The refund in minor units.
        :raise ValidationError: If the refund is larger than what remains.
        """
        source_tx = self.source_transaction_id
        refunded = -sum(
            (source_tx.child_transaction_ids - self).filtered(
                lambda tx: tx.operation == 'refund' and tx.state in ('pending', 'done')
            ).mapped('amount')
        )
        left = max(source_tx.amount - refunded, 0.0) if source_tx.state == 'done' else 0.0
        if amount > utils.format_clover_amount(left, self.currency_id):
            raise ValidationError(self.env._(
                "Cannot refund %(amount)s: only %(left)s of %(reference)s is left to refund.",
                amount=self.currency_id.format(-self.amount),
                left=self.currency_id.format(left),
                reference=source_tx.reference,
            ))

    def _clover_refund_all_that_remains(self, charge_id, amount, error):
        """Refund with the bare `{"charge"}` body once Clover refused the amount, if and only if
        what remains on the charge at Clover is this very refund."""
        charge = self.provider_id._clover_api_request(
            'ecommerce', 'GET', f'/v1/charges/{charge_id}', reference=self.reference,
        )
        captured = charge.get('amount_captured', charge['amount'] if charge.get('captured') else 0)
        remaining = captured - charge.get('amount_refunded', 0)
        if remaining != amount:
            raise ValidationError(self.env._(
                "Clover refused a refund with an amount (%(error)s). This Clover account only "
                "refunds all that remains on a charge (%(remaining)s here): make this partial "
                "refund from the Clover dashboard.",
                error=error,
                remaining=self.currency_id.format(
                    utils.parse_clover_amount(remaining, self.currency_id)
                ),
            ))
        _logger.info(
            "Clover refused the refund amount of %s; refunding all that remains, which is the "
            "same amount.", self.reference,
        )
        self._clover_send_money_request('refund', '/v1/refunds', {'charge': charge_id}, scope='refund-all')
