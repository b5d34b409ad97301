from odoo.tests.common import new_test_user, release_test_lock

from odoo.addons.fusion_clover.models import clover_terminal_runner as runner
from odoo.addons.fusion_clover.tests.common import CloverCommon

PAYMENTS = '/connect/v1/payments'


class CloverTerminalCommon(CloverCommon):
    """A connected provider with the emulator merchant's two devices synced as terminals.

    The runner's threads write through cursors of their own; in registry test mode these wrap the
    test's cursor and take the test lock, so a test serves payments through `_run_terminal`, which
    releases the lock while the threads run. Runs that must overlap (concurrency) live in
    test_terminal_concurrency.py, on committed data.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Book approved payments for real (PaymentCommon stubs account_payment's post-processing).
        cls.enable_post_process_patcher = False

    def setUp(self):
        super().setUp()
        self.provider.action_clover_sync_terminals()
        self.terminals = self.provider.clover_terminal_ids.sorted('serial_number', reverse=True)
        self.terminal = self.terminals.filtered('is_default')
        serial = self.terminal.serial_number
        self.device = next(d for d in self.identities['devices'] if d['serial'] == serial)

    def _clover_user(self, login='clover_clerk', company=None):
        """A clerk: an internal user in the Fusion Clover user group."""
        company = company or self.env.company
        return new_test_user(
            self.env, login=login, groups='base.group_user,fusion_clover.group_fusion_clover_user',
            company_id=company.id, company_ids=[(6, 0, company.ids)],
        )

    def _script(self, outcome, delay=0.0, hold=False, device=None):
        self._emulator('POST', 'terminal/outcome', {
            'device': device or self.device['serial'], 'outcome': outcome, 'delay': delay, 'hold': hold,
        })

    def _device_state(self, device=None):
        return self._emulator('GET', 'terminal/state', device=device or self.device['serial'])

    def _terminal_tx(self, amount=None, terminal=None, **values):
        tx = self.env['payment.transaction']._clover_new_terminal_transaction(
            terminal or self.terminal, self.amount if amount is None else amount, self.partner,
            currency=self.currency, **values,
        )
        return tx

    def _start(self, amount=None, **values):
        tx = self._terminal_tx(amount, **values)
        tx._clover_start_terminal_payment()
        return tx

    def _run_terminal(self, during=None, timeout=30):
        """Serve the claimable terminal payments as the cron does, and wait for them.

        :param during: A callable run while the payments wait (e.g. a clerk's cancel); it must only
                       use the test's own cursor, never open one.
        """
        txs = self.env['payment.transaction']._clover_claim_terminal_payments()
        self.env.flush_all()  # The threads read the database, as the cron's do after its commit.
        threads = runner.serve(self.env.cr.dbname, txs.ids, renew_leases=False)
        with release_test_lock():
            if during:
                during()
            alive = runner.wait(threads, timeout)
        self.assertFalse(alive, "terminal payments still waiting")
        self.env.invalidate_all()
        return txs

    def _payment_requests(self, path=PAYMENTS):
        return self._emulator('GET', 'requests', path=path)['requests']
