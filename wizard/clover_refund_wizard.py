from odoo import Command, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import format_date
from odoo.tools.misc import clean_context

from ..models.payment_transaction_refund import REFUND_REASONS

CLOVER_USER_GROUP = 'fusion_clover.group_fusion_clover_user'


class CloverRefundWizard(models.TransientModel):
    """Give a customer money back through Clover: refund (or void) one of their Clover payments,
    or, when none can be refunded, credit their card.

    The wizard only decides and explains; the transactions do the checks against Clover and the
    booking, so that the standard Refund button and this wizard behave the same. No card data is
    held here: a saved card is referenced by its payment token.
    """

    _name = 'clover.refund.wizard'
    _description = "Refund with Clover"

    transaction_id = fields.Many2one(
        string="Payment", comodel_name='payment.transaction', readonly=True,
        domain=[('provider_code', '=', 'clover')],
    )
    credit_note_id = fields.Many2one(comodel_name='account.move', readonly=True)
    provider_id = fields.Many2one(
        comodel_name='payment.provider', required=True,
        domain=[('code', '=', 'clover')],
    )
    partner_id = fields.Many2one(string="Customer", comodel_name='res.partner', required=True, readonly=True)
    currency_id = fields.Many2one(comodel_name='res.currency', required=True, readonly=True)
    payment_amount = fields.Monetary(related='transaction_id.amount', string="Paid")
    amount_left = fields.Monetary(string="Left to Refund", compute='_compute_amount_left')
    amount = fields.Monetary(required=True)
    reason = fields.Selection(selection=REFUND_REASONS, default='requested_by_customer')
    payment_age = fields.Integer(related='transaction_id.clover_payment_age')
    refund_deadline = fields.Date(related='transaction_id.clover_refund_deadline')
    operation = fields.Selection(
        string="Clover Will",
        selection=[('void', "Void"), ('refund', "Refund the payment"), ('credit', "Credit a card")],
        compute='_compute_operation',
    )
    credit_method = fields.Selection(
        string="Credit To",
        selection=[('card', "The customer's saved card"), ('terminal', "A card tapped on a terminal")],
    )
    token_id = fields.Many2one(
        string="Saved Card", comodel_name='payment.token',
        domain="[('provider_id', '=', provider_id), ('partner_id', '=', partner_id)]",
    )
    terminal_id = fields.Many2one(
        comodel_name='clover.terminal',
        domain="[('provider_id', '=', provider_id)]",
    )
    explanation = fields.Text(compute='_compute_operation')
    send_receipt = fields.Boolean(
        help="Email the customer a receipt of the refund or credit.",
    )
    partner_email = fields.Char(related='partner_id.email')

    # === OPENING === #

    @api.model
    def _clover_open_action(self, record):
        """Return the action opening the wizard on a Clover transaction, an invoice it paid or a
        credit note."""
        self._clover_check_rights()
        return {
            'name': self.env._("Refund with Clover"),
            'type': 'ir.actions.act_window',
            'res_model': self._name,
            'view_mode': 'form',
            'views': [(False, 'form')],
            'target': 'new',
            'context': self._clover_defaults_from(record),
        }

    @api.model
    def _clover_defaults_from(self, record):
        if record._name == 'payment.transaction':
            tx = record.source_transaction_id if record.operation == 'refund' else record
            return self._clover_defaults(tx.sudo(), self.env['account.move'], tx.partner_id)
        credit_note = record if record.move_type == 'out_refund' else self.env['account.move']
        payments = record._clover_refundable_payments()
        if not payments and not credit_note:
            raise UserError(self.env._("No Clover payment of %s is left to refund.", record.display_name))
        return self._clover_defaults(payments[:1], credit_note, record.commercial_partner_id)

    @api.model
    def _clover_defaults(self, tx, credit_note, partner):
        provider = tx.provider_id or self.env['payment.provider'].sudo().search([
            ('code', '=', 'clover'), ('state', '!=', 'disabled'),
            ('company_id', '=', (credit_note.company_id or self.env.company).id),
        ], limit=1)
        if not provider:
            raise UserError(self.env._("No Clover provider is set up for this company."))
        currency = tx.currency_id or credit_note.currency_id
        amount = tx and (tx.amount if tx.state == 'authorized' else tx._clover_amount_left_to_refund())
        if credit_note:
            residual = credit_note.amount_residual
            amount = min(amount, residual) if tx else residual
        token = tx.token_id or self.env['payment.token'].sudo().search([
            ('provider_id', '=', provider.id), ('partner_id', 'child_of', partner.id),
        ], order='id desc', limit=1)
        terminal = tx.clover_terminal_id or self.env['clover.terminal'].sudo().search(
            [('provider_id', '=', provider.id)], limit=1,
        )
        return {
            'default_transaction_id': tx.id,
            'default_credit_note_id': credit_note.id,
            'default_provider_id': provider.id,
            'default_partner_id': (tx.partner_id or partner).id,
            'default_currency_id': currency.id,
            'default_amount': amount,
            'default_token_id': token.id,
            'default_terminal_id': terminal.id,
            'default_credit_method': 'card' if token or not terminal else 'terminal',
            'default_send_receipt': bool((tx.partner_id or partner).email),
        }

    @api.model
    def _clover_check_rights(self):
        if not self.env.user.has_group(CLOVER_USER_GROUP):
            raise AccessError(self.env._("Only Clover users can give money back through Clover."))

    # === COMPUTE METHODS === #

    @api.depends('transaction_id')
    def _compute_amount_left(self):
        for wizard in self:
            tx = wizard.transaction_id.sudo()
            wizard.amount_left = tx and (
                tx.amount if tx.state == 'authorized' else tx._clover_amount_left_to_refund()
            )

    @api.depends('transaction_id', 'amount', 'credit_method')
    def _compute_operation(self):
        for wizard in self:
            wizard.operation, wizard.explanation = wizard._clover_plan()

    def _clover_plan(self):
        """Return what Clover will do with this amount, and why, in a clerk's words."""
        tx = self.transaction_id.sudo()
        if not tx:
            return 'credit', self.env._(
                "No Clover payment to refund: the customer's card is credited, unrelated to any "
                "payment."
            )
        if tx.state == 'authorized':
            return 'void', self.env._(
                "The payment is authorized but not captured: Clover voids it whole and the "
                "customer is never charged."
            )
        if tx._clover_refund_window_closed():
            return 'credit', self.env._(
                "The payment is %(days)s days old: Clover refunds a payment within 180 days only "
                "(until %(deadline)s). The customer's card is credited instead.",
                days=tx.clover_payment_age, deadline=format_date(self.env, tx.clover_refund_deadline),
            )
        whole = self.currency_id.compare_amounts(self.amount, tx.amount) == 0
        if whole and tx._clover_terminal_void_possible():
            return 'void', self.env._(
                "The terminal sale is less than 25 minutes old and not yet funded: Clover voids "
                "it, and the customer's statement shows no charge."
            )
        where = self.env._("on the terminal") if tx.clover_terminal_id else self.env._("to the card")
        return 'refund', self.env._(
            "Clover refunds this amount %(where)s, checking first what Clover shows is left on "
            "the payment.", where=where,
        )

    # === ACTIONS === #

    def action_confirm(self):
        """Give the money back as planned, then show the outcome."""
        self.ensure_one()
        self._clover_check_rights()
        # The defaults that opened the wizard must not become those of the records made here.
        # pylint: disable-next=context-overridden
        return self.with_context(clean_context(self.env.context))._clover_give_back()

    def _clover_give_back(self):
        if self.currency_id.compare_amounts(self.amount, 0) <= 0:
            raise UserError(self.env._("The amount to give back must be positive."))
        operation = self._clover_plan()[0]
        if operation == 'void' and self.transaction_id.state == 'authorized':
            tx = self.transaction_id.sudo()._void()
        elif operation == 'credit':
            tx = self._clover_credit()
        else:
            tx = self._clover_refund()
        return self._clover_feedback(tx)

    def _clover_refund_values(self):
        values = {'clover_refund_reason': self.reason}
        if self.credit_note_id:
            values['invoice_ids'] = [Command.set(self.credit_note_id.ids)]
        return values

    def _clover_refund(self):
        source_tx = self.transaction_id.sudo()
        if source_tx.state != 'done':
            raise UserError(self.env._("Only a confirmed payment can be refunded."))
        refund_tx = source_tx.with_context(
            clover_refund_values=self._clover_refund_values(), payment_backend_action=True,
        )._refund(amount_to_refund=self.amount)
        if self.send_receipt:
            refund_tx._clover_send_receipt()
        return refund_tx

    def _clover_credit(self):
        """Create the refund transaction of a non-referenced credit and send it."""
        if self.credit_method == 'card' and not self.token_id:
            raise UserError(self.env._("Choose the saved card to credit, or credit on a terminal."))
        if self.credit_method == 'terminal' and not self.terminal_id:
            raise UserError(self.env._("Choose the terminal where the customer taps their card."))
        Transaction = self.env['payment.transaction'].sudo()
        prefix = f'C-{self.credit_note_id.name or self.transaction_id.reference or self.partner_id.name}'
        token = self.token_id if self.credit_method == 'card' else self.env['payment.token']
        tx = Transaction.with_context(payment_backend_action=True).create({
            'provider_id': self.provider_id.id,
            'payment_method_id': (
                token.payment_method_id or self.env.ref('payment.payment_method_card')
            ).id,
            'reference': Transaction._compute_reference('clover', prefix=prefix),
            'amount': -self.amount,
            'currency_id': self.currency_id.id,
            'partner_id': self.partner_id.id,
            'operation': 'refund',
            'token_id': token.id,
            'clover_terminal_id': self.terminal_id.id if self.credit_method == 'terminal' else False,
            'clover_refund_reason': self.reason,
            **({'invoice_ids': [Command.set(self.credit_note_id.ids)]} if self.credit_note_id else {}),
        })
        tx._log_sent_message()
        if self.send_receipt:  # Before sending: a terminal credit settles in the background.
            tx._clover_send_receipt()
        try:
            tx._clover_send_credit()
        except ValidationError as error:
            tx._set_error(str(error))
        return tx

    def _clover_feedback(self, tx):
        """Refuse clearly (nothing moved), or post the refund's payment at once and say what
        Clover did."""
        if tx.state == 'error':
            raise UserError(tx.state_message)
        if tx.state == 'done':
            tx._post_process()  # Also emails a receipt asked for before Clover answered.
        return {
            'type': 'ir.actions.client',
            'tag': 'display_notification',
            'params': {
                'type': 'success' if tx.state in ('done', 'cancel') else 'warning',
                'message': tx._clover_refund_summary(),
                'next': {'type': 'ir.actions.act_window_close'},
            },
        }
