from odoo import models


class ResConfigSettings(models.TransientModel):
    _inherit = 'res.config.settings'

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
