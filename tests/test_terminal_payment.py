import json
import threading

import requests

from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.fusion_clover.tests.terminal_common import PAYMENTS, CloverTerminalCommon

ENGINE_LOGGER = 'odoo.addons.fusion_clover.models.payment_transaction_terminal'
PROVIDER_LOGGER = 'odoo.addons.fusion_clover.models.payment_provider'


@tagged('post_install', '-at_install')
class TestCloverTerminalPayment(CloverTerminalCommon):
    """The terminal payment engine against the emulator's REST Pay Display, outcome by outcome."""

    def _bus_statuses(self, tx):
        """The terminal statuses sent on the bus for `tx`, oldest first."""
        messages = self.env['bus.bus'].sudo().search([], order='id').mapped('message')
        statuses = [json.loads(message) for message in messages]
        return [status['payload'] for status in statuses
                if status['type'] == 'fusion_clover.terminal_status' and status['payload']['id'] == tx.id]

    # === Starting === #

    def test_start_saves_the_request_before_sending_and_returns_at_once(self):
        tx = self._terminal_tx()
        status = tx._clover_start_terminal_payment()

        self.assertEqual(tx.state, 'pending')
        self.assertEqual(status['state'], 'pending')
        self.assertFalse(status['final'])
        self.assertEqual(len(tx.clover_external_payment_id), 32)
        self.assertTrue(tx.clover_terminal_idempotency_key)
        request = json.loads(tx.clover_terminal_request)
        self.assertEqual(request['payload']['amount'], 111111)
        self.assertEqual(request['payload']['externalPaymentId'], tx.clover_external_payment_id)
        self.assertEqual(self._calls(f'POST {PAYMENTS}'), 0)  # Nothing sent by the clerk's request.
        trigger = self.env['ir.cron.trigger'].search(
            [('cron_id', '=', self.env.ref('fusion_clover.cron_clover_terminal_runner').id)])
        self.assertTrue(trigger)

    def test_start_refuses_what_a_terminal_cannot_take(self):
        tx = self._start()
        with self.assertRaisesRegex(Exception, "already sent"):
            tx._clover_start_terminal_payment()
        zero = self._terminal_tx()
        zero.amount = 0
        with self.assertRaisesRegex(Exception, "positive amount"):
            zero._clover_start_terminal_payment()
        self.terminals[1].active = False
        archived = self._terminal_tx(terminal=self.terminals[1])
        with self.assertRaisesRegex(Exception, "cannot take payments"):
            archived._clover_start_terminal_payment()
        self.assertEqual(self._calls(f'POST {PAYMENTS}'), 0)

    # === Outcomes === #

    def test_approved_payment_is_done_with_the_card_and_clovers_ids(self):
        self._script('approve', delay=0.2)
        tx = self._start()
        self._run_terminal()

        self.assertEqual(tx.state, 'done')
        [sent] = self._payment_requests()
        payment = self._clover_payment(tx.provider_reference)
        self.assertEqual(payment['amount'], 111111)
        self.assertEqual(payment['externalPaymentId'], tx.clover_external_payment_id)
        self.assertEqual(tx.clover_order_id, payment['order']['id'])
        self.assertEqual(tx.clover_card_brand, payment['cardTransaction']['cardType'])
        self.assertEqual(tx.clover_card_last4, payment['cardTransaction']['last4'])
        self.assertEqual(tx.clover_auth_code, payment['cardTransaction']['authCode'])
        self.assertEqual(tx.clover_entry_type, 'EMV_CONTACTLESS')
        self.assertEqual(sent['headers']['idempotency-key'], tx.clover_terminal_idempotency_key)
        self.assertEqual(sent['headers']['x-clover-device-id'], self.terminal.serial_number)
        self.assertEqual(sent['headers']['x-clover-timeout'], '120')
        self.assertEqual(self._device_state()['screen'], 'thank-you')
        status = tx._clover_terminal_status()
        self.assertTrue(status['final'])
        self.assertIn("Approved", status['message'])
        self.assertIn(tx.clover_card_last4, status['message'])
        self.assertEqual(self._bus_statuses(tx)[-1], status)

    def test_approved_payment_of_an_invoice_is_booked(self):
        invoice = self._clover_invoice()
        tx = self._start(invoice_ids=[(6, 0, invoice.ids)])
        self._run_terminal()
        self.assertEqual(tx.state, 'done')
        self.assertTrue(tx.is_post_processed)
        self.assertTrue(tx.payment_id)
        self.assertEqual(tx.payment_id.amount, self.amount)
        self.assertIn(invoice.payment_state, ('paid', 'in_payment'))

    def test_a_decline_is_an_error_with_clovers_reason_in_both_styles(self):
        self._script('decline')
        tx = self._start()
        self._run_terminal()
        self.assertEqual(tx.state, 'error')
        self.assertIn("Declined", tx.state_message)
        self.assertEqual(self._device_state()['screen'], 'welcome')

        self._emulator('POST', 'config', {'terminal_decline_style': 'error'})
        self._script('decline')
        tx = self._start()
        with mute_logger(PROVIDER_LOGGER):
            self._run_terminal()
        self.assertEqual(tx.state, 'error')
        self.assertIn("Declined", tx.state_message)
        self.assertIn("The card was declined", tx.state_message)
        self.assertEqual(self._calls(f'POST {PAYMENTS}'), 2)

    def test_customer_cancel_on_the_device_cancels(self):
        self._script('cancel')
        tx = self._start()
        self._run_terminal()
        self.assertEqual(tx.state, 'cancel')
        self.assertIn("nothing was charged", tx.state_message)
        self.assertEqual(self._device_state()['screen'], 'welcome')

    @mute_logger(PROVIDER_LOGGER)
    def test_a_busy_device_says_so_and_nothing_is_sent_twice(self):
        occupied = threading.Event()
        occupier = threading.Thread(target=self._occupy_device, args=(occupied,))
        self._script('approve', hold=True)  # Another POS holds the device.
        occupier.start()
        self.assertTrue(occupied.wait(10))
        try:
            tx = self._start()
            self._run_terminal()
        finally:
            self._release('cancel')
            occupier.join(10)
        self.assertEqual(tx.state, 'error')
        self.assertIn("busy with another payment", tx.state_message)
        self.assertFalse(tx.clover_terminal_phase)  # Not left for recovery.
        key = tx.clover_terminal_idempotency_key
        sent = [r for r in self._payment_requests() if r['headers'].get('idempotency-key') == key]
        self.assertEqual(len(sent), 1)

    def _occupy_device(self, occupied):
        headers = {'Authorization': f'Bearer {self.provider.sudo().clover_oauth_access_token}',
                   'X-Clover-Device-Id': self.device['serial'], 'X-POS-Id': 'OtherPOS',
                   'Idempotency-Key': 'other-pos-1'}
        threading.Timer(0.5, occupied.set).start()
        requests.post(f'{self.emulator_url}{PAYMENTS}', json={'amount': 100}, headers=headers, timeout=30)

    @mute_logger(PROVIDER_LOGGER)
    def test_a_device_that_does_not_answer_in_time_fails_clearly(self):
        self._script('timeout')
        tx = self._start()
        self._run_terminal()
        self.assertEqual(tx.state, 'error')
        self.assertIn("did not answer in time", tx.state_message)

    @mute_logger(PROVIDER_LOGGER)
    def test_cloud_pay_display_not_running_fails_clearly(self):
        self._emulator('POST', 'terminal/state', {'device': self.device['serial'], 'running': False})
        tx = self._start()
        self._run_terminal()
        self.assertEqual(tx.state, 'error')
        self.assertIn("Cloud Pay Display is not running", tx.state_message)

    # === Recovery === #

    @mute_logger(PROVIDER_LOGGER, ENGINE_LOGGER)
    def test_a_500_after_the_payment_is_recovered_by_the_same_request(self):
        self._emulator('POST', 'faults', {'path': PAYMENTS, 'status': 500, 'after': True})
        tx = self._start()
        self._run_terminal()
        self.assertEqual(tx.state, 'pending')
        self.assertEqual(tx.clover_terminal_phase, 'recovering')
        self.assertIn("will not be charged twice", tx._clover_terminal_status()['message'])

        self._recover(tx)

        self.assertEqual(tx.state, 'done')
        self._assert_one_payment(tx, sends=2)

    @mute_logger(PROVIDER_LOGGER, ENGINE_LOGGER)
    def test_a_lost_connection_is_recovered_without_a_second_payment(self):
        self._emulator('POST', 'faults', {'path': PAYMENTS, 'drop': True, 'after': True})
        self._emulator('POST', 'faults', {'path': PAYMENTS, 'status': 502})
        tx = self._start()
        self._run_terminal()
        self.assertEqual(tx.state, 'pending')
        self._recover(tx)  # The 502: still no outcome.
        self.assertEqual(tx.state, 'pending')
        self._recover(tx)
        self.assertEqual(tx.state, 'done')
        self._assert_one_payment(tx, sends=3)

    @mute_logger(PROVIDER_LOGGER, ENGINE_LOGGER)
    def test_a_request_lost_on_the_way_is_sent_again_once(self):
        self._emulator('POST', 'faults', {'path': PAYMENTS, 'drop': True})
        tx = self._start()
        self._run_terminal()
        self._recover(tx)
        self.assertEqual(tx.state, 'done')
        self._assert_one_payment(tx, sends=2)

    def _recover(self, tx):
        """Let the recovery's delay pass and run the runner again."""
        self.assertEqual(tx.clover_terminal_phase, 'recovering')
        tx.clover_terminal_hold_until = False
        self._run_terminal()

    def _assert_one_payment(self, tx, sends):
        sent = self._payment_requests()
        self.assertEqual(len(sent), sends)
        keys = {r['headers']['idempotency-key'] for r in sent}
        self.assertEqual(keys, {tx.clover_terminal_idempotency_key})
        self.assertEqual(len({json.dumps(r['json'], sort_keys=True) for r in sent}), 1)
        self.assertEqual(self._counters()['terminal_operations'], 1)
        payments = self._clover_payments()
        self.assertEqual([p['id'] for p in payments], [tx.provider_reference])

    # === Clerk cancel === #

    def test_the_clerk_cancels_a_waiting_payment(self):
        self._script('approve', hold=True)
        tx = self._start()

        def cancel():
            self._wait_until_busy()
            status = tx._clover_cancel_terminal_payment()
            self.assertEqual(status['state'], 'pending')  # Until Clover confirms.
        self._run_terminal(during=cancel)

        self.assertEqual(tx.state, 'cancel')
        self.assertEqual(self._calls('POST /connect/v1/device/cancel'), 1)
        self.assertEqual(self._clover_payments(), [])

    def test_cancel_before_sending_sends_nothing(self):
        tx = self._start()
        tx._clover_cancel_terminal_payment()
        self.assertEqual(tx.state, 'cancel')
        self._run_terminal()
        self.assertEqual(self._calls(f'POST {PAYMENTS}'), 0)

    def test_a_payment_made_before_the_cancel_stays_done(self):
        self._script('approve', hold=True)
        tx = self._start()

        def approve_then_cancel():
            self._release('approve')
            tx.clover_terminal_phase = 'canceling'  # The clerk's cancel arrives once the card was tapped.
        self._run_terminal(during=approve_then_cancel)
        self.assertEqual(tx.state, 'done')

    # === Credits === #

    def test_a_non_referenced_credit_goes_to_the_device(self):
        tx = self._start(amount=-25.0)
        self._run_terminal()
        self.assertEqual(tx.state, 'done')
        [sent] = self._payment_requests('/connect/v1/credits')
        self.assertEqual(sent['json'], {'amount': 2500})
        self.assertTrue(tx.provider_reference)
        self.assertIn("Credited", tx._clover_terminal_status()['message'])

    # === Logs === #

    def test_nothing_secret_reaches_the_logs(self):
        self._script('approve')
        with self.assertLogs('odoo.addons', level='DEBUG') as logs:
            tx = self._start()
            self._run_terminal()
        self.assertEqual(tx.state, 'done')
        text = "\n".join(logs.output)
        provider = self.provider.sudo()
        secrets = [provider.clover_oauth_access_token, provider.clover_oauth_refresh_token,
                   self.identities['app_secret'], self.identities['private_key']]
        for secret in secrets:
            self.assertNotIn(secret, text)
        self.assertNotIn('Bearer', text)

    # === Helpers === #

    def _release(self, outcome):
        self._emulator('POST', 'terminal/release', {'device': self.device['serial'], 'outcome': outcome})

    def _wait_until_busy(self):
        for _attempt in range(100):
            if self._device_state()['busy']:
                return
            threading.Event().wait(0.05)
        self.fail("the payment never reached the device")

    def _clover_payments(self):
        response = requests.get(
            f"{self.emulator_url}/v3/merchants/{self.identities['merchant_id']}/payments",
            headers={'Authorization': f"Bearer {self.identities['private_key']}"}, timeout=10,
        )
        response.raise_for_status()
        return response.json()['elements']

    def _clover_payment(self, payment_id):
        return next(p for p in self._clover_payments() if p['id'] == payment_id)

    def _clover_invoice(self):
        invoice = self.env['account.move'].create({
            'move_type': 'out_invoice', 'partner_id': self.partner.id, 'currency_id': self.currency.id,
            'invoice_line_ids': [
                (0, 0, {'name': "Walker", 'quantity': 1, 'price_unit': self.amount, 'tax_ids': []}),
            ],
        })
        invoice.action_post()
        return invoice
