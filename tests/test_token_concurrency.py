import threading
import time
from functools import partial

import requests

from odoo import SUPERUSER_ID, api
from odoo.fields import Command
from odoo.service.model import retrying
from odoo.tests import tagged

from odoo.addons.fusion_clover.models.payment_provider import CloverAPIError
from odoo.addons.fusion_clover.tests.common import APPROVED_VISA, CloverCommittedCommon


@tagged('post_install', '-at_install')
class TestCloverTokenConcurrency(CloverCommittedCommon):
    """Refreshes across real transactions: each worker and each business transaction has its own
    cursor, as in production, so nothing here runs inside a test transaction. The provider and the
    settings it needs are committed for the class and removed afterwards."""

    provider_name = "Clover (concurrency test)"

    def setUp(self):
        super().setUp()
        self._emulator('POST', 'reset')
        self._commit_fresh_tokens()
        self._expire_stored_token()

    def _expire_stored_token(self):
        """Make Odoo believe the token expired (Clover still accepts it), from another transaction."""
        with self._cursor_env() as env:
            env.cr.execute(
                "UPDATE payment_provider SET clover_oauth_token_expiry = now() at time zone 'utc'"
                " - interval '1 hour' WHERE id = %s", [self.provider_id],
            )

    def _call_clover(self, env):
        provider = env['payment.provider'].browse(self.provider_id)
        merchant_path = f"/v3/merchants/{self.identities['merchant_id']}"
        return provider._clover_api_request('platform', 'GET', merchant_path)

    def test_concurrent_callers_cause_exactly_one_refresh(self):
        workers, results, errors = 8, [], []
        barrier = threading.Barrier(workers)

        def worker():
            try:
                with self._cursor_env() as env:
                    barrier.wait(timeout=10)
                    results.append(self._call_clover(env)['id'])
            except Exception as error:  # noqa: BLE001 - collected and asserted below.
                errors.append(repr(error))

        threads = [threading.Thread(target=worker) for _ in range(workers)]
        self._run_threads(threads)
        self.assertEqual(errors, [])
        self.assertEqual(results, [self.identities['merchant_id']] * workers)
        self.assertEqual(self._counters()['refreshes'], 1)

    def test_refresh_survives_a_rollback_of_the_business_transaction(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            self._call_clover(env)  # Refreshes: Clover has now burnt the previous refresh token.
            cr.rollback()  # The business transaction fails afterwards.
        self.assertEqual(self._counters()['refreshes'], 1)

        self._expire_stored_token()
        with self._cursor_env() as env:
            self._call_clover(env)  # Needs the rotated refresh token, which must have survived.
        self.assertEqual(self._counters()['refreshes'], 2)
        with self._cursor_env() as env:
            self.assertTrue(env['payment.provider'].browse(self.provider_id).clover_oauth_refresh_token)

    # === A transaction that changed the provider: never a wait on itself === #

    def _provider_changed_in(self, env):
        provider = env['payment.provider'].browse(self.provider_id)
        provider.clover_remote_app_id = 'RAID-CHANGED'  # The business transaction's own change.
        env.flush_all()
        return provider

    def test_a_connect_after_this_transaction_changed_the_provider_commits_with_it(self):
        code = self._emulator('POST', 'oauth/codes', {'merchant_id': self.identities['merchant_id']})['code']
        started = time.monotonic()
        with self._cursor_env() as env:
            provider = self._provider_changed_in(env)
            provider._clover_complete_connection(self.identities['merchant_id'], code)
        self.assertLess(time.monotonic() - started, 5)  # No wait for a lock it holds itself.
        with self._cursor_env() as env:
            provider = env['payment.provider'].browse(self.provider_id)
            self.assertEqual(provider.clover_remote_app_id, 'RAID-CHANGED')
            self.assertEqual(provider.clover_pakms_key, self.identities['pakms_key'])
            self.assertEqual(provider.clover_merchant_name, self.identities['merchant_name'])
        self.assertEqual(self._counters()['token_exchanges'], 1)

    def test_a_refresh_due_after_this_transaction_changed_the_provider_is_refused_at_once(self):
        started = time.monotonic()
        with self._cursor_env() as env, self.assertRaisesRegex(CloverAPIError, 'Save the provider'):
            self._provider_changed_in(env)
            self._call_clover(env)
        self.assertLess(time.monotonic() - started, 5)
        self.assertEqual(self._counters()['refreshes'], 0)
        self.assertEqual(self._calls(f"GET /v3/merchants/{self.identities['merchant_id']}"), 0)

        with self._cursor_env() as env:  # Once saved, the next call refreshes as usual.
            self._call_clover(env)
        self.assertEqual(self._counters()['refreshes'], 1)

    # === Two submissions of one payment at once === #

    def _committed_transaction(self, **values):
        with self._cursor_env() as env:
            tx = env['payment.transaction'].create({
                'provider_id': self.provider_id,
                'payment_method_id': env.ref('payment.payment_method_card').id,
                'amount': 42.0, 'currency_id': env.ref('base.USD').id,
                'partner_id': env.ref('base.partner_admin').id, 'operation': 'online_direct',
                'reference': f'CONCURRENT-{time.time_ns()}',
                **values,
            })
            return tx.id

    def _card_token(self):
        return requests.post(
            f'{self.emulator_url}/v1/tokens', headers={'apikey': self.identities['pakms_key']},
            json={'card': {'number': APPROVED_VISA, 'exp_month': '12', 'exp_year': '2031', 'cvv': '123'}},
            timeout=10,
        ).json()['id']

    def test_a_duplicate_submission_waits_charges_nothing_and_logs_no_error(self):
        tx_id = self._committed_transaction()
        self.addCleanup(self._delete_transaction, tx_id)
        # The first submission holds the transaction while Clover answers; the second waits.
        self._emulator('POST', 'faults', {'path': '/v1/charges', 'delay': 0.5, 'after': True, 'count': 1})
        states, errors = self._pay_at_once([(tx_id, self._card_token()), (tx_id, self._card_token())])
        self.assertEqual(errors, [])
        self.assertEqual(states, ['done', 'done'])
        self.assertEqual(self._counters()['charges_created'], 1)

    def test_a_duplicate_submission_to_the_payment_route_waits_too(self):
        tx_id = self._committed_transaction()
        self.addCleanup(self._delete_transaction, tx_id)
        self._emulator('POST', 'faults', {'path': '/v1/charges', 'delay': 0.5, 'after': True, 'count': 1})
        payments = [(tx_id, self._card_token()), (tx_id, self._card_token())]
        states, errors = self._pay_at_once(payments, as_the_route=True)
        self.assertEqual(errors, [])
        self.assertEqual(states, ['done', 'done'])
        self.assertEqual(self._counters()['charges_created'], 1)

    @staticmethod
    def _pay_as_the_route(tx, card_token):
        """Pay as the payment route does: look the transaction up by reference, locked."""
        locked_tx = tx.browse()._clover_lock_by_reference(tx.reference)
        locked_tx._clover_pay_with_card_token(card_token, locked=True)

    def _pay_at_once(self, payments, as_the_route=False):
        """Pay each (transaction id, card token) in a thread of its own, all at the same moment,
        each in its own transaction; return the states the transactions ended in and the errors."""
        states, errors = [], []
        barrier = threading.Barrier(len(payments))

        def submission(tx_id, card_token):
            try:
                with self._cursor_env() as env:
                    tx = env['payment.transaction'].browse(tx_id)
                    pay = tx._clover_pay_with_card_token
                    if as_the_route:
                        pay = partial(self._pay_as_the_route, tx)
                    barrier.wait(timeout=10)
                    # What Odoo's HTTP layer does around a route: run again on a serialization failure.
                    retrying(partial(pay, card_token), env)
                    states.append(tx.state)
            except Exception as error:  # noqa: BLE001 - collected and asserted by the caller.
                errors.append(repr(error))

        threads = [threading.Thread(target=submission, args=payment) for payment in payments]
        with self.assertNoLogs('odoo.sql_db', level='ERROR'):
            self._run_threads(threads)
        return states, errors

    def _delete_transaction(self, tx_id):
        with self._cursor_env() as env:
            env.cr.execute("DELETE FROM payment_transaction WHERE id = %s", [tx_id])

    def _committed_invoice(self, amount):
        with self._cursor_env() as env:
            invoice = env['account.move'].create({
                'move_type': 'out_invoice', 'partner_id': env.ref('base.partner_admin').id,
                'invoice_line_ids': [Command.create({
                    'name': "Concurrency test", 'quantity': 1, 'price_unit': amount, 'tax_ids': [],
                })],
            })
            invoice.action_post()
            return invoice.id, invoice.currency_id.id

    def _delete_invoice(self, invoice_id):
        with self._cursor_env() as env:
            invoice = env['account.move'].browse(invoice_id)
            invoice.button_draft()
            invoice.with_context(force_delete=True).unlink()

    def test_two_tabs_paying_one_invoice_at_once_charge_it_once(self):
        invoice_id, currency_id = self._committed_invoice(33.0)
        self.addCleanup(self._delete_invoice, invoice_id)
        tab = {'amount': 33.0, 'currency_id': currency_id, 'invoice_ids': [Command.set([invoice_id])]}
        tx_ids = [self._committed_transaction(**tab) for _tab in range(2)]
        for tx_id in tx_ids:
            self.addCleanup(self._delete_transaction, tx_id)
        # The first tab holds the invoice while Clover answers; the second waits for it.
        self._emulator('POST', 'faults', {'path': '/v1/charges', 'delay': 0.5, 'after': True, 'count': 1})
        states, errors = self._pay_at_once([(tx_id, self._card_token()) for tx_id in tx_ids])
        self.assertEqual(errors, [])
        self.assertEqual(sorted(states), ['done', 'error'])
        self.assertEqual(self._counters()['charges_created'], 1)
        with self._cursor_env() as env:
            refused = env['payment.transaction'].browse(tx_ids).filtered(lambda tx: tx.state == 'error')
            self.assertIn("already being paid", refused.state_message)
