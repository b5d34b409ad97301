import re
from datetime import timedelta

from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.fusion_clover.tests.test_refund_common import (
    PAYMENT_LOGGER,
    PROVIDER_LOGGER,
    REFUND_LOGGER,
    TX_LOGGER,
    CloverRefundCommon,
)
from odoo.addons.payment import utils as payment_utils

DAY = 24 * 3600


@tagged('post_install', '-at_install')
class TestCloverRefundWizard(CloverRefundCommon):
    """Referenced refunds of online charges through the wizard, checked against Clover."""

    def test_full_refund_checks_clover_then_refunds_and_books_a_payment(self):
        tx = self._paid_tx()
        wizard = self._wizard(tx)
        self.assertEqual((wizard.operation, wizard.amount, wizard.amount_left), ('refund', 123.45, 123.45))

        wizard.reason = 'duplicate'
        wizard.action_confirm()

        refund_tx = self._refunds(tx)
        self.assertEqual((refund_tx.state, refund_tx.amount), ('done', -123.45))
        self.assertEqual(refund_tx.clover_refund_kind, 'refund')
        self.assertEqual(refund_tx.clover_refund_reason, 'duplicate')
        [check] = self._clover_requests(f'/v1/charges/{tx.provider_reference}', method='GET')
        [sent] = self._clover_requests('/v1/refunds')
        self.assertLess(check['time'], sent['time'])  # Clover's view first, then the refund.
        self.assertEqual(sent['json'], {
            'charge': tx.provider_reference, 'amount': 12345, 'reason': 'duplicate',
            'metadata': {'odoo_reference': refund_tx.reference},
        })
        self.assertEqual(
            sent['headers']['idempotency-key'],
            payment_utils.generate_idempotency_key(refund_tx, scope='refund'),
        )
        self.assertEqual(self._clover_charge(tx.provider_reference)['amount_refunded'], 12345)
        # Its own payment, money going out.
        self.assertTrue(refund_tx.is_post_processed)
        self.assertEqual(
            (refund_tx.payment_id.payment_type, refund_tx.payment_id.amount), ('outbound', 123.45),
        )
        self.assertNotEqual(refund_tx.payment_id, tx.payment_id)

    @mute_logger(TX_LOGGER, PAYMENT_LOGGER)
    def test_several_partials_then_an_over_refund_is_refused_before_any_clover_call(self):
        tx = self._paid_tx()
        for amount in (20.0, 30.0, 73.44):
            self._wizard(tx, amount=amount).action_confirm()
        refunds = self._refunds(tx)
        self.assertEqual(refunds.mapped('state'), ['done'] * 3)
        self.assertEqual(self._clover_charge(tx.provider_reference)['amount_refunded'], 12344)
        wizard = self._wizard(tx)
        self.assertEqual((wizard.amount, wizard.amount_left), (0.01, 0.01))
        counters_before = self._counters()['calls']

        wizard.amount = 0.02
        with self.assertRaises(UserError) as caught:
            wizard.action_confirm()
        self.assertRegex(str(caught.exception), r"only \$\xa00\.01 of .* is left to refund")

        self.assertEqual(self._counters()['calls'], counters_before)  # Not even a GET.
        self.assertEqual(len(self._refunds(tx)), 3)

    @mute_logger(TX_LOGGER, PAYMENT_LOGGER)
    def test_a_refund_made_in_the_clover_dashboard_is_caught_by_the_pre_check(self):
        tx = self._paid_tx()
        self._dashboard_post('/v1/refunds', {'charge': tx.provider_reference, 'amount': 10000})
        wizard = self._wizard(tx)
        self.assertEqual(wizard.amount, 123.45)  # Odoo does not know yet.

        with self.assertRaises(UserError) as caught:
            wizard.action_confirm()

        message = str(caught.exception)
        self.assertIn(f"Clover shows payment {tx.provider_reference} captured for $\xa0123.45", message)
        self.assertIn("$\xa0100.00 is already refunded", message)
        self.assertIn("refund at most $\xa023.45", message)
        self.assertEqual(self._calls('POST /v1/refunds'), 1)  # The dashboard's only.
        self.assertFalse(self._refunds(tx))

        self._wizard(tx, amount=23.45).action_confirm()
        self.assertEqual(self._refunds(tx).state, 'done')
        self.assertEqual(self._clover_charge(tx.provider_reference)['amount_refunded'], 12345)

    @mute_logger(TX_LOGGER, PAYMENT_LOGGER)
    def test_a_payment_refunded_in_full_in_the_dashboard_is_refused_saying_so(self):
        tx = self._paid_tx()
        self._dashboard_post('/v1/refunds', {'charge': tx.provider_reference})
        with self.assertRaises(UserError) as caught:
            self._wizard(tx, amount=1.0).action_confirm()
        self.assertIn("already refunded in full", str(caught.exception))
        self.assertFalse(self._refunds(tx))
        self.assertEqual(self._calls('POST /v1/refunds'), 1)

    @mute_logger(TX_LOGGER, PAYMENT_LOGGER)
    def test_the_standard_refund_button_gets_the_same_checks(self):
        tx = self._paid_tx()
        self._dashboard_post('/v1/refunds', {'charge': tx.provider_reference, 'amount': 12300})
        refund_tx = tx._refund(amount_to_refund=1.0)
        self.assertEqual(refund_tx.state, 'error')
        self.assertIn("$\xa00.45 is left", refund_tx.state_message)
        self.assertEqual(self._calls('POST /v1/refunds'), 1)

    # === Unanswered refunds === #

    @mute_logger(TX_LOGGER, PROVIDER_LOGGER, REFUND_LOGGER)
    def test_an_unanswered_refund_stays_pending_then_is_replayed_once(self):
        tx = self._paid_tx()
        self._emulator('POST', 'faults', {'path': '/v1/refunds', 'status': 504, 'after': True})

        action = self._wizard(tx, amount=40.0).action_confirm()

        refund_tx = self._refunds(tx)
        self.assertEqual(refund_tx.state, 'pending')
        self.assertEqual(action['params']['type'], 'warning')
        self.assertFalse(refund_tx.payment_id)
        # Clover made it; Odoo does not guess: a second refund of all that is left is refused,
        # the pending one counts.
        with self.assertRaises(UserError) as caught:
            self._wizard(tx, amount=123.45).action_confirm()
        self.assertIn("is left to refund", str(caught.exception))

        refund_tx._post_process()  # What the cron does.

        self.assertEqual(refund_tx.state, 'done')
        self.assertEqual(self._calls('POST /v1/refunds'), 2)
        self.assertEqual(self._clover_charge(tx.provider_reference)['amount_refunded'], 4000)
        sent = self._clover_requests('/v1/refunds')
        self.assertEqual(
            {r['headers']['idempotency-key'] for r in sent},
            {payment_utils.generate_idempotency_key(refund_tx, scope='refund')},
        )
        self.assertEqual(len({r['body'] for r in sent}), 1)
        refund_tx._post_process()
        self.assertEqual(refund_tx.payment_id.amount, 40.0)

    # === Void vs refund === #

    def test_an_uncaptured_authorization_is_voided_not_refunded(self):
        self.provider.capture_manually = True
        tx = self._paid_tx()
        self.assertEqual(tx.state, 'authorized')
        wizard = self._wizard(tx)
        self.assertEqual(wizard.operation, 'void')
        self.assertIn("voids it whole", wizard.explanation)

        wizard.action_confirm()

        self.assertEqual(tx.state, 'cancel')
        self.assertEqual(tx.child_transaction_ids.state, 'cancel')
        charge = self._clover_charge(tx.provider_reference)
        self.assertFalse(charge['captured'])
        self.assertEqual(charge['amount_refunded'], 12345)

    # === 180 days === #

    @mute_logger(TX_LOGGER, PAYMENT_LOGGER)
    def test_after_180_days_a_refund_is_refused_and_a_credit_to_the_saved_card_made(self):
        tx = self._paid_tx(tokenize=True)
        self.assertTrue(tx.token_id)
        self.assertEqual(tx.clover_payment_age, 0)
        self.assertEqual(tx.clover_refund_deadline, (tx.create_date + timedelta(days=180)).date())
        self._emulator('POST', 'clock', {'advance': 181 * DAY})
        with freeze_time(fields.Datetime.now() + timedelta(days=181)):
            tx.invalidate_recordset()  # Each request computes the age afresh.
            self.assertEqual(tx.clover_payment_age, 181)
            # The standard button: refused with the reason, nothing sent.
            refund_tx = tx._refund(amount_to_refund=10.0)
            self.assertEqual(refund_tx.state, 'error')
            self.assertIn("within 180 days only", refund_tx.state_message)
            self.assertEqual(self._calls('POST /v1/refunds'), 0)

            wizard = self._wizard(tx, amount=50.0)
            self.assertEqual((wizard.operation, wizard.credit_method), ('credit', 'card'))
            self.assertIn("181 days old", wizard.explanation)
            self.assertEqual(wizard.token_id, tx.token_id)
            wizard.action_confirm()

        credit_tx = self.env['payment.transaction'].search([('clover_refund_kind', '=', 'credit')])
        self.assertEqual((credit_tx.state, credit_tx.amount, credit_tx.operation), ('done', -50.0, 'refund'))
        self.assertFalse(credit_tx.source_transaction_id)
        [sent] = self._clover_requests('/v1/credits')
        self.assertEqual(sent['json'], {
            'amount': 5000, 'currency': 'usd', 'source': tx.token_id.clover_source_token,
            'metadata': {'odoo_reference': credit_tx.reference},
        })
        credit = self._clover_get(f'/v1/credits/{credit_tx.provider_reference}')
        self.assertEqual(credit['amount'], 5000)
        self.assertEqual(self._calls('POST /v1/refunds'), 0)
        self.assertEqual((credit_tx.payment_id.payment_type, credit_tx.payment_id.amount), ('outbound', 50.0))

    # === Capture and void checked against Clover (issue 15 item 7) === #

    @mute_logger(TX_LOGGER, PAYMENT_LOGGER)
    def test_a_charge_captured_in_the_dashboard_is_never_voided_into_a_refund(self):
        self.provider.capture_manually = True
        tx = self._paid_tx()
        self._dashboard_post(f'/v1/charges/{tx.provider_reference}/capture', {})

        tx.action_void()

        void_tx = tx.child_transaction_ids
        self.assertEqual(void_tx.state, 'error')
        self.assertIn("captured", void_tx.state_message)
        self.assertIn("Nothing was sent to Clover", void_tx.state_message)
        self.assertEqual(self._calls('POST /v1/refunds'), 0)
        self.assertEqual(self._clover_charge(tx.provider_reference)['amount_refunded'], 0)
        self.assertEqual(tx.state, 'authorized')

        # Capturing records the dashboard's capture instead of capturing twice.
        tx.action_capture()
        capture_tx = tx.child_transaction_ids - void_tx
        self.assertEqual(capture_tx.state, 'done')
        self.assertEqual(tx.state, 'done')
        self.assertEqual(self._calls(f'POST /v1/charges/{tx.provider_reference}/capture'), 1)

    @mute_logger(TX_LOGGER, PAYMENT_LOGGER)
    def test_a_capture_racing_a_void_finds_the_charge_no_longer_authorized(self):
        self.provider.capture_manually = True
        tx = self._paid_tx()
        tx._void()  # The void won the row lock.
        self.assertEqual(tx.state, 'cancel')

        capture_tx = tx._capture()  # The capture read `authorized` before it waited.

        self.assertEqual(capture_tx.state, 'error')
        self.assertIn("no longer authorized", capture_tx.state_message)
        self.assertEqual(self._counters()['routes'].get('POST /v1/charges/<charge_id>/capture', 0), 0)

    @mute_logger(TX_LOGGER, PAYMENT_LOGGER)
    def test_a_void_racing_a_capture_sends_nothing(self):
        self.provider.capture_manually = True
        tx = self._paid_tx()
        tx._capture()
        self.assertEqual(tx.state, 'done')

        void_tx = tx._void()

        self.assertEqual(void_tx.state, 'error')
        self.assertEqual(self._calls('POST /v1/refunds'), 0)
        self.assertEqual(self._clover_charge(tx.provider_reference)['amount_refunded'], 0)

    @mute_logger(TX_LOGGER, PAYMENT_LOGGER)
    def test_an_authorization_voided_in_the_dashboard_is_not_captured(self):
        self.provider.capture_manually = True
        tx = self._paid_tx()
        self._dashboard_post('/v1/refunds', {'charge': tx.provider_reference})
        capture_tx = tx._capture()
        self.assertEqual(capture_tx.state, 'error')
        self.assertIn("voided", capture_tx.state_message)
        self.assertEqual(self._counters()['routes'].get('POST /v1/charges/<charge_id>/capture', 0), 0)

    # === Rights and logs === #

    def test_a_clerk_outside_the_clover_group_cannot_refund(self):
        tx = self._paid_tx()
        clerk = new_test_user(self.env, login='refund_clerk', groups='account.group_account_invoice')
        with self.assertRaises(AccessError):
            tx.with_user(clerk).action_clover_refund()
        with self.assertRaises(AccessError):
            self.env['clover.refund.wizard'].with_user(clerk).create({
                'transaction_id': tx.id, 'provider_id': self.provider.id, 'partner_id': self.partner.id,
                'currency_id': self.currency.id, 'amount': 1.0,
            })
        self.assertEqual(self._calls('POST /v1/refunds'), 0)
        clover_user = new_test_user(
            self.env, login='refund_cashier',
            groups='account.group_account_invoice,fusion_clover.group_fusion_clover_user',
        )
        self._wizard(tx.with_user(clover_user), amount=5.0).action_confirm()
        self.assertEqual(self._refunds(tx).state, 'done')

    def test_refund_and_credit_logs_carry_no_secret(self):
        tx = self._paid_tx(tokenize=True)
        secrets = [self.identities['private_key'], self.provider.sudo().clover_oauth_access_token,
                   self.provider.sudo().clover_oauth_refresh_token, '4242424242424242']
        with self.assertLogs('odoo.addons', level='DEBUG') as logs:
            self._wizard(tx, amount=10.0).action_confirm()
            with freeze_time(fields.Datetime.now() + timedelta(days=181)):
                self._wizard(tx, amount=5.0).action_confirm()
        output = '\n'.join(logs.output)
        self.assertIn("/v1/refunds", output)
        self.assertIn("/v1/credits", output)
        for secret in filter(None, secrets):
            self.assertNotIn(secret, output)
        self.assertFalse(re.search(r'clv_[A-Za-z0-9]+', output))

    # === Order and payment ids, bad input === #

    def test_refunds_carry_the_clover_order_and_payment_and_are_found_by_them(self):
        tx = self._paid_tx()
        self._wizard(tx, amount=10.0).action_confirm()
        refund_tx = self._refunds(tx)
        charge = self._clover_charge(tx.provider_reference)
        self.assertEqual((tx.clover_order_id, refund_tx.clover_order_id), (charge['order'], charge['order']))
        self.assertEqual((tx.clover_payment_id, refund_tx.clover_payment_id), (charge['id'], charge['id']))
        self.assertNotEqual(refund_tx.provider_reference, charge['id'])  # The refund's own id.
        Transaction = self.env['payment.transaction']
        by_order = Transaction.search([('clover_order_id', '=', charge['order'])])
        self.assertEqual(by_order, tx | refund_tx)
        search_view_domain = ['|', ('clover_payment_id', 'ilike', charge['id']),
                              ('provider_reference', 'ilike', charge['id'])]
        self.assertEqual(Transaction.search(search_view_domain), tx | refund_tx)
        by_refund_id = ['|', ('clover_payment_id', 'ilike', refund_tx.provider_reference),
                        ('provider_reference', 'ilike', refund_tx.provider_reference)]
        self.assertEqual(Transaction.search(by_refund_id), refund_tx)

    def test_a_zero_or_negative_amount_is_refused_with_nothing_sent(self):
        tx = self._paid_tx()
        for amount in (0.0, -5.0):
            with self.subTest(amount=amount), self.assertRaises(UserError) as caught:
                self._wizard(tx, amount=amount).action_confirm()
            self.assertIn("must be positive", str(caught.exception))
        self.assertEqual(self._calls('POST /v1/refunds'), 0)
        self.assertFalse(self._refunds(tx))

    def test_a_credit_without_a_saved_card_asks_for_one(self):
        tx = self._paid_tx()  # No card saved.
        with freeze_time(fields.Datetime.now() + timedelta(days=181)):
            tx.invalidate_recordset()
            wizard = self._wizard(tx, amount=5.0)
            self.assertEqual((wizard.operation, wizard.credit_method), ('credit', 'card'))
            self.assertFalse(wizard.token_id)
            with self.assertRaises(UserError) as caught:
                wizard.action_confirm()
        self.assertIn("Choose the saved card", str(caught.exception))
        self.assertEqual(self._calls('POST /v1/credits'), 0)
