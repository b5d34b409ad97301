import requests

from odoo.fields import Command

from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.addons.fusion_clover.tests.common import CloverPaymentCommon

TX_LOGGER = 'odoo.addons.fusion_clover.models.payment_transaction'
REFUND_LOGGER = 'odoo.addons.fusion_clover.models.payment_transaction_refund'
TERMINAL_REFUND_LOGGER = 'odoo.addons.fusion_clover.models.payment_transaction_terminal_refund'
CREDIT_LOGGER = 'odoo.addons.fusion_clover.models.payment_transaction_credit'
PROVIDER_LOGGER = 'odoo.addons.fusion_clover.models.payment_provider'
PAYMENT_LOGGER = 'odoo.addons.payment.models.payment_transaction'


class CloverRefundCommon(CloverPaymentCommon, AccountTestInvoicingCommon):
    """Clover payments of invoices, with accounting (payments created and posted, not patched),
    and the refund wizard opened the way the buttons open it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.provider.journal_id = cls.company_data['default_journal_bank']
        cls.partner.email = 'refund.customer@example.com'

    def setUp(self):
        self.enable_post_process_patcher = False  # The real flow: payments are created and posted.
        super().setUp()

    # === Paying === #

    def _paid_tx(self, invoice=None, tokenize=False, **values):
        if invoice:
            values.setdefault('amount', invoice.amount_total)
            values['invoice_ids'] = [Command.set(invoice.ids)]
        tx = self._create_transaction('direct', tokenize=tokenize, **values)
        tx._clover_pay_with_card_token(self._card_token())
        self.assertIn(tx.state, ('done', 'authorized'))
        tx._post_process()
        return tx

    def _posted_invoice(self, amount=123.45):
        invoice = self._create_invoice_one_line(price_unit=amount, partner_id=self.partner, tax_ids=[])
        invoice.action_post()
        return invoice

    def _credit_note(self, invoice, amount=None):
        reversal = self.env['account.move.reversal'].with_context(
            active_model='account.move', active_ids=invoice.ids,
        ).create({'journal_id': invoice.journal_id.id, 'reason': "Returned goods"})
        credit_note = self.env['account.move'].browse(reversal.refund_moves()['res_id'])
        if amount is not None:
            credit_note.invoice_line_ids.price_unit = amount
        credit_note.action_post()
        return credit_note

    # === The wizard === #

    def _wizard(self, record, **values):
        action = record.action_clover_refund()
        self.assertEqual(action['res_model'], 'clover.refund.wizard')
        wizard = self.env['clover.refund.wizard'].with_context(**action['context']).create({})
        if values:
            wizard.write(values)
        return wizard

    def _refunds(self, tx):
        return tx.child_transaction_ids.filtered(lambda child: child.operation == 'refund').sorted('id')

    # === Clover, as its dashboard would act === #

    def _dashboard_post(self, path, payload):
        """Act at Clover behind Odoo's back, with the merchant's private key, as the Clover
        dashboard does."""
        response = requests.post(
            f'{self.emulator_url}{path}', json=payload, timeout=10, headers={
                'Authorization': f"Bearer {self.identities['private_key']}",
                'x-forwarded-for': '203.0.113.7',
            },
        )
        response.raise_for_status()
        return response.json()

    def _clover_gets(self, path):
        return len(self._clover_requests(path, method='GET'))
