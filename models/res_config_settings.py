from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = 'res.config.settings'

    clover_surcharge_enabled = fields.Boolean(
        related='company_id.clover_surcharge_enabled', readonly=False,
    )
    clover_surcharge_rate = fields.Float(related='company_id.clover_surcharge_rate', readonly=False)
    clover_surcharge_fixed = fields.Monetary(
        related='company_id.clover_surcharge_fixed', readonly=False,
        currency_field='currency_id',
    )
    clover_surcharge_product_id = fields.Many2one(
        related='company_id.clover_surcharge_product_id', readonly=False,
    )
    clover_surcharge_waivable = fields.Boolean(
        related='company_id.clover_surcharge_waivable', readonly=False,
    )

    def open_clover_provider(self):
        """Open the Clover provider of the current company."""
        provider = self.env['payment.provider'].search([
            ('code', '=', 'clover'), *self.env['payment.provider']._check_company_domain(self.env.company),
        ], limit=1)
        return {
            'type': 'ir.actions.act_window',
            'name': self.env._("Clover"),
            'res_model': 'payment.provider',
            'res_id': provider.id,
            'view_mode': 'form',
            'target': 'current',
        }
