from odoo import api, fields, models


class AccountMove(models.Model):
    _inherit = 'account.move'

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
