from datetime import timedelta

import requests
from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.fusion_clover.tests.terminal_common import CloverTerminalCommon
from odoo.addons.fusion_clover.tests.test_refund_common import (
    CREDIT_LOGGER,
    PAYMENT_LOGGER,
    PROVIDER_LOGGER,
    TX_LOGGER,
    CloverRefundCommon,
)
from odoo.addons.payment import utils as payment_utils

MINUTE = 60
DAY = 24 * 3600


@tagged('post_install', '-at_install')
class TestCloverTerminalRefund(CloverTerminalCommon, CloverRefundCommon):
    """Refunds, voids and credits of terminal payments, through REST Pay Display on the device."""

    def _terminal_sale(self, invoice=None):
        values = {'invoice_ids': [(6, 0, invoice.ids)]} if invoice else {}
        tx = self._start(amount=invoice.amount_total if invoice else None, **values)
        self._run_terminal()
        self.assertEqual(tx.state, 'done')
        return tx

    def _clover_payment(self, tx):
        merchant_id = self.identities['merchant_id']
        return self._clover_get(f'/v3/merchants/{merchant_id}/payments/{tx.provider_reference}')

    def _later(self, seconds):
        """Move both clocks: Clover's (the emulator's) and Odoo's."""
        self._emulator('POST', 'clock', {'advance': seconds})
        return freeze_time(fields.Datetime.now() + timedelta(seconds=seconds))

    def _refund_path(self, tx):
        return f'/connect/v1/payments/{tx.provider_reference}/refunds'

    def test_a_partial_refund_is_made_on_the_terminal(self):
        tx = self._terminal_sale()
        wizard = self._wizard(tx, amount=20.0)
        self.assertEqual(wizard.operation, 'refund')
        self.assertIn("on the terminal", wizard.explanation)

        wizard.action_confirm()

        refund_tx = self._refunds(tx)
        self.assertEqual((refund_tx.state, refund_tx.amount), ('done', -20.0))
        self.assertEqual(refund_tx.clover_refund_kind, 'refund')
        [sent] = self._payment_requests(self._refund_path(tx))
        self.assertEqual(sent['json'], {'amount': 2000})
        self.assertEqual(sent['headers']['x-clover-device-id'], self.terminal.serial_number)
        self.assertEqual(
            sent['headers']['idempotency-key'],
            payment_utils.generate_idempotency_key(refund_tx, scope='refund'),
        )
        self.assertEqual(self._clover_payment(tx)['refunds']['elements'][0]['amount'], 2000)
        self.assertEqual(refund_tx.payment_id.amount, 20.0)
        self.assertEqual(self._calls('POST /v1/refunds'), 0)  # Never the online path.

    def test_a_whole_sale_is_voided_inside_the_window(self):
        first = self._terminal_sale()
        wizard = self._wizard(first)
        self.assertEqual((wizard.operation, wizard.amount), ('void', 123.45))
        self.assertIn("less than 25 minutes old", wizard.explanation)
        wizard.action_confirm()
        void_tx = self._refunds(first)
        self.assertEqual((void_tx.state, void_tx.clover_refund_kind), ('done', 'void'))
        self.assertEqual(self._clover_payment(first)['result'], 'VOIDED')
        void_path = f'/connect/v1/payments/{first.provider_reference}/void'
        self.assertEqual(len(self._payment_requests(void_path)), 1)
        self.assertEqual(void_tx.payment_id.amount, 123.45)  # The sale's payment is undone in the books.

    def test_a_whole_sale_is_refunded_after_the_void_window(self):
        second = self._terminal_sale()
        with self._later(30 * MINUTE):
            second.invalidate_recordset()
            wizard = self._wizard(second)
            self.assertEqual(wizard.operation, 'refund')
            wizard.action_confirm()
        refund_tx = self._refunds(second)
        self.assertEqual((refund_tx.state, refund_tx.clover_refund_kind), ('done', 'refund'))
        self.assertFalse(self._payment_requests(f'/connect/v1/payments/{second.provider_reference}/void'))
        [sent] = self._payment_requests(self._refund_path(second))
        self.assertEqual(sent['json'], {'amount': 12345})
        self.assertEqual(self._clover_payment(second)['result'], 'SUCCESS')

    @mute_logger(TX_LOGGER, PAYMENT_LOGGER)
    def test_a_refund_made_elsewhere_is_caught_by_the_pre_check(self):
        tx = self._terminal_sale()
        token = self.provider.sudo().clover_oauth_access_token
        requests.post(
            f'{self.emulator_url}{self._refund_path(tx)}', json={'amount': 12000}, timeout=10, headers={
                'Authorization': f'Bearer {token}', 'X-Clover-Device-Id': self.terminal.serial_number,
                'X-POS-Id': 'Clover dashboard', 'Idempotency-Key': 'dashboard-refund-1',
            },
        ).raise_for_status()

        with self._later(30 * MINUTE), self.assertRaises(UserError) as caught:
            self._wizard(tx, amount=50.0).action_confirm()

        self.assertIn("$\xa0120.00 is already refunded", str(caught.exception))
        self.assertIn("refund at most $\xa03.45", str(caught.exception))
        self.assertEqual(len(self._payment_requests(self._refund_path(tx))), 1)

    @mute_logger(TX_LOGGER, PROVIDER_LOGGER, CREDIT_LOGGER)
    def test_an_unanswered_terminal_refund_stays_pending_then_is_replayed_once(self):
        tx = self._terminal_sale()
        self._emulator('POST', 'faults', {'path': self._refund_path(tx), 'drop': True, 'after': True})

        self._wizard(tx, amount=10.0).action_confirm()

        refund_tx = self._refunds(tx)
        self.assertEqual(refund_tx.state, 'pending')
        refund_tx._post_process()
        self.assertEqual(refund_tx.state, 'done')
        sent = self._payment_requests(self._refund_path(tx))
        self.assertEqual(len(sent), 2)
        self.assertEqual(len({r['headers']['idempotency-key'] for r in sent}), 1)
        self.assertEqual([r['amount'] for r in self._clover_payment(tx)['refunds']['elements']], [1000])

    def test_after_180_days_the_customer_taps_for_a_credit_on_the_terminal(self):
        invoice = self._posted_invoice(123.45)
        tx = self._terminal_sale(invoice)
        credit_note = self._credit_note(invoice, amount=40.0)
        with self._later(181 * DAY):
            tx.invalidate_recordset()
            wizard = self._wizard(credit_note)
            self.assertEqual((wizard.operation, wizard.credit_method), ('credit', 'terminal'))
            self.assertEqual(wizard.terminal_id, self.terminal)
            wizard.action_confirm()
        credit_tx = credit_note.transaction_ids
        self.assertEqual((credit_tx.state, credit_tx.amount), ('pending', -40.0))
        self.assertFalse(credit_tx.source_transaction_id)
        self._run_terminal()  # The customer taps their card.

        self.assertEqual((credit_tx.state, credit_tx.clover_refund_kind), ('done', 'credit'))
        # Clover's clock moved 181 days: the stale access token is refused (401) and refreshed first.
        [sent] = [r for r in self._payment_requests('/connect/v1/credits') if r['status'] == 200]
        self.assertEqual(sent['json']['amount'], 4000)
        self.assertFalse(self._payment_requests(self._refund_path(tx)))
        self.assertIn(credit_note.payment_state, ('in_payment', 'paid'))
