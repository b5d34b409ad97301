from odoo import api, fields, models


class SaleOrder(models.Model):
    _inherit = 'sale.order'

    clover_can_collect = fields.Boolean(
        string="Clover Collect Available", compute='_compute_clover_can_collect',
        help="Whether a connected Clover provider of the company can collect this order.",
    )

    @api.depends('company_id', 'state', 'amount_total', 'amount_paid')
    @api.depends_context('uid')
    def _compute_clover_can_collect(self):
        wizard = self.env['clover.payment.wizard']
        for order in self:
            order.clover_can_collect = (
                order.state in ('draft', 'sent', 'sale')
                and order.currency_id.compare_amounts(order.amount_total - order.amount_paid, 0) > 0
                and bool(wizard._clover_get_provider(order.company_id))
            )

    def action_clover_collect_payment(self):
        """Open the dialog collecting a payment (a prepayment or down payment) of this order with
        Clover (the name operators' scripts use)."""
        self.ensure_one()
        return self.env['clover.payment.wizard']._clover_open({'sale_order_id': self.id})
