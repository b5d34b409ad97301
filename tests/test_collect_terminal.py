import threading

from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.fusion_clover.tests.terminal_common import PAYMENTS, CloverTerminalCommon
from odoo.addons.fusion_clover.tests.test_collect_common import CloverCollectCommon


@tagged('post_install', '-at_install')
class TestCloverCollectTerminal(CloverCollectCommon, CloverTerminalCommon):
    """A clerk collects on a terminal from the dialog: the engine sends it in the background, the
    dialog follows its status, and the approved payment lands on the document."""

    def _send(self, document, **values):
        wizard = self._wizard(document, mode='terminal', **values)
        status = wizard.clover_send_to_terminal()
        return wizard, status

    def _when_the_customer_is_at_the_device(self, action):
        """Run `action` once the device shows the payment (the runner then waits on Clover and
        uses no cursor, so the test's cursor is the clerk's alone)."""
        def run():
            for _attempt in range(100):
                if self._device_state()['busy']:
                    break
                threading.Event().wait(0.05)
            else:
                self.fail("the payment never reached the device")
            action()
        return run

    def test_dialog_preselects_terminal_mode_and_the_default_terminal(self):
        wizard = self._wizard(self._open_invoice(50.0))
        self.assertEqual(wizard.mode, 'terminal')
        self.assertEqual(wizard.terminal_id, self.terminal)
        self.assertTrue(self.terminal.is_default)

    def test_approved_on_the_terminal_pays_the_invoice_and_its_fee_in_one_payment(self):
        self._set_surcharge(rate=3.0, fixed=0.30)
        invoice = self._open_invoice(100.0)
        self._script('approve', delay=0.2)
        wizard, status = self._send(invoice)
        self.assertFalse(status['final'])
        self.assertEqual(status['state'], 'pending')
        self.assertFalse(invoice.transaction_ids.payment_id)  # Nothing booked while it waits.

        self._run_terminal()
        status = wizard.clover_poll_status()

        self.assertTrue(status['approved'], status)
        self.assertIn("Approved", status['message'])
        tx = wizard.transaction_id
        self.assertEqual((tx.state, tx.amount, tx.clover_surcharge_amount), ('done', 103.30, 3.30))
        self.assertEqual(tx.clover_terminal_id, self.terminal)
        self.assertTrue(tx.clover_card_last4 and tx.clover_card_brand and tx.clover_entry_type)
        self.assertTrue(tx.clover_auth_code)
        [request] = self._payment_requests()
        self.assertEqual(request['json']['amount'], 10330)  # One payment on the device for the sum.
        fee_invoice = tx.clover_surcharge_invoice_id
        for paid in (invoice, fee_invoice):
            self.assertTrue(paid.currency_id.is_zero(paid.amount_residual))
        self._assert_balanced(invoice + fee_invoice + tx.payment_id.move_id)

    def test_closing_the_dialog_does_not_stop_the_payment_from_landing(self):
        invoice = self._open_invoice(64.0)
        self._script('approve', delay=0.2)
        wizard, _status = self._send(invoice)
        wizard.unlink()  # The clerk closed the dialog; the transient row is gone.

        self._run_terminal()

        tx = invoice.transaction_ids
        self.assertEqual(tx.state, 'done')
        self.assertTrue(tx.is_post_processed)
        self.assertIn(invoice.payment_state, ('in_payment', 'paid'))

    @mute_logger('odoo.addons.fusion_clover.models.payment_transaction_terminal')
    def test_declined_on_the_terminal_books_nothing_and_says_why(self):
        self._set_surcharge()
        invoice = self._open_invoice(80.0)
        self._script('decline')
        wizard, _status = self._send(invoice)
        self._run_terminal()
        status = wizard.clover_poll_status()

        self.assertTrue(status['final'])
        self.assertFalse(status['approved'])
        self.assertEqual(status['state'], 'error')
        self.assertIn("Declined", status['message'])
        tx = wizard.transaction_id
        self.assertFalse(tx.payment_id or tx.clover_surcharge_invoice_id)
        self.assertEqual((invoice.payment_state, invoice.amount_residual), ('not_paid', 80.0))
        self.assertEqual(self._wizard(invoice).amount, 80.0)  # May be collected again.

    def test_clerk_cancels_on_the_terminal(self):
        invoice = self._open_invoice(45.0)
        self._script('approve', hold=True)
        wizard, _status = self._send(invoice)

        self._run_terminal(during=self._when_the_customer_is_at_the_device(wizard.clover_cancel_terminal))
        status = wizard.clover_poll_status()

        self.assertEqual(status['state'], 'cancel')
        self.assertTrue(status['final'])
        self.assertFalse(wizard.transaction_id.payment_id)
        self.assertEqual(invoice.payment_state, 'not_paid')

    def test_a_payment_waiting_on_the_terminal_is_not_collected_twice(self):
        invoice = self._open_invoice(100.0)
        self._send(invoice, amount=70.0)
        wizard = self._wizard(invoice, mode='card')
        self.assertEqual(wizard.amount_due, 30.0)
        wizard.amount = 31.0
        with self.assertRaisesRegex(Exception, "more than"):
            wizard.clover_charge_card(self._card_token())

    @mute_logger('odoo.addons.fusion_clover.models.payment_transaction_terminal')
    def test_terminal_without_cloud_pay_display_running_says_so(self):
        invoice = self._open_invoice(30.0)
        self._emulator('POST', 'terminal/state', {'device': self.device['serial'], 'running': False})
        wizard, _status = self._send(invoice)
        self._run_terminal()
        status = wizard.clover_poll_status()

        self.assertEqual(status['state'], 'error')
        self.assertTrue(status['message'])
        self.assertFalse(wizard.transaction_id.payment_id)

    def test_sale_order_collected_on_the_terminal_with_its_fee_line(self):
        self._set_surcharge(rate=2.0, fixed=0.0)
        order = self._quotation(150.0)
        self._script('approve', delay=0.2)
        wizard, _status = self._send(order)
        self._run_terminal()
        status = wizard.clover_poll_status()

        self.assertTrue(status['approved'], status)
        tx = wizard.transaction_id
        self.assertEqual((tx.amount, tx.clover_surcharge_line_id.price_unit), (153.0, 3.0))
        self.assertEqual(order.amount_total, 153.0)
        self.assertEqual(order.state, 'sale')
        self.assertEqual(tx.payment_id.amount, 153.0)
        self.assertEqual(self._payment_requests(PAYMENTS)[0]['json']['amount'], 15300)
