from unittest.mock import patch

from odoo.tests import HttpCase, tagged
from odoo.tests.common import release_test_lock
from odoo.tools import mute_logger

from odoo.addons.fusion_clover.models import clover_terminal_runner as runner
from odoo.addons.fusion_clover.tests.terminal_common import CloverTerminalCommon
from odoo.addons.fusion_clover.tests.test_collect_common import CloverCollectCommon


@tagged('post_install', '-at_install')
class TestCloverCollectTerminalTours(CloverCollectCommon, CloverTerminalCommon, HttpCase):
    """A clerk collects on a terminal in a real browser and watches the payment in the dialog."""

    def _tour_with_runner(self, document, tour):
        """Run `tour`, serving each terminal payment the dialog starts as the runner cron does.

        The cron only runs on committed rows, and a test commits nothing: the payment is claimed
        and served by the runner's threads as soon as the clerk's request started it.
        """
        threads = []
        start = self.registry['payment.transaction']._clover_start_terminal_payment

        def start_and_serve(tx):
            status = start(tx)
            claimed = tx.env['payment.transaction'].sudo()._clover_claim_terminal_payments()
            tx.env.flush_all()
            threads.extend(runner.serve(tx.env.cr.dbname, claimed.ids, renew_leases=False))
            return status

        with patch.object(self.registry['payment.transaction'], '_clover_start_terminal_payment',
                          start_and_serve):
            self.start_tour(f'/odoo/{document._name}/{document.id}', tour, login='clover_clerk')
        with release_test_lock():
            self.assertFalse(runner.wait(threads, 30), "terminal payments still waiting")
        self.env.invalidate_all()
        self.assertEqual(len(threads), 1)

    def test_invoice_paid_on_the_terminal_with_live_status(self):
        invoice = self._open_invoice(88.0)
        self._script('approve', delay=1.5)
        self._tour_with_runner(invoice, 'clover_collect_invoice_terminal_approved')

        tx = invoice.transaction_ids
        self.assertEqual((tx.state, tx.clover_terminal_id), ('done', self.terminal))
        self.assertIn(invoice.payment_state, ('in_payment', 'paid'))
        self.assertEqual(self._payment_requests()[0]['json']['amount'], 8800)

    @mute_logger('odoo.addons.fusion_clover.models.payment_transaction_terminal')
    def test_decline_on_the_terminal_shows_in_the_dialog(self):
        invoice = self._open_invoice(88.0)
        self._script('decline', delay=1.5)
        self._tour_with_runner(invoice, 'clover_collect_invoice_terminal_declined')

        tx = invoice.transaction_ids
        self.assertEqual(tx.state, 'error')
        self.assertFalse(tx.payment_id)
        self.assertEqual(invoice.payment_state, 'not_paid')
