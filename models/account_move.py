from odoo import api, fields, models


class AccountMove(models.Model):
    _inherit = 'account.move'

    # === COLLECTING WITH CLOVER === #

    clover_can_collect = fields.Boolean(
        string="Clover Collect Available", compute='_compute_clover_can_collect',
        help="Whether a connected Clover provider of the company can collect this invoice.",
    )

    @api.depends('company_id', 'state', 'move_type', 'amount_residual')
    @api.depends_context('uid')
    def _compute_clover_can_collect(self):
        wizard = self.env['clover.payment.wizard']
        for move in self:
            move.clover_can_collect = (
                move.state == 'posted'
                and move.move_type == 'out_invoice'
                and move.currency_id.compare_amounts(move.amount_residual, 0) > 0
                and bool(wizard._clover_get_provider(move.company_id))
            )

    def action_clover_collect_payment(self):
        """Open the dialog collecting a payment of this invoice with Clover."""
        self.ensure_one()
        return self.env['clover.payment.wizard']._clover_open({'invoice_id': self.id})

    # === REFUNDS WITH CLOVER === #

    clover_refund_count = fields.Integer(
        string="Clover Refunds", compute='_compute_clover_refund_transaction_ids',
    )
    clover_can_refund = fields.Boolean(compute='_compute_clover_can_refund')

    def _clover_refund_transactions(self):
        """Return the Clover refunds, voids and credits made for this invoice or credit note:
        the refunds of the payments of the invoice, and the money given back for its credit
        notes (or for this credit note)."""
        self.ensure_one()
        Transaction = self.env['payment.transaction'].sudo()
        credit_notes = self if self.move_type == 'out_refund' else self.reversal_move_ids
        return Transaction.search([
            ('provider_code', '=', 'clover'),
            ('operation', '=', 'refund'),
            '|',
            ('source_transaction_id.invoice_ids', 'in', self.ids),
            ('invoice_ids', 'in', credit_notes.ids or [0]),
        ])

    @api.depends('transaction_ids', 'reversal_move_ids')
    def _compute_clover_refund_transaction_ids(self):
        for move in self:
            move.clover_refund_count = (
                len(move._clover_refund_transactions()) if move.id and move.is_sale_document() else 0
            )

    @api.depends('state', 'move_type', 'amount_residual', 'transaction_ids.state')
    def _compute_clover_can_refund(self):
        for move in self:
            move.clover_can_refund = move.state == 'posted' and (
                move.move_type == 'out_refund' and not move.currency_id.is_zero(move.amount_residual)
                or move.move_type == 'out_invoice' and bool(move._clover_refundable_payments())
            )

    def _clover_refundable_payments(self):
        """Return this invoice's Clover payments that still have money to give back, newest
        first."""
        self.ensure_one()
        invoice = self.reversed_entry_id if self.move_type == 'out_refund' else self
        return invoice.transaction_ids.sudo().filtered(
            lambda tx: tx.provider_code == 'clover' and tx.operation != 'refund'
            and (tx.state == 'authorized' or tx._clover_amount_left_to_refund() > 0)
        ).sorted('id', reverse=True)

    def action_clover_refund(self):
        """Open the refund wizard on this invoice or credit note."""
        self.ensure_one()
        return self.env['clover.refund.wizard']._clover_open_action(self)

    def action_view_clover_refunds(self):
        self.ensure_one()
        refunds = self._clover_refund_transactions()
        action = {
            'name': self.env._("Clover Refunds"),
            'type': 'ir.actions.act_window',
            'res_model': 'payment.transaction',
            'views': [(False, 'list'), (False, 'form')],
            'domain': [('id', 'in', refunds.ids)],
            'context': {'create': False},
        }
        if len(refunds) == 1:
            action.update(res_id=refunds.id, views=[(False, 'form')])
        return action
