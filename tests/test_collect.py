from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.fusion_clover.tests.common import DECLINED_VISA
from odoo.addons.fusion_clover.tests.test_collect_common import CloverCollectCommon

TX_LOGGER = 'odoo.addons.fusion_clover.models.payment_transaction'
PROVIDER_LOGGER = 'odoo.addons.fusion_clover.models.payment_provider'


@tagged('post_install', '-at_install')
class TestCloverCollect(CloverCollectCommon):
    """A clerk collects invoices and sale orders with a keyed card: amounts, booking, refusals."""

    # === Amounts === #

    def test_dialog_defaults_to_what_is_due_and_keyed_card_without_terminal(self):
        invoice = self._open_invoice(250.0)
        wizard = self._wizard(invoice)
        self.assertEqual((wizard.amount_due, wizard.amount, wizard.total_amount), (250.0, 250.0, 250.0))
        self.assertEqual(wizard.mode, 'card')
        self.assertFalse(wizard.surcharge_amount)

    def test_full_keyed_payment_pays_the_invoice_as_a_moto_charge(self):
        invoice = self._open_invoice(100.0)
        wizard, status = self._collect_by_card(invoice)

        self.assertTrue(status['approved'], status)
        self.assertIn("VISA ending 4242", status['message'])
        tx = wizard.transaction_id
        self.assertEqual((tx.state, tx.operation, tx.amount), ('done', 'offline', 100.0))
        self.assertEqual((tx.clover_card_brand, tx.clover_card_last4, tx.clover_entry_type),
                         ('VISA', '4242', 'KEYED'))
        self.assertRegex(tx.clover_auth_code, r'^OK\d{4}$')
        self.assertTrue(tx.is_post_processed)
        self.assertIn(invoice.payment_state, ('in_payment', 'paid'))
        self.assertTrue(invoice.currency_id.is_zero(invoice.amount_residual))
        self.assertEqual(tx.payment_id.amount, 100.0)
        [charge] = self._clover_requests('/v1/charges')
        self.assertEqual((charge['json']['amount'], charge['json']['ecomind']), (10000, 'moto'))
        self.assertEqual(self._clover_charge(tx.provider_reference)['amount_captured'], 10000)

    def test_partial_payment_leaves_the_rest_due_and_the_next_dialog_asks_for_it(self):
        invoice = self._open_invoice(100.0)
        wizard, status = self._collect_by_card(invoice, amount=40.0)

        self.assertTrue(status['approved'], status)
        self.assertEqual(invoice.payment_state, 'partial')
        self.assertEqual(invoice.amount_residual, 60.0)
        self.assertEqual(wizard.transaction_id.payment_id.amount, 40.0)
        self.assertEqual(self._wizard(invoice).amount, 60.0)

    def test_more_than_due_is_refused_before_anything_is_sent(self):
        invoice = self._open_invoice(100.0)
        wizard = self._wizard(invoice, mode='card', amount=100.01)
        with self.assertRaisesRegex(UserError, r"more than the \$\s?100.00 left to pay"):
            wizard.clover_charge_card(self._card_token())
        self.assertFalse(invoice.transaction_ids)
        self.assertEqual(self._calls('POST /v1/charges'), 0)

    def test_zero_or_negative_amount_is_refused(self):
        invoice = self._open_invoice(100.0)
        for amount in (0.0, -5.0):
            wizard = self._wizard(invoice, mode='card', amount=amount)
            with self.assertRaisesRegex(UserError, "greater than zero"):
                wizard.clover_charge_card(self._card_token())
        self.assertEqual(self._calls('POST /v1/charges'), 0)

    def test_a_paid_invoice_offers_no_collection(self):
        invoice = self._open_invoice(30.0)
        self._collect_by_card(invoice)
        self.assertFalse(invoice.clover_can_collect)
        wizard = self._wizard(invoice, mode='card', amount=1.0)
        with self.assertRaisesRegex(UserError, "more than"):
            wizard.clover_charge_card(self._card_token())

    # === Declines and refusals === #

    @mute_logger(TX_LOGGER, PROVIDER_LOGGER)
    def test_declined_card_books_nothing_and_says_why(self):
        self._set_surcharge()
        invoice = self._open_invoice(100.0)
        moves_before = self.env['account.move'].search_count([])
        wizard, status = self._collect_by_card(invoice, number=DECLINED_VISA)

        self.assertFalse(status['approved'])
        self.assertTrue(status['final'])
        self.assertIn("Card refused", status['message'])
        self.assertIn("declined", status['message'])
        tx = wizard.transaction_id
        self.assertEqual(tx.state, 'error')
        self.assertFalse(tx.payment_id)
        self.assertFalse(tx.clover_surcharge_invoice_id)
        self.assertEqual(self.env['account.move'].search_count([]), moves_before)
        self.assertEqual((invoice.payment_state, invoice.amount_residual), ('not_paid', 100.0))
        self.assertFalse(wizard.locked)  # The clerk may try again.
        self.assertEqual(self._wizard(invoice).amount, 100.0)

    def test_currency_clover_does_not_take_is_refused(self):
        invoice = self._open_invoice(80.0, currency=self.env.ref('base.EUR'))
        wizard = self._wizard(invoice, mode='card')
        with self.assertRaisesRegex(UserError, "Clover does not take payments in EUR"):
            wizard.clover_charge_card(self._card_token())
        self.assertEqual(self._calls('POST /v1/charges'), 0)

    def test_unconnected_provider_hides_the_button_and_refuses(self):
        invoice = self._open_invoice(80.0)
        wizard = self._wizard(invoice, mode='card')
        self.provider.sudo().write(self.provider._clover_disconnected_values())
        invoice.invalidate_recordset()
        self.assertFalse(invoice.clover_can_collect)
        wizard.invalidate_recordset()
        with self.assertRaisesRegex(UserError, "No Clover provider .* is connected"):
            wizard.clover_charge_card(self._card_token())

    def test_terminal_mode_without_terminal_is_refused(self):
        invoice = self._open_invoice(80.0)
        wizard = self._wizard(invoice, mode='terminal')
        with self.assertRaisesRegex(UserError, "Choose a terminal"):
            wizard.clover_send_to_terminal()
        self.assertFalse(invoice.transaction_ids)

    # === Rights === #

    def test_user_outside_the_group_sees_no_button_and_cannot_collect(self):
        invoice = self._open_invoice(80.0)
        arch = self.env['account.move'].with_user(self.accountant).get_views(
            [(False, 'form')])['views']['form']['arch']
        self.assertNotIn('action_clover_collect_payment', arch)
        clerk_arch = self.env['account.move'].with_user(self.clerk).get_views(
            [(False, 'form')])['views']['form']['arch']
        self.assertIn('action_clover_collect_payment', clerk_arch)
        with self.assertRaises(AccessError):
            invoice.with_user(self.accountant).action_clover_collect_payment()
        with self.assertRaises(AccessError):
            self._quotation(50.0).with_user(self.accountant).action_clover_collect_payment()
        with self.assertRaises(AccessError):
            self.env['clover.payment.wizard'].with_user(self.accountant).create(
                {'invoice_id': invoice.id})

    # === Surcharge === #

    def test_surcharge_arithmetic(self):
        self._set_surcharge(rate=3.0, fixed=0.30)
        compute = self.company._clover_compute_surcharge
        usd = self.currency_usd
        self.assertEqual(compute(100.0, usd), 3.30)
        self.assertEqual(compute(33.33, usd), 1.30)  # 0.9999 + 0.30, rounded to the cent.
        self.assertEqual(compute(0.0, usd), 0.0)
        self.company.clover_surcharge_fixed = 0.0
        self.assertEqual(compute(10.05, usd), 0.30)  # 0.3015
        self.company.clover_surcharge_enabled = False
        self.assertEqual(compute(100.0, usd), 0.0)

    def test_a_new_company_gets_the_fee_product_and_its_own_income_account_with_its_chart(self):
        company = self.env['res.company'].create({'name': "Second Shop"})
        self.env['account.chart.template'].try_loading('generic_coa', company=company, install_demo=False)

        self.assertEqual(company.clover_surcharge_product_id, self.fee_product)
        account = self.fee_product.with_company(company).property_account_income_id
        self.assertEqual((account.name, account.account_type), ("Card Processing Fees", 'income_other'))
        self.assertEqual(account.company_ids, company)
        self.assertNotEqual(account, self.fee_product.with_company(self.company).property_account_income_id)

    def test_surcharge_is_shown_before_sending_and_charged_with_the_amount(self):
        self._set_surcharge(rate=3.0, fixed=0.30)
        invoice = self._open_invoice(100.0)
        wizard = self._wizard(invoice, mode='card')
        self.assertEqual((wizard.surcharge_amount, wizard.total_amount), (3.30, 103.30))
        self.assertIn("3 %", wizard.surcharge_label)

        status = wizard.clover_charge_card(self._card_token())

        self.assertTrue(status['approved'], status)
        tx = wizard.transaction_id
        self.assertEqual((tx.amount, tx.clover_surcharge_amount), (103.30, 3.30))
        [charge] = self._clover_requests('/v1/charges')
        self.assertEqual(charge['json']['amount'], 10330)  # One Clover charge for the sum.
        fee_invoice = tx.clover_surcharge_invoice_id
        self.assertEqual(tx.invoice_ids, invoice + fee_invoice)
        self.assertEqual(fee_invoice.partner_id, invoice.partner_id)
        self.assertEqual(fee_invoice.amount_total, 3.30)
        self.assertEqual(fee_invoice.invoice_line_ids.product_id, self.fee_product)
        fee_account = self.fee_product.with_company(self.company).property_account_income_id
        self.assertEqual(fee_invoice.invoice_line_ids.account_id, fee_account)
        self.assertEqual(fee_account.name, "Card Processing Fees")
        for paid in (invoice, fee_invoice):
            self.assertIn(paid.payment_state, ('in_payment', 'paid'))
            self.assertTrue(paid.currency_id.is_zero(paid.amount_residual))
        self.assertEqual(tx.payment_id.amount, 103.30)
        self._assert_balanced(invoice + fee_invoice + tx.payment_id.move_id)

    def test_partial_payment_of_an_overdue_invoice_still_pays_the_whole_fee(self):
        self._set_surcharge(rate=2.0, fixed=0.0)
        invoice = self._open_invoice(500.0, due_date='2020-01-01')
        wizard, status = self._collect_by_card(invoice, amount=100.0)

        self.assertTrue(status['approved'], status)
        fee_invoice = wizard.transaction_id.clover_surcharge_invoice_id
        self.assertEqual(fee_invoice.amount_total, 2.0)
        self.assertTrue(fee_invoice.currency_id.is_zero(fee_invoice.amount_residual))
        self.assertEqual((invoice.payment_state, invoice.amount_residual), ('partial', 400.0))
        self._assert_balanced(invoice + fee_invoice + wizard.transaction_id.payment_id.move_id)

    def test_clerk_waives_the_surcharge_when_allowed(self):
        self._set_surcharge(waivable=True)
        invoice = self._open_invoice(100.0)
        wizard, status = self._collect_by_card(invoice, surcharge_waived=True)

        self.assertTrue(status['approved'], status)
        tx = wizard.transaction_id
        self.assertEqual((tx.amount, tx.clover_surcharge_amount), (100.0, 0.0))
        self.assertFalse(tx.clover_surcharge_invoice_id)
        self.assertEqual(self._clover_requests('/v1/charges')[0]['json']['amount'], 10000)

    def test_waiver_is_refused_when_not_allowed(self):
        self._set_surcharge(waivable=False)
        invoice = self._open_invoice(100.0)
        wizard = self._wizard(invoice, mode='card', surcharge_waived=True)
        with self.assertRaisesRegex(UserError, "do not let clerks waive"):
            wizard.clover_charge_card(self._card_token())
        self.assertEqual(self._calls('POST /v1/charges'), 0)

    def test_full_refund_of_the_charge_covers_the_fee(self):
        self._set_surcharge(rate=3.0, fixed=0.30)
        invoice = self._open_invoice(100.0)
        wizard, _status = self._collect_by_card(invoice)
        tx = wizard.transaction_id

        tx.sudo()._refund()

        refund = tx.child_transaction_ids.filtered(lambda t: t.operation == 'refund')
        self.assertEqual((refund.state, refund.amount), ('done', -103.30))
        self.assertEqual(self._clover_charge(tx.provider_reference)['amount_refunded'], 10330)

    # === Receipt === #

    def test_receipt_is_emailed_once_approved_when_the_box_is_ticked(self):
        invoice = self._open_invoice(60.0)
        self.assertTrue(self._wizard(invoice).send_receipt)  # The customer has an email.
        wizard, status = self._collect_by_card(invoice)
        self.assertTrue(status['approved'], status)
        self.assertTrue(wizard.transaction_id.clover_receipt_sent)

        other = self._open_invoice(20.0)
        wizard, _status = self._collect_by_card(other, send_receipt=False)
        self.assertFalse(wizard.transaction_id.clover_receipt_sent)

    @mute_logger(TX_LOGGER, PROVIDER_LOGGER)
    def test_declined_card_sends_no_receipt(self):
        invoice = self._open_invoice(60.0)
        wizard, _status = self._collect_by_card(invoice, number=DECLINED_VISA)
        self.assertFalse(wizard.transaction_id.clover_receipt_sent)

    def test_no_receipt_box_ticked_for_a_customer_without_email(self):
        self.customer.email = False
        self.assertFalse(self._wizard(self._open_invoice(60.0)).send_receipt)

    # === Sale orders === #

    def test_sale_order_prepayment_with_surcharge_adds_the_fee_line_and_confirms(self):
        self._set_surcharge(rate=3.0, fixed=0.0)
        order = self._quotation(200.0)
        wizard, status = self._collect_by_card(order)

        self.assertTrue(status['approved'], status)
        tx = wizard.transaction_id
        self.assertEqual((tx.amount, tx.clover_surcharge_amount), (206.0, 6.0))
        self.assertEqual(tx.sale_order_ids, order)
        fee_line = tx.clover_surcharge_line_id
        self.assertEqual((fee_line.product_id, fee_line.price_unit, fee_line.price_total),
                         (self.fee_product, 6.0, 6.0))
        self.assertEqual(order.amount_total, 206.0)
        self.assertEqual(order.amount_paid, 206.0)
        self.assertEqual(order.state, 'sale')
        payment = tx.payment_id
        self.assertEqual(payment.amount, 206.0)
        self.assertIn(payment.state, ('in_process', 'paid'))
        self.assertFalse(payment.invoice_ids)  # A prepayment: the invoice it pays comes later.
        self._assert_balanced(payment.move_id)
        self.assertEqual(self._clover_requests('/v1/charges')[0]['json']['amount'], 20600)
        self.assertFalse(order.clover_can_collect)

    def test_sale_order_down_payment_leaves_the_rest_due(self):
        order = self._quotation(300.0)
        wizard, status = self._collect_by_card(order, amount=90.0)

        self.assertTrue(status['approved'], status)
        self.assertEqual(order.amount_paid, 90.0)
        self.assertEqual(order.state, 'sale')
        self.assertEqual(self._wizard(order).amount, 210.0)

    @mute_logger(TX_LOGGER, PROVIDER_LOGGER)
    def test_declined_card_on_a_sale_order_adds_no_line(self):
        self._set_surcharge()
        order = self._quotation(200.0)
        wizard, status = self._collect_by_card(order, number=DECLINED_VISA)
        self.assertFalse(status['approved'])
        self.assertEqual(len(order.order_line), 1)
        self.assertEqual(order.amount_total, 200.0)
        self.assertEqual(order.state, 'draft')
        self.assertFalse(wizard.transaction_id.payment_id)
