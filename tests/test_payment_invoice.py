from odoo.fields import Command
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.addons.fusion_clover.tests.common import CloverPaymentCommon

TX_LOGGER = 'odoo.addons.fusion_clover.models.payment_transaction'
PROVIDER_LOGGER = 'odoo.addons.fusion_clover.models.payment_provider'


@tagged('post_install', '-at_install')
class TestCloverInvoicePayments(CloverPaymentCommon, AccountTestInvoicingCommon):
    """An invoice is never charged more than what is left to pay on it, when two browser tabs pay it
    at once (each tab has its own transaction for the whole amount)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.provider.journal_id = cls.company_data['default_journal_bank']

    def _invoice(self, amount):
        invoice = self._create_invoice_one_line(price_unit=amount, partner_id=self.partner, tax_ids=[])
        invoice.action_post()
        return invoice

    def _tab(self, invoice, amount, reference):
        """A transaction as `/invoice/transaction` creates it for one browser tab."""
        return self._create_transaction(
            'direct', amount=amount, reference=reference, invoice_ids=[Command.set(invoice.ids)],
        )

    def _pay(self, tx):
        tx._clover_pay_with_card_token(self._card_token())
        return tx

    @mute_logger(TX_LOGGER)
    def test_the_second_tab_is_refused_once_the_first_paid_the_invoice(self):
        invoice = self._invoice(33.0)
        first, second = self._tab(invoice, 33.0, 'tab-1'), self._tab(invoice, 33.0, 'tab-2')

        self._pay(first)
        self._pay(second)

        self.assertEqual(first.state, 'done')
        self.assertEqual(second.state, 'error')
        self.assertIn("already being paid", second.state_message)
        self.assertIn("tab-1", second.state_message)
        self.assertIn("Nothing was charged", second.state_message)
        self.assertEqual(self._counters()['charges_created'], 1)
        self.assertEqual(sum(c['amount'] for c in self._clover_get('/v1/charges')['data']), 3300)

    @mute_logger(TX_LOGGER, PROVIDER_LOGGER)
    def test_a_payment_whose_outcome_is_unknown_counts_as_taken(self):
        invoice = self._invoice(33.0)
        self._emulator('POST', 'faults', {'path': '/v1/charges', 'status': 502, 'after': True})
        first = self._pay(self._tab(invoice, 33.0, 'tab-1'))
        self.assertEqual(first.state, 'pending')

        second = self._pay(self._tab(invoice, 33.0, 'tab-2'))

        self.assertEqual(second.state, 'error')
        self.assertEqual(self._calls('POST /v1/charges'), 1)

    def test_what_is_left_can_still_be_paid(self):
        invoice = self._invoice(33.0)
        self._pay(self._tab(invoice, 20.0, 'part-1'))
        rest = self._pay(self._tab(invoice, 13.0, 'part-2'))
        self.assertEqual(rest.state, 'done')
        self.assertEqual(self._counters()['charges_created'], 2)

    @mute_logger(TX_LOGGER)
    def test_a_saved_card_cannot_overpay_the_invoice_either(self):
        invoice = self._invoice(33.0)
        token = self._pay(self._create_transaction('direct', reference='save', tokenize=True)).token_id
        self._pay(self._tab(invoice, 33.0, 'tab-1'))
        tx = self._create_transaction(
            'token', token_id=token.id, amount=33.0, reference='tab-2',
            invoice_ids=[Command.set(invoice.ids)],
        )
        tx._charge_with_token()
        self.assertEqual(tx.state, 'error')
        self.assertEqual(self._counters()['charges_created'], 2)  # The saving payment and tab 1.
