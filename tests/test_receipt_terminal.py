import re

from odoo import Command, fields
from odoo.tests import tagged

from odoo.addons.fusion_clover.tests.receipt_common import CloverReceiptMixin
from odoo.addons.fusion_clover.tests.terminal_common import CloverTerminalCommon


@tagged('post_install', '-at_install')
class TestCloverTerminalReceipt(CloverReceiptMixin, CloverTerminalCommon):
    """Receipts of payments and credits made on a terminal, through the terminal engine and the
    emulator's REST Pay Display."""

    def _payment_on_device(self, amount, **values):
        self._script('approve')
        tx = self._start(amount=amount, **values)
        self._run_terminal()
        self.assertEqual(tx.state, 'done')
        return tx

    def test_terminal_payment_with_surcharge_in_company_time(self):
        invoice = self._invoice(100.0)
        # The collection wizard adds the card fee to the amount and records it apart.
        tx = self._payment_on_device(
            103.0, invoice_ids=[Command.set(invoice.ids)], clover_surcharge_amount=3.0,
        )
        # 16:05 UTC on a summer day is 12:05 in Toronto.
        tx.last_state_change = fields.Datetime.to_datetime('2026-07-01 16:05:00')

        [page] = self._pages(self._render(tx))

        self.assertIn("PAYMENT RECEIPT", page)
        self.assertIn(invoice.name, page)
        self.assertRegex(page, r'Subtotal\s+\$\s?100\.00')
        self.assertRegex(page, r'Card surcharge\s+\$\s?3\.00')
        self.assertRegex(page, r'TOTAL\s+\$\s?103\.00')
        self.assertRegex(page, r'12:05:00\s?PM EDT')
        for label, value in (
            ("Entry", "Tap (contactless chip)"), ("Auth code", tx.clover_auth_code),
            ("Clover payment", tx.provider_reference), ("Clover order", tx.clover_order_id),
            ("Terminal", self.terminal.name),
        ):
            self.assertTrue(value)
            self.assertRegex(page, rf'{label}\s+{re.escape(value)}')
        self.assertIn("APPROVED", page)
        self._assert_only_last4(page)

    def test_terminal_payment_without_surcharge_has_no_surcharge_line(self):
        tx = self._payment_on_device(50.0)

        [page] = self._pages(self._render(tx))

        self.assertRegex(page, r'TOTAL\s+\$\s?50\.00')
        self.assertNotIn("Subtotal", page)
        self.assertNotIn("surcharge", page.lower())

    def test_terminal_credit_prints_one_page_that_says_it_is_a_credit(self):
        credit_tx = self._payment_on_device(-25.0)

        [page] = self._pages(self._render(credit_tx))

        self.assertIn("CREDIT RECEIPT", page)
        self.assertRegex(page, r'CREDITED\s+\$\s?25\.00')
        self.assertIn("A credit to this card, not a refund.", page)
        self.assertIn("CREDIT APPROVED", page)
        self.assertIn(credit_tx.provider_reference, page)
        self.assertRegex(page, rf'Terminal\s+{re.escape(self.terminal.name)}')
        self.assertNotIn("Refund of", page)
        self._assert_only_last4(page)

    def test_receipt_asked_before_the_device_answers_is_sent_once_paid(self):
        invoice = self._invoice(self.amount)
        tx = self._terminal_tx(invoice_ids=[Command.set(invoice.ids)])
        # What the collection wizard does when its "Send receipt" box is ticked.
        tx._clover_send_receipt()
        self.assertTrue(tx.clover_receipt_requested)
        self._script('approve')
        tx._clover_start_terminal_payment()
        self.assertFalse(self._mails_to_partner())

        self._run_terminal()  # The runner post-processes the approved payment.

        self.assertEqual(tx.state, 'done')
        self.assertTrue(tx.clover_receipt_sent)
        message = invoice.message_ids.filtered('attachment_ids')
        self.assertTrue(message.attachment_ids.name.startswith(f"Receipt - {tx.reference}"))
        [mail] = self._mails_to_partner()
        self.assertEqual(mail.mail_message_id, message)

    def test_receipt_asked_for_a_declined_payment_is_never_sent(self):
        tx = self._terminal_tx()
        tx._clover_send_receipt()
        self._script('decline')
        tx._clover_start_terminal_payment()

        self._run_terminal()
        tx._post_process()  # What the post-processing cron does with the failed payment.

        self.assertEqual(tx.state, 'error')
        self.assertFalse(tx.clover_receipt_requested)
        self.assertFalse(tx.clover_receipt_sent)
        self.assertFalse(self._mails_to_partner())
