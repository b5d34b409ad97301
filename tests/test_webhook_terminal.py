from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.fusion_clover.tests.terminal_common import PAYMENTS, CloverTerminalCommon
from odoo.addons.fusion_clover.tests.webhook_common import (
    PROVIDER_LOGGER,
    RECONCILE_LOGGER,
    TX_LOGGER,
    CloverWebhookCommon,
)

TERMINAL_LOGGER = 'odoo.addons.fusion_clover.models.payment_transaction_terminal'
RUNNER_LOGGER = 'odoo.addons.fusion_clover.models.clover_terminal_runner'


@tagged('post_install', '-at_install')
class TestCloverWebhookTerminal(CloverWebhookCommon, CloverTerminalCommon):
    """Terminal payments settle from Clover's webhooks through the terminal engine's own
    processing of v3 payment objects (`_process('clover', {'payment': ...})`)."""

    def _lost_terminal_payment(self):
        """A sale the device approved but whose answer never reached Odoo."""
        self._script('approve')
        self._emulator('POST', 'faults', {'path': PAYMENTS, 'drop': True, 'after': True})
        tx = self._start()
        self._run_terminal()
        self.assertEqual(tx.state, 'pending')
        self.assertFalse(tx.provider_reference)
        return tx

    @mute_logger(TX_LOGGER, PROVIDER_LOGGER, RECONCILE_LOGGER, TERMINAL_LOGGER, RUNNER_LOGGER)
    def test_terminal_payment_whose_answer_was_lost_settles_from_its_webhook(self):
        tx = self._lost_terminal_payment()
        [payment] = self._clover_get(f"/v3/merchants/{self.merchant_id}/payments")['elements']
        self.assertEqual(payment['externalPaymentId'], tx.clover_external_payment_id)

        self._flush()
        self._process_events()

        self.assertEqual(tx.state, 'done')
        self.assertEqual(tx.provider_reference, payment['id'])
        self.assertEqual(tx.clover_card_last4, payment['cardTransaction']['last4'])
        self.assertEqual(len(self._payment_requests()), 1)  # Not sent to the device again.
        self.assertEqual(self._events().transaction_id, tx)

    @mute_logger(TX_LOGGER, PROVIDER_LOGGER, RECONCILE_LOGGER, TERMINAL_LOGGER, RUNNER_LOGGER)
    def test_terminal_payment_with_the_webhook_dropped_settles_from_the_cron(self):
        tx = self._lost_terminal_payment()
        self._flush(drop=True)
        self._age(tx, minutes=6)
        self._reconcile_pending()
        self.assertEqual(tx.state, 'pending')  # The terminal engine still has its time.

        self._age(tx, minutes=15)
        self._reconcile_pending()

        self.assertEqual(tx.state, 'done')
        self.assertEqual(len(self._payment_requests()), 1)

    def _age(self, tx, minutes):
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE payment_transaction SET last_state_change = now() at time zone 'UTC' - "
            "make_interval(mins => %s) WHERE id = %s", [minutes, tx.id],
        )
        tx.invalidate_recordset()
