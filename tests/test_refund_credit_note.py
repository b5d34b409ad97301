from datetime import timedelta

from freezegun import freeze_time

from odoo import fields
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.fusion_clover.tests.test_refund_common import (
    PAYMENT_LOGGER,
    TX_LOGGER,
    CloverRefundCommon,
)


@tagged('post_install', '-at_install')
class TestCloverRefundCreditNote(CloverRefundCommon):
    """Refunds from invoices and credit notes: the credit note is paid by the refund's payment, and
    the invoice lists the refunds made."""

    def test_refund_from_a_credit_note_pays_the_credit_note(self):
        invoice = self._posted_invoice(123.45)
        tx = self._paid_tx(invoice)
        self.assertIn(invoice.payment_state, ('in_payment', 'paid'))
        credit_note = self._credit_note(invoice, amount=50.0)
        self.assertTrue(credit_note.clover_can_refund)

        wizard = self._wizard(credit_note)
        self.assertEqual(wizard.transaction_id, tx)
        self.assertEqual(wizard.credit_note_id, credit_note)
        self.assertEqual((wizard.operation, wizard.amount), ('refund', 50.0))  # Its residual.
        wizard.action_confirm()

        refund_tx = self._refunds(tx)
        self.assertEqual((refund_tx.state, refund_tx.amount), ('done', -50.0))
        self.assertEqual(refund_tx.invoice_ids, credit_note)
        self.assertEqual(self._clover_charge(tx.provider_reference)['amount_refunded'], 5000)
        self.assertTrue(credit_note.currency_id.is_zero(credit_note.amount_residual))
        self.assertIn(credit_note.payment_state, ('in_payment', 'paid'))
        self.assertFalse(credit_note.clover_can_refund)
        # Both documents list the refund; the invoice can still refund the rest.
        self.assertEqual(invoice.clover_refund_count, 1)
        self.assertEqual(credit_note.clover_refund_count, 1)
        self.assertEqual(invoice.action_view_clover_refunds()['res_id'], refund_tx.id)
        self.assertTrue(invoice.clover_can_refund)

    @mute_logger(TX_LOGGER, PAYMENT_LOGGER)
    def test_smart_button_counts_every_refund_and_credit_of_the_invoice(self):
        invoice = self._posted_invoice(123.45)
        tx = self._paid_tx(invoice, tokenize=True)
        self.assertEqual(invoice.clover_refund_count, 0)
        self._wizard(invoice, amount=10.0).action_confirm()
        self._wizard(invoice, amount=20.0).action_confirm()
        invoice.invalidate_recordset()  # As a new request would.
        self.assertEqual(invoice.clover_refund_count, 2)
        credit_note = self._credit_note(invoice, amount=30.0)
        with freeze_time(fields.Datetime.now() + timedelta(days=200)):
            tx.invalidate_recordset()
            wizard = self._wizard(credit_note)
            self.assertEqual((wizard.operation, wizard.amount), ('credit', 30.0))
            wizard.action_confirm()
        invoice.invalidate_recordset()
        self.assertEqual(invoice.clover_refund_count, 3)
        action = invoice.action_view_clover_refunds()
        refunds = self.env['payment.transaction'].search(action['domain'])
        self.assertEqual(sorted(refunds.mapped('amount')), [-30.0, -20.0, -10.0])
        credit_tx = refunds.filtered(lambda r: r.clover_refund_kind == 'credit')
        self.assertEqual(credit_tx.invoice_ids, credit_note)
        self.assertIn(credit_note.payment_state, ('in_payment', 'paid'))

    def test_a_credit_note_without_a_clover_payment_offers_a_credit(self):
        token = self._paid_tx(tokenize=True, amount=5.0).token_id  # A card saved some other day.
        credit_note = self._create_invoice_one_line(
            move_type='out_refund', price_unit=80.0, partner_id=self.partner, tax_ids=[],
        )
        credit_note.action_post()

        wizard = self._wizard(credit_note)

        self.assertFalse(wizard.transaction_id)
        self.assertEqual((wizard.operation, wizard.credit_method, wizard.token_id), ('credit', 'card', token))
        self.assertEqual(wizard.amount, 80.0)
        wizard.action_confirm()
        self.assertEqual(self._clover_requests('/v1/credits')[0]['json']['amount'], 8000)
        self.assertIn(credit_note.payment_state, ('in_payment', 'paid'))

    # === Receipts === #

    def _receipt_attachments(self, refund_tx):
        return self.env['ir.attachment'].search([('name', 'like', f"Receipt - {refund_tx.reference}")])

    def test_send_receipt_is_on_for_a_customer_with_email_and_emails_the_refund(self):
        invoice = self._posted_invoice(123.45)
        tx = self._paid_tx(invoice)
        wizard = self._wizard(invoice, amount=20.0)
        self.assertTrue(wizard.send_receipt)
        wizard.action_confirm()
        refund_tx = self._refunds(tx)
        self.assertTrue(refund_tx.clover_receipt_sent)
        self.assertEqual(len(self._receipt_attachments(refund_tx)), 1)

    def test_no_receipt_for_a_customer_without_email_or_when_unticked(self):
        invoice = self._posted_invoice(123.45)
        tx = self._paid_tx(invoice)
        self._wizard(invoice, amount=20.0, send_receipt=False).action_confirm()
        self.partner.email = False
        wizard = self._wizard(invoice, amount=10.0)
        self.assertFalse(wizard.send_receipt)
        wizard.action_confirm()
        refunds = self._refunds(tx)
        self.assertEqual(refunds.mapped('state'), ['done', 'done'])
        self.assertFalse(any(refunds.mapped('clover_receipt_sent')))
        self.assertFalse(self._receipt_attachments(refunds[0]) | self._receipt_attachments(refunds[1]))

    def test_a_credit_receipt_is_emailed_once_clover_credited(self):
        token = self._paid_tx(tokenize=True, amount=5.0).token_id
        credit_note = self._create_invoice_one_line(
            move_type='out_refund', price_unit=15.0, partner_id=self.partner, tax_ids=[],
        )
        credit_note.action_post()
        self._wizard(credit_note, token_id=token.id).action_confirm()
        credit_tx = credit_note.transaction_ids
        self.assertEqual((credit_tx.state, credit_tx.clover_refund_kind), ('done', 'credit'))
        self.assertTrue(credit_tx.clover_receipt_sent)
        self.assertFalse(credit_tx.clover_receipt_requested)
