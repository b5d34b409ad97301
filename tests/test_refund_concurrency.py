import threading

import requests

from odoo import SUPERUSER_ID, api
from odoo.service.model import retrying
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.fusion_clover.tests.common import APPROVED_VISA, CloverCommittedCommon
from odoo.addons.fusion_clover.tests.test_refund_common import PAYMENT_LOGGER, REFUND_LOGGER, TX_LOGGER


@tagged('post_install', '-at_install')
class TestCloverCaptureVoidRace(CloverCommittedCommon):
    """A capture and a void of one authorization clicked at once, each in its own committed
    transaction as two workers would run them (issue 15 item 7): one wins, the other is refused,
    and Clover never ends with a charge captured then refunded in the name of a void."""

    provider_name = "Clover (race test)"

    @classmethod
    def _provider_values(cls):
        return {
            **super()._provider_values(),
            'capture_manually': True, 'clover_pakms_key': cls.identities['pakms_key'],
        }

    @classmethod
    def _remove_committed_records(cls, env):
        txs = env['payment.transaction'].search([('provider_id', '=', cls.provider_id)])
        (txs.child_transaction_ids | txs).unlink()

    def setUp(self):
        super().setUp()
        self._emulator('POST', 'reset')
        self._commit_fresh_tokens()

    def _authorized_tx_id(self, reference):
        token = requests.post(
            f'{self.emulator_url}/v1/tokens', timeout=10, headers={'apikey': self.identities['pakms_key']},
            json={'card': {'number': APPROVED_VISA, 'exp_month': '12', 'exp_year': '2031', 'cvv': '123'}},
        ).json()['id']
        with self._cursor_env() as env:
            tx = env['payment.transaction'].create({
                'provider_id': self.provider_id, 'partner_id': self.partner_id, 'reference': reference,
                'amount': 42.0, 'currency_id': env.ref('base.USD').id, 'operation': 'online_direct',
                'payment_method_id': env.ref('payment.payment_method_card').id,
            })
            tx._clover_pay_with_card_token(token)
            self.assertEqual(tx.state, 'authorized')
            return tx.id

    def _race(self, tx_id):
        """Capture and void `tx_id` at once from two workers; return the source's final state."""
        barrier = threading.Barrier(2)
        errors = []

        def worker(operation):
            attempts = []

            def request():
                tx = env['payment.transaction'].browse(tx_id)
                tx.state  # Both read `authorized` before either locks.  # noqa: B018
                if not attempts:
                    barrier.wait(timeout=10)
                attempts.append(operation)
                getattr(tx, operation)()

            try:
                with self.registry.cursor() as cr:
                    env = api.Environment(cr, SUPERUSER_ID, {})
                    # As Odoo serves a request: retried on a serialization failure.
                    retrying(request, env)
            except Exception as error:  # noqa: BLE001 - collected and asserted below.
                errors.append(repr(error))

        threads = [threading.Thread(target=worker, args=(op,)) for op in ('_capture', '_void')]
        self._run_threads(threads)
        self.assertEqual(errors, [])
        with self._cursor_env() as env:
            tx = env['payment.transaction'].browse(tx_id)
            return tx.state, sorted(tx.child_transaction_ids.mapped('state')), tx.provider_reference

    @mute_logger(TX_LOGGER, REFUND_LOGGER, PAYMENT_LOGGER, 'odoo.sql_db', 'odoo.service.model')
    def test_capture_racing_void_one_wins_and_clover_agrees(self):
        for attempt in range(3):
            with self.subTest(attempt=attempt):
                state, children, charge_id = self._race(self._authorized_tx_id(f'RACE-{attempt}'))
                charge = requests.get(
                    f'{self.emulator_url}/v1/charges/{charge_id}', timeout=10,
                    headers={'Authorization': f"Bearer {self.identities['private_key']}"},
                ).json()
                self.assertIn(state, ('done', 'cancel'))
                self.assertEqual(children, ['cancel', 'error'] if state == 'cancel' else ['done', 'error'])
                if state == 'done':
                    self.assertEqual((charge['captured'], charge['amount_refunded']), (True, 0))
                else:
                    self.assertEqual((charge['captured'], charge['amount_refunded']), (False, 4200))
