import time
from unittest.mock import patch

from odoo.modules.registry import DummyRLock, Registry
from odoo.tests import tagged
from odoo.tests.common import get_db_name

from odoo.addons.fusion_clover.models import clover_terminal_runner as runner
from odoo.addons.fusion_clover.tests.common import CloverCommittedCommon

TERMINALS = 4
DELAY = 3.0  # Seconds each emulated customer takes to tap.


@tagged('post_install', '-at_install')
class TestCloverTerminalConcurrency(CloverCommittedCommon):
    """Several terminals of one shop paying at once, through the cron's own entry point and real
    cursors: each payment waits in its own thread with no transaction open, so four payments take
    about as long as one. Nothing here runs in a test transaction: the data is committed for the
    class and removed afterwards (as in test_token_concurrency)."""

    provider_name = "Clover (concurrency test)"

    @classmethod
    def _start_emulator(cls):  # pylint: disable=missing-return
        super()._start_emulator()
        cls.shop = cls._emulator('POST', 'merchants', {'name': "Busy Pharmacy", 'devices': TERMINALS})

    @classmethod
    def _provider_values(cls):
        return {**super()._provider_values(), 'clover_merchant_id': cls.shop['merchant_id']}

    def setUp(self):
        super().setUp()
        self._commit_fresh_tokens(self.shop['merchant_id'])
        with self._cursor_env() as env:
            provider = env['payment.provider'].browse(self.provider_id)
            if not provider.clover_terminal_ids:
                provider.action_clover_sync_terminals()
            self.terminal_ids = provider.clover_terminal_ids.ids
            self.serials = provider.clover_terminal_ids.mapped('serial_number')

    @classmethod
    def _remove_committed_records(cls, env):
        env.cr.execute("DELETE FROM payment_transaction WHERE provider_id = %s", [cls.provider_id])
        env['clover.terminal'].with_context(active_test=False).search([
            ('provider_id', '=', cls.provider_id),
        ]).unlink()

    def test_terminals_paying_at_once_take_the_time_of_one(self):
        for serial in self.serials:
            self._emulator('POST', 'terminal/outcome', {
                'device': serial, 'outcome': 'approve', 'delay': DELAY,
            })
        with self._cursor_env() as env:
            partner = env['res.partner'].browse(self.partner_id)
            tx_ids = []
            for terminal in env['clover.terminal'].browse(self.terminal_ids):
                tx = env['payment.transaction']._clover_new_terminal_transaction(terminal, 20.0, partner)
                tx._clover_start_terminal_payment()
                tx_ids.append(tx.id)

        # The runner's threads open cursors in the test runner's process; the runner holds the
        # registry lock for the whole run (see test_token_concurrency). Booking is not the point
        # here: Odoo's account post-processing is stubbed as PaymentCommon does.
        started = time.monotonic()
        with patch.object(Registry, '_lock', DummyRLock()), patch(
            'odoo.addons.account_payment.models.payment_transaction.PaymentTransaction._post_process',
        ):
            with self._cursor_env() as env:
                env['payment.transaction']._cron_clover_run_terminal_payments()
            self.assertEqual(sorted(runner.running_ids(get_db_name())), sorted(tx_ids))
            while runner.running_ids(get_db_name()) and time.monotonic() - started < 30:
                time.sleep(0.05)
        elapsed = time.monotonic() - started

        with self._cursor_env() as env:
            txs = env['payment.transaction'].browse(tx_ids)
            self.assertEqual(txs.mapped('state'), ['done'] * TERMINALS)
            self.assertEqual(len(set(txs.mapped('provider_reference'))), TERMINALS)
        self.assertEqual(self._counters()['terminal_operations'], TERMINALS)
        self.assertGreaterEqual(elapsed, DELAY)
        self.assertLess(elapsed, 2 * DELAY, f"{TERMINALS} payments of {DELAY} s took {elapsed:.1f} s")
