from odoo import models


class AccountChartTemplate(models.AbstractModel):
    _inherit = 'account.chart.template'

    def _post_load_data(self, template_code, company, template_data):
        """Override of `account` to give a company its Clover surcharge income account once its
        chart of accounts exists (a company created after the module was installed)."""
        result = super()._post_load_data(template_code, company, template_data)
        (company or self.env.company)._clover_setup_surcharge()
        return result
