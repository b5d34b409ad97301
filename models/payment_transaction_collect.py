from odoo import Command, fields, models
from odoo.exceptions import ValidationError

from odoo.addons.payment.logging import get_payment_logger

from .. import const

_logger = get_payment_logger(__name__, const.SENSITIVE_KEYS)

# What Clover's `cardTransaction.entryType` says of a card typed in by a clerk.
KEYED_ENTRY_TYPE = 'KEYED'


class PaymentTransaction(models.Model):
    """Payments a clerk collects in the back office (clover.payment.wizard): a keyed card charged
    as card-not-present (`ecomind` moto), and the card processing fee booked once Clover approved
    the payment."""

    _inherit = 'payment.transaction'

    clover_surcharge_invoice_id = fields.Many2one(
        string="Surcharge Invoice", comodel_name='account.move', readonly=True, copy=False,
        help="The invoice of the card processing fee, paid by this transaction with the invoice.",
    )
    clover_surcharge_line_id = fields.Many2one(
        string="Surcharge Order Line", comodel_name='sale.order.line', readonly=True, copy=False,
        help="The order line of the card processing fee, added when Clover approved the payment.",
    )

    # === BUSINESS METHODS - KEYED CARD === #

    def _clover_is_keyed_card(self):
        """Whether this is a card a clerk keyed in: an offline payment with neither a saved card
        nor a terminal."""
        return (
            self.provider_code == 'clover' and self.operation == 'offline'
            and not self.token_id and not self.clover_terminal_id
        )

    def _clover_charge_keyed_card(self, card_token):
        """Charge the single-use `clv_` token Clover's iframe made of a card keyed in by a clerk,
        then process Clover's answer.

        As for the portal's card token, the row lock makes a second request for the same
        transaction find it no longer a draft: the token is spent once.

        :param str card_token: The `clv_` token made in the clerk's browser.
        """
        self.ensure_one()
        self._clover_lock()
        if self.state != 'draft' or not self._clover_is_keyed_card():
            _logger.warning(
                "Refused to charge transaction %s (%s, %s) with a keyed card.",
                self.reference, self.operation, self.state,
            )
            return
        try:
            self._clover_charge(card_token)
        except ValidationError as error:
            self._set_error(str(error))

    def _clover_charge_payload(self, source):
        """Override to charge a keyed card as a mail or telephone order, as card networks require
        of a card the clerk typed in for a customer who is not there."""
        payload = super()._clover_charge_payload(source)
        if self._clover_is_keyed_card():
            payload['ecomind'] = 'moto'
        return payload

    def _clover_apply_charge(self, charge):  # pylint: disable=missing-return
        """Override to record a keyed card's entry: Ecommerce charges do not tell it, and the
        clerk typed the card in."""
        super()._clover_apply_charge(charge)
        if self._clover_is_keyed_card() and not self.clover_entry_type:
            self.clover_entry_type = KEYED_ENTRY_TYPE

    # === BUSINESS METHODS - SURCHARGE BOOKING === #

    def _post_process(self):  # pylint: disable=missing-return
        """Override of `payment` to book the card processing fee of approved payments before
        Odoo books the payment itself, so the documents' totals match what was charged."""
        for tx in self.filtered(lambda t: t.state == 'done' and t._clover_has_unbooked_surcharge()):
            tx._clover_book_surcharge()
        super()._post_process()

    def _clover_has_unbooked_surcharge(self):
        return (
            self.provider_code == 'clover'
            and self.currency_id.compare_amounts(self.clover_surcharge_amount, 0) > 0
            and not (self.clover_surcharge_invoice_id or self.clover_surcharge_line_id)
        )

    def _clover_book_surcharge(self):
        """Book the fee Clover charged with the payment: on a sale order, as a fee line (the
        order's total then includes it, as the payment does); on an invoice, as a fee invoice
        that this transaction pays with the invoice."""
        self.ensure_one()
        tx = self.sudo().with_company(self.company_id)
        if len(tx.sale_order_ids) == 1 and not tx.invoice_ids:
            tx.clover_surcharge_line_id = tx._clover_add_surcharge_line(tx.sale_order_ids)
        elif tx.invoice_ids:
            fee_invoice = tx._clover_create_surcharge_invoice(tx.invoice_ids[0])
            tx.write({
                'clover_surcharge_invoice_id': fee_invoice.id,
                'invoice_ids': [Command.link(fee_invoice.id)],
            })

    def _clover_surcharge_label(self):
        return self.env._("Card processing fee (%(reference)s)", reference=self.reference)

    def _clover_surcharge_product(self):
        product = self.company_id.clover_surcharge_product_id
        if not product:
            raise ValidationError(self.env._(
                "No card surcharge product is set in the Clover settings of %s.",
                self.company_id.name,
            ))
        return product

    def _clover_add_surcharge_line(self, order):
        """Add the fee to the order, untaxed and at the price charged."""
        line = self.env['sale.order.line'].create({
            'order_id': order.id,
            'product_id': self._clover_surcharge_product().id,
            'name': self._clover_surcharge_label(),
            'product_uom_qty': 1.0,
            'price_unit': self.clover_surcharge_amount,
            'tax_ids': [Command.clear()],
            'sequence': max(order.order_line.mapped('sequence') or [0]) + 1,
        })
        order.message_post(body=self.env._(
            "Card processing fee of %(amount)s added: charged with transaction %(tx)s.",
            amount=self.currency_id.format(self.clover_surcharge_amount), tx=self.reference,
        ))
        return line

    def _clover_create_surcharge_invoice(self, invoice):
        """Create and post the fee invoice of `invoice`'s customer, untaxed, in its currency and
        journal."""
        fee_invoice = self.env['account.move'].create({
            'move_type': 'out_invoice',
            'partner_id': invoice.partner_id.id,
            'currency_id': invoice.currency_id.id,
            'journal_id': invoice.journal_id.id,
            'invoice_date': fields.Date.context_today(self),
            'invoice_origin': invoice.name,
            'ref': self._clover_surcharge_label(),
            'invoice_line_ids': [Command.create({
                'product_id': self._clover_surcharge_product().id,
                'name': self._clover_surcharge_label(),
                'quantity': 1.0,
                'price_unit': self.clover_surcharge_amount,
                'tax_ids': [Command.clear()],
            })],
        })
        fee_invoice.action_post()
        return fee_invoice

    def _create_payment(self, **extra_create_values):
        """Override of `account_payment` to pay the fee invoice first: Odoo matches a payment with
        the oldest lines first, which would let a partial payment of an overdue invoice take the
        fee's share and leave the fee invoice open."""
        payment = super()._create_payment(**extra_create_values)
        fee_invoice = self.clover_surcharge_invoice_id
        if fee_invoice and not fee_invoice.currency_id.is_zero(fee_invoice.amount_residual):
            self._clover_reconcile_surcharge_first(payment, fee_invoice)
        return payment

    def _clover_reconcile_surcharge_first(self, payment, fee_invoice):
        account = payment.destination_account_id
        payment_lines = payment.move_id.line_ids.filtered(lambda line: line.account_id == account)
        payment_lines.remove_move_reconcile()
        open_lines = (self.invoice_ids - fee_invoice).line_ids.filtered(
            lambda line: line.account_id == account and not line.reconciled
        )
        fee_lines = fee_invoice.line_ids.filtered(lambda line: line.account_id == account)
        (payment_lines + fee_lines).reconcile()
        (payment_lines.filtered(lambda line: not line.reconciled) + open_lines).reconcile()
