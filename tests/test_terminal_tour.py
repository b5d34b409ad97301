from odoo.tests import tagged

from odoo.addons.fusion_clover.tests.terminal_common import CloverTerminalCommon
from odoo.addons.payment.tests.http_common import PaymentHttpCommon


@tagged('post_install', '-at_install')
class TestCloverTerminalTour(CloverTerminalCommon, PaymentHttpCommon):
    """The terminal screens in a real browser, against the emulator."""

    def test_a_clerk_pings_the_default_terminal(self):
        clerk = self._clover_user()
        self.start_tour('/odoo/action-fusion_clover.action_clover_terminals', 'clover_terminal_ping',
                        login=clerk.login)
        self.assertTrue(self.terminal.last_ping_ok)
        self.assertEqual(self._calls('POST /connect/v1/device/ping'), 1)

    def test_an_admin_syncs_terminals_from_the_provider(self):
        self.terminals.unlink()
        # Reading the provider's journal creates its payment method line (account_payment): do it
        # here, not in the tour's read-only request, which would log a failed write and retry.
        self.assertTrue(self.provider.journal_id)
        self.start_tour(f'/odoo/action-payment.action_payment_provider/{self.provider.id}',
                        'clover_terminal_sync', login='admin')
        self.assertEqual(len(self.provider.clover_terminal_ids), 2)
