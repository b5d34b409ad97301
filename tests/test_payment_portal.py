from lxml import html

from odoo.fields import Command
from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.addons.fusion_clover.tests.common import CloverPaymentCommon


@tagged('post_install', '-at_install')
class TestCloverPortal(CloverPaymentCommon, AccountTestInvoicingCommon, HttpCase):
    """A portal customer pays invoices in a real browser: Clover's iframe fields come from the
    emulator's sdk.js, Odoo charges the token, and accounting posts the payment (not patched)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.provider.journal_id = cls.company_data['default_journal_bank']
        cls.customer = cls.portal_user.partner_id
        cls.customer.email = 'portal.customer@example.com'

    def setUp(self):
        self.enable_post_process_patcher = False  # The real flow: payments are created and posted.
        super().setUp()
        self._emulator('POST', 'config', {'sdk_fill_hook': True})

    def _open_invoice(self, amount, invoice_date_due=None, **values):
        invoice = self._create_invoice_one_line(
            price_unit=amount, partner_id=self.customer, tax_ids=[], **values,
        )
        if invoice_date_due:
            invoice.write({'invoice_date': '2020-01-01', 'invoice_date_due': invoice_date_due})
        invoice.action_post()
        return invoice

    def _pay_in_browser(self, tour, invoice):
        self.start_tour(invoice.get_portal_url(query_string='&payment=True'), tour, login='portal_user')

    def _register_payment(self, invoice, amount):
        self.env['account.payment.register'].with_context(
            active_model='account.move', active_ids=invoice.ids,
        ).create({'amount': amount})._create_payments()

    def _assert_paid_by_clover(self, invoice, cents):
        tx = invoice.transaction_ids
        self.assertEqual(tx.state, 'done')
        self.assertTrue(tx.is_post_processed)
        self.assertTrue(invoice.currency_id.is_zero(invoice.amount_residual))
        self.assertIn(invoice.payment_state, ('in_payment', 'paid'))
        self.assertIn(tx.payment_id.state, ('in_process', 'paid'))
        self.assertEqual(tx.payment_id.amount, invoice.amount_total)
        self.assertEqual(self._clover_charge(tx.provider_reference)['amount_captured'], cents)
        return tx

    def _form_amount(self, url):
        self.authenticate('portal_user', 'portal_user')
        page = html.fromstring(self.url_open(url).content)
        return float(page.xpath('//form[@id="o_payment_form"]/@data-amount')[0])

    # === Portal amount === #

    def test_invoice_page_asks_for_the_amount_due(self):
        invoice = self._open_invoice(100.0)
        self._register_payment(invoice, 40.0)
        self.assertEqual(self._form_amount(f'/my/invoices/{invoice.id}?payment=True'), 60.0)

    def test_overdue_invoices_page_asks_for_the_amount_due_not_the_total(self):
        partly_paid = self._open_invoice(100.0, invoice_date_due='2020-01-31')
        self._register_payment(partly_paid, 40.0)
        self._open_invoice(50.0, invoice_date_due='2020-01-31')
        self.assertEqual(self._form_amount('/my/invoices/overdue'), 110.0)

    # === Browser tours === #

    def test_portal_customer_pays_an_invoice_by_card(self):
        invoice = self._open_invoice(150.25)
        self._pay_in_browser('clover_portal_pay_invoice', invoice)

        tx = self._assert_paid_by_clover(invoice, 15025)
        self.assertEqual((tx.clover_card_brand, tx.clover_card_last4), ('VISA', '4242'))
        self.assertFalse(tx.token_id)
        self.assertEqual(self._counters()['charges_created'], 1)

    def test_saved_card_pays_the_next_invoice(self):
        first, second = self._open_invoice(80.0), self._open_invoice(45.5)
        self._pay_in_browser('clover_portal_pay_invoice_and_save_card', first)
        token = self._assert_paid_by_clover(first, 8000).token_id
        self.assertEqual((token.partner_id, token.payment_details), (self.customer, '4242'))

        self._pay_in_browser('clover_portal_pay_invoice_with_saved_card', second)

        tx = self._assert_paid_by_clover(second, 4550)
        self.assertEqual(tx.token_id, token)
        self.assertEqual(tx.operation, 'online_token')
        charge_request = self._clover_requests('/v1/charges')[-1]
        self.assertEqual(charge_request['json']['source'], token.clover_source_token)

    @mute_logger('odoo.addons.fusion_clover.models.payment_transaction',
                 'odoo.addons.fusion_clover.models.payment_provider')
    def test_declined_card_shows_clovers_message_and_leaves_the_invoice_unpaid(self):
        invoice = self._open_invoice(99.0)
        self._pay_in_browser('clover_portal_declined_card', invoice)

        tx = invoice.transaction_ids
        self.assertEqual(tx.state, 'error')
        self.assertIn("The card was declined.", tx.state_message)
        self.assertFalse(tx.payment_id)
        self.assertEqual(invoice.payment_state, 'not_paid')
        self.assertEqual(invoice.amount_residual, 99.0)

    def test_mistyped_card_shows_each_fields_error_and_creates_nothing(self):
        invoice = self._open_invoice(20.0)
        self._pay_in_browser('clover_portal_card_field_errors', invoice)

        self.assertFalse(invoice.transaction_ids)
        self.assertEqual(self._calls('POST /v1/tokens'), 0)  # Refused before reaching Clover.
        self.assertEqual(self._calls('POST /v1/charges'), 0)

    def test_amount_of_an_invoice_in_another_currency_is_charged_in_it(self):
        cad = self._enable_currency('CAD')
        invoice = self._open_invoice(10.0, currency_id=cad.id)
        self.provider.available_currency_ids = [Command.link(cad.id)]
        self._pay_in_browser('clover_portal_pay_invoice', invoice)
        self._assert_paid_by_clover(invoice, 1000)
        self.assertEqual(self._clover_requests('/v1/charges')[-1]['json']['currency'], 'cad')
