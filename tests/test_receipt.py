import base64
import re
from unittest.mock import patch

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import HttpCase, tagged
from odoo.tests.common import ChromeBrowser

from odoo.addons.fusion_clover.tests.common import APPROVED_VISA, CloverPaymentCommon
from odoo.addons.fusion_clover.tests.receipt_common import (
    KEEP_PDFS_DIR,
    REPORT,
    CloverReceiptMixin,
)

RECEIPT_LOGGER = 'odoo.addons.fusion_clover.models.payment_transaction_receipt'


@tagged('post_install', '-at_install')
class TestCloverReceipt(CloverReceiptMixin, CloverPaymentCommon):
    """The Clover receipt of online payments and refunds, and its email."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.terminal = cls.env['clover.terminal'].create({
            'name': "Front Counter", 'serial_number': 'C043UQ93750001', 'provider_id': cls.provider.id,
        })

    # === Helpers === #

    def _online_payment(self, **values):
        """A payment made through Odoo's card form, charged at the emulated Clover."""
        invoice = self._invoice(self.amount)
        tx = self._create_transaction('direct', invoice_ids=[Command.set(invoice.ids)], **values)
        tx._clover_pay_with_card_token(self._card_token())
        self.assertEqual(tx.state, 'done')
        return tx

    def _terminal_values(self, **values):
        """What the terminal engine writes from Clover's REST Pay answer, for the tests of states
        and wording; test_receipt_terminal.py prints real terminal payments and credits."""
        return {
            'provider_reference': 'Q8ZV3KD2M7W1E',
            'clover_order_id': 'X4C2N9R0T5B6A',
            'clover_external_payment_id': 'odoo-tx-0001',
            'clover_card_brand': 'VISA',
            'clover_card_last4': APPROVED_VISA[-4:],
            'clover_auth_code': 'OK1234',
            'clover_entry_type': 'EMV_CONTACTLESS',
            'clover_terminal_id': self.terminal.id,
            **values,
        }

    def _terminal_payment(self):
        invoice = self._invoice(100.0)
        tx = self._create_transaction(
            'direct', reference='INV-T-1', operation='offline', amount=103.0,
            invoice_ids=[Command.set(invoice.ids)],
            **self._terminal_values(clover_surcharge_amount=3.0),
        )
        tx._set_done()
        return tx

    # === The PDF === #

    def test_online_payment_receipt(self):
        tx = self._online_payment()

        [page] = self._pages(self._render(tx))

        self.assertIn("PAYMENT RECEIPT", page)
        self.assertIn(self.company.name, page)
        self.assertIn("120 King Street West", page)
        self.assertIn(tx.reference, page)
        self.assertIn(tx.invoice_ids.name, page)
        self.assertRegex(page, r'TOTAL\s+\$\s?123\.45')
        self.assertIn("Online", page)
        charge = self._clover_charge(tx.provider_reference)
        self.assertRegex(page, rf"Auth code\s+{charge['auth_code']}")
        self.assertIn(tx.provider_reference, page)
        self.assertIn(tx.clover_order_id, page)
        self.assertIn("APPROVED", page)
        self.assertNotIn("surcharge", page.lower())
        self.assertIn("Thank you!", page)
        self._assert_only_last4(page)

    def test_entry_types_in_words(self):
        tx = self._terminal_payment()
        for entry_type, words in (
            ('EMV_CONTACT', "Chip"), ('SWIPED', "Swipe"), ('KEYED', "Keyed"),
            ('MSD_CONTACTLESS', "Tap (contactless)"), ('', "Online"),
            ('SOMETHING_NEW', "Something new"),
        ):
            tx.clover_entry_type = entry_type
            self.assertEqual(tx._clover_receipt_entry(), words)

    def test_approval_wording_follows_the_state(self):
        tx = self._create_transaction('direct', operation='offline', **self._terminal_values())
        self.assertEqual(tx._clover_receipt_approval(), "PENDING - NOT YET CONFIRMED")
        tx._set_authorized()
        self.assertEqual(tx._clover_receipt_approval(), "AUTHORIZED - NOT YET CAPTURED")
        tx._set_canceled()
        self.assertEqual(tx._clover_receipt_approval(), "VOIDED - NO MONEY WAS TAKEN")
        declined_tx = self._create_transaction(
            'direct', reference='DECLINED-2', operation='offline', **self._terminal_values(),
        )
        declined_tx._set_error("The card was declined.")
        [page] = self._pages(self._render(declined_tx))
        self.assertIn("DECLINED", page)
        self.assertNotIn("APPROVED", page)
        self.assertNotIn("Thank you", page)

    def test_partial_refund_prints_the_refund_then_the_original(self):
        tx = self._online_payment()
        tx.action_refund(amount_to_refund=23.45)
        refund_tx = tx.child_transaction_ids.filtered(lambda child: child.operation == 'refund')
        self.assertEqual(refund_tx.state, 'done')

        refund_page, original_page = self._pages(self._render(refund_tx))

        self.assertIn("REFUND RECEIPT", refund_page)
        self.assertRegex(refund_page, r'REFUNDED\s+\$\s?23\.45')
        self.assertRegex(refund_page, rf'Refund of\s+{tx.reference}')
        self.assertIn(refund_tx.provider_reference, refund_page)
        self.assertIn(tx.invoice_ids.name, refund_page)
        self.assertIn("REFUND APPROVED", refund_page)
        self.assertNotIn("ORIGINAL PAYMENT", refund_page)
        self._assert_only_last4(refund_page)

        self.assertIn("ORIGINAL PAYMENT", original_page)
        self.assertIn("PAYMENT RECEIPT", original_page)
        self.assertRegex(original_page, r'TOTAL\s+\$\s?123\.45')
        self.assertIn(tx.provider_reference, original_page)
        self.assertRegex(original_page, rf'\$\s?23\.45 refunded by {refund_tx.reference}')
        self._assert_only_last4(original_page)

    def test_a_selection_prints_as_one_pdf_one_receipt_after_the_other(self):
        tx = self._online_payment()
        tx.action_refund(amount_to_refund=10.0)
        terminal_tx = self._terminal_payment()

        pages = self._pages(self._render(tx.child_transaction_ids | terminal_tx))

        self.assertEqual(len(pages), 3)
        self.assertIn("REFUND RECEIPT", pages[0])
        self.assertIn("ORIGINAL PAYMENT", pages[1])
        self.assertIn("INV-T-1", pages[2])

    def test_print_menu_offers_the_receipt_on_clover_transactions(self):
        report = self.env.ref(REPORT)
        self.assertEqual(report.binding_model_id.model, 'payment.transaction')
        self.assertEqual(report.paperformat_id.page_width, 80)

    # === The email === #

    def test_receipt_email_is_queued_with_the_pdf_and_posted_on_the_invoice(self):
        tx = self._online_payment()

        sent = self._send_receipt(tx)

        self.assertEqual(sent, tx)
        self.assertTrue(tx.clover_receipt_sent)
        message = tx.invoice_ids.message_ids.filtered(lambda m: m.attachment_ids)
        self.assertEqual(len(message), 1)
        self.assertEqual(message.partner_ids, self.partner)
        [attachment] = message.attachment_ids
        self.assertEqual(attachment.name, f"Receipt - {tx.reference}.pdf")
        self.assertEqual(attachment.mimetype, 'application/pdf')
        [page] = self._pages(attachment.raw)
        self.assertIn("PAYMENT RECEIPT", page)
        [mail] = self._mails_to_partner()
        self.assertEqual(mail.state, 'outgoing')
        self.assertEqual(mail.mail_message_id, message)
        self.assertIn("123.45", mail.body_html)
        self.assertIn(tx.reference, mail.subject)

    def test_refund_receipt_email_is_posted_on_the_original_invoice(self):
        tx = self._online_payment()
        tx.action_refund(amount_to_refund=10.0)
        refund_tx = tx.child_transaction_ids

        self._send_receipt(refund_tx)

        message = tx.invoice_ids.message_ids.filtered(lambda m: m.attachment_ids)
        self.assertEqual(message.attachment_ids.name, f"Receipt - {refund_tx.reference}.pdf")
        self.assertEqual(len(self._pages(message.attachment_ids.raw)), 2)
        self.assertIn("refund", message.subject)

    def test_receipt_of_a_sales_order_payment_is_posted_on_the_order(self):
        product = self.env['product.product'].create({'name': "Walker", 'list_price': self.amount})
        order = self.env['sale.order'].create({
            'partner_id': self.partner.id,
            'order_line': [Command.create({'product_id': product.id, 'price_unit': self.amount})],
        })
        tx = self._create_transaction('direct', sale_order_ids=[Command.set(order.ids)])
        tx._clover_pay_with_card_token(self._card_token())

        [page] = self._pages(self._render(tx))
        self._send_receipt(tx)

        self.assertRegex(page, rf'Order\s+{re.escape(order.name)}')
        message = order.message_ids.filtered('attachment_ids')
        self.assertEqual(message.attachment_ids.name, f"Receipt - {tx.reference}.pdf")
        self.assertEqual(message.partner_ids, self.partner)

    def test_receipt_email_without_a_document_goes_to_the_customer(self):
        tx = self._create_transaction('direct', operation='offline', **self._terminal_values())
        tx._set_done()

        self._send_receipt(tx)

        [mail] = self._mails_to_partner()
        self.assertEqual(mail.state, 'outgoing')
        self.assertEqual(mail.attachment_ids.mimetype, 'application/pdf')
        self.assertTrue(base64.b64decode(mail.attachment_ids.datas).startswith(b'%PDF'))

    def test_receipt_asked_before_confirmation_is_sent_once_confirmed(self):
        tx = self._create_transaction('direct', operation='offline', **self._terminal_values())
        tx._set_pending()

        self.assertFalse(tx._clover_send_receipt())

        self.assertTrue(tx.clover_receipt_requested)
        self.assertFalse(self._mails_to_partner())
        tx._set_done()
        with self.allow_pdf_render():
            tx.with_context(force_report_rendering=True)._post_process()
        self.assertEqual(len(self._mails_to_partner()), 1)
        self.assertTrue(tx.clover_receipt_sent)
        self.assertFalse(tx.clover_receipt_requested)

    def test_receipt_asked_for_a_payment_that_fails_is_never_sent(self):
        tx = self._create_transaction('direct', operation='offline', **self._terminal_values())
        tx._set_pending()
        tx._clover_send_receipt()

        tx._set_error("The card was declined.")
        tx._post_process()

        self.assertFalse(tx.clover_receipt_requested)
        self.assertFalse(self._mails_to_partner())

    def test_a_receipt_that_cannot_be_rendered_does_not_undo_the_payment(self):
        invoice = self._invoice(self.amount)
        tx = self._create_transaction(
            'direct', operation='offline', invoice_ids=[Command.set(invoice.ids)],
            **self._terminal_values(),
        )
        tx._set_pending()
        tx._clover_send_receipt()
        tx._set_done()
        # wkhtmltopdf failing (a server without fonts, memory): no Clover call to emulate here.
        failure = UserError("Wkhtmltopdf failed (error code: -11).")
        with patch.object(type(self.env['ir.actions.report']), '_run_wkhtmltopdf', side_effect=failure), \
                self.assertLogs(RECEIPT_LOGGER, 'WARNING') as logs, self.allow_pdf_render():
            tx.with_context(force_report_rendering=True)._post_process()

        self.assertTrue(tx.is_post_processed)
        self.assertTrue(tx.payment_id)
        self.assertIn(invoice.payment_state, ('in_payment', 'paid'))
        self.assertIn(f"The receipt of transaction {tx.reference} was not sent", logs.output[0])
        self.assertFalse(self._mails_to_partner())
        self.assertFalse(tx.clover_receipt_sent)
        self.assertTrue(tx.clover_receipt_requested)
        with patch.object(type(self.env['ir.actions.report']), '_run_wkhtmltopdf', side_effect=failure), \
                self.allow_pdf_render(), self.assertRaisesRegex(UserError, "Wkhtmltopdf failed"):
            tx.with_context(force_report_rendering=True).action_clover_send_receipt()

    def test_resend_button_refuses_clearly_what_it_cannot_send(self):
        declined_tx = self._create_transaction(
            'direct', reference='DECLINED-1', operation='offline', **self._terminal_values(),
        )
        declined_tx._set_error("The card was declined.")
        with self.assertRaisesRegex(UserError, "only a confirmed payment"):
            declined_tx.action_clover_send_receipt()

        tx = self._online_payment()
        self.partner.email = False
        with self.assertRaisesRegex(UserError, "has no email address"):
            tx.action_clover_send_receipt()
        self.assertFalse(self._mails_to_partner())
        self.assertFalse(tx.clover_receipt_sent)
        # The wizards' call does not fail a made payment for a missing email.
        self.assertFalse(tx._clover_send_receipt())
        pending_tx = self._create_transaction(
            'direct', reference='NO-EMAIL-1', operation='offline', **self._terminal_values(),
        )
        pending_tx._clover_send_receipt()
        pending_tx._set_done()
        pending_tx._post_process()
        self.assertFalse(pending_tx.clover_receipt_requested)
        self.assertFalse(pending_tx.clover_receipt_sent)
        self.assertFalse(self._mails_to_partner())

    def test_a_clerk_sends_the_receipt_of_the_payment_he_took(self):
        clerk = self.env['res.users'].create({
            'name': "Clara Clerk", 'login': 'clara.clerk', 'email': 'clara@example.com',
            'group_ids': [Command.set([
                self.env.ref('fusion_clover.group_fusion_clover_user').id,
                self.env.ref('account.group_account_invoice').id,
            ])],
        })
        tx = self._online_payment()

        tx.with_user(clerk).action_clover_send_receipt()

        self.assertTrue(tx.clover_receipt_sent)
        message = tx.invoice_ids.message_ids.filtered(lambda m: m.attachment_ids)
        self.assertEqual(message.author_id, clerk.partner_id)
        self.assertEqual(len(self._mails_to_partner()), 1)

    def test_resend_button_sends_again(self):
        tx = self._online_payment()
        tx._clover_send_receipt()

        action = tx.action_clover_send_receipt()

        self.assertEqual(action['params']['type'], 'success')
        self.assertIn(self.partner.email, action['params']['message'])
        self.assertEqual(len(self._mails_to_partner()), 2)


@tagged('post_install', '-at_install')
class TestCloverReceiptTour(CloverPaymentCommon, HttpCase):
    """The transaction form's Send Receipt button, clicked in the browser."""

    def test_send_receipt_again_from_the_transaction_form(self):
        self.partner.email = 'norbert.buyer@example.com'
        invoice = self.env['account.move'].create({
            'move_type': 'out_invoice', 'partner_id': self.partner.id,
            'invoice_line_ids': [Command.create({
                'name': "Service", 'price_unit': self.amount, 'tax_ids': [Command.clear()],
            })],
        })
        invoice.action_post()
        tx = self._create_transaction('direct', invoice_ids=[Command.set(invoice.ids)])
        tx._clover_pay_with_card_token(self._card_token())

        self._start_tour_keeping_a_screenshot(
            f'/odoo/action-payment.action_payment_transaction/{tx.id}', 'clover_receipt_send_again',
        )

        self.assertTrue(tx.clover_receipt_sent)
        message = invoice.message_ids.filtered('attachment_ids')
        self.assertEqual(message.partner_ids, self.partner)
        self.assertTrue(message.attachment_ids.name.startswith(f"Receipt - {tx.reference}"))
        mail = self.env['mail.mail'].search([('mail_message_id', '=', message.id)])
        self.assertEqual((mail.state, mail.recipient_ids), ('outgoing', self.partner))

    def _start_tour_keeping_a_screenshot(self, url, tour):
        """Run the tour as the administrator; with FUSION_CLOVER_RECEIPT_PDF_DIR set, keep a
        screenshot of the page where the tour ended (in Odoo's screenshots folder)."""
        if not KEEP_PDFS_DIR:
            return self.start_tour(url, tour, login='admin')
        original_wait = ChromeBrowser._wait_code_ok

        def wait_then_screenshot(browser, *args, **kwargs):
            original_wait(browser, *args, **kwargs)
            browser.take_screenshot(prefix='clover_receipt_form_').result(timeout=10)

        with patch.object(ChromeBrowser, '_wait_code_ok', wait_then_screenshot):
            return self.start_tour(url, tour, login='admin')
