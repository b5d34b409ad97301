from odoo import Command
from odoo.tests import new_test_user

from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.addons.fusion_clover.tests.common import CloverPaymentCommon


class CloverCollectCommon(CloverPaymentCommon, AccountTestInvoicingCommon):
    """A connected Clover provider with a bank journal, a customer, a clerk of the Fusion Clover
    user group and an accountant outside it. Payments are booked for real (no patched
    post-processing)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.provider.journal_id = cls.company_data['default_journal_bank']
        cls.company = cls.provider.company_id
        cls.customer = cls.partner_a
        cls.customer.email = 'collect.customer@example.com'
        cls.clerk = new_test_user(
            cls.env, login='clover_clerk', name="Casey Clerk", company_id=cls.company.id,
            groups='account.group_account_invoice,sales_team.group_sale_salesman,'
                   'fusion_clover.group_fusion_clover_user',
        )
        cls.accountant = new_test_user(
            cls.env, login='plain_accountant', name="Avery Accountant",
            company_id=cls.company.id,
            groups='account.group_account_invoice,sales_team.group_sale_salesman',
        )
        cls.fee_product = cls.env.ref('fusion_clover.product_clover_surcharge')

    def setUp(self):
        self.enable_post_process_patcher = False  # The real flow: payments are created and posted.
        super().setUp()

    # === Documents === #

    def _open_invoice(self, amount, due_date=None, currency=None):
        values = {'currency_id': currency.id} if currency else {}
        invoice = self._create_invoice_one_line(
            price_unit=amount, partner_id=self.customer, tax_ids=[], **values,
        )
        if due_date:
            invoice.write({'invoice_date': due_date, 'invoice_date_due': due_date})
        invoice.action_post()
        return invoice

    def _quotation(self, amount):
        """A quotation, created and read by the clerk (the test user sells nothing)."""
        return self.env['sale.order'].with_user(self.clerk).create({
            'partner_id': self.customer.id,
            'order_line': [Command.create({
                'product_id': self.product_a.id, 'product_uom_qty': 1, 'price_unit': amount,
                'tax_ids': [Command.clear()],
            })],
        })

    def _set_surcharge(self, rate=3.0, fixed=0.30, waivable=False):
        self.company.write({
            'clover_surcharge_enabled': True,
            'clover_surcharge_rate': rate,
            'clover_surcharge_fixed': fixed,
            'clover_surcharge_waivable': waivable,
        })

    # === Collecting === #

    def _wizard(self, document, user=None, **values):
        document = document.with_user(user or self.clerk)
        action = document.action_clover_collect_payment()
        wizard = document.env['clover.payment.wizard'].browse(action['res_id'])
        if values:
            wizard.write(values)
        return wizard

    def _collect_by_card(self, document, number=None, cvv='123', user=None, **values):
        wizard = self._wizard(document, user=user, mode='card', **values)
        token = self._card_token(number, cvv=cvv) if number else self._card_token(cvv=cvv)
        status = wizard.clover_charge_card(token)
        return wizard, status

    # === Assertions === #

    def _assert_balanced(self, moves):
        for move in moves:
            self.assertEqual(move.state, 'posted')
            self.assertAlmostEqual(sum(move.line_ids.mapped('debit')), sum(move.line_ids.mapped('credit')))
