from odoo import api, fields, models

SURCHARGE_ACCOUNT_START_CODE = '4000'


class ResCompany(models.Model):
    _inherit = 'res.company'

    clover_surcharge_enabled = fields.Boolean(
        string="Clover Card Surcharge",
        help="Add a card processing fee to payments collected with Clover in the back office.",
    )
    clover_surcharge_rate = fields.Float(
        string="Surcharge Rate (%)", digits=(5, 3),
        help="Percentage of the amount collected, added as a card processing fee.",
    )
    clover_surcharge_fixed = fields.Monetary(
        string="Surcharge Fixed Amount", currency_field='currency_id',
        help="Added to every surcharged payment, in the company's currency.",
    )
    clover_surcharge_product_id = fields.Many2one(
        string="Surcharge Product", comodel_name='product.product',
        domain=[('type', '=', 'service')],
        help="The service booked as the card processing fee; its income account receives the fee.",
    )
    clover_surcharge_waivable = fields.Boolean(
        string="Clerks May Waive the Surcharge",
        help="Let clerks collect a payment without the card processing fee.",
    )

    _clover_surcharge_rate_range = models.Constraint(
        'CHECK(clover_surcharge_rate >= 0 AND clover_surcharge_rate <= 100)',
        "The Clover surcharge rate is a percentage between 0 and 100.",
    )
    _clover_surcharge_fixed_positive = models.Constraint(
        'CHECK(clover_surcharge_fixed IS NULL OR clover_surcharge_fixed >= 0)',
        "The Clover surcharge fixed amount cannot be negative.",
    )

    # === BUSINESS METHODS === #

    def _clover_compute_surcharge(self, amount, currency, date=None):
        """Return the card processing fee on `amount`, in `currency`, rounded as that currency
        rounds: the rate applies to the amount, and the fixed part is converted from the
        company's currency at the date's rate.

        :param float amount: The amount collected before the fee.
        :param currency: The currency of the document being paid.
        :return: The fee, 0 when the surcharge is off or there is nothing to collect.
        :rtype: float
        """
        self.ensure_one()
        if not self.clover_surcharge_enabled or currency.compare_amounts(amount, 0) <= 0:
            return 0.0
        fixed = self.currency_id._convert(
            self.clover_surcharge_fixed, currency, self, date or fields.Date.context_today(self),
        )
        return currency.round(amount * self.clover_surcharge_rate / 100.0 + fixed)

    @api.model
    def _clover_setup_surcharge_all(self):
        """Give every company with a chart of accounts the surcharge product and an income account
        for it (run when the module is installed or updated)."""
        self.search([('chart_template', '!=', False)])._clover_setup_surcharge()

    def _clover_setup_surcharge(self):
        """Make the module's fee product this company's surcharge product, booked to an income
        account of its own ("Card Processing Fees"), created next to the company's income
        accounts. Nothing is changed when the company already chose a product or an account."""
        product = self.env.ref('fusion_clover.product_clover_surcharge', raise_if_not_found=False)
        if not product:
            return
        for company in self.filtered('chart_template'):
            company.clover_surcharge_product_id = company.clover_surcharge_product_id or product
            fee_product = company.clover_surcharge_product_id.with_company(company)
            if not fee_product.property_account_income_id:
                fee_product.property_account_income_id = company._clover_create_surcharge_account()

    def _clover_create_surcharge_account(self):
        self.ensure_one()
        accounts = self.env['account.account'].with_company(self)
        start_code = self.income_account_id.code or SURCHARGE_ACCOUNT_START_CODE
        return accounts.create({
            'name': self.env._("Card Processing Fees"),
            'code': accounts._search_new_account_code(start_code),
            'account_type': 'income_other',
            'company_ids': [fields.Command.set(self.ids)],
        })
