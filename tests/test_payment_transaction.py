import json
import re
from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.fusion_clover import const
from odoo.addons.fusion_clover.models.payment_provider import CloverAPIError
from odoo.addons.fusion_clover.tests.common import (
    DECLINED_MASTERCARD,
    DECLINED_VISA,
    CloverPaymentCommon,
)
from odoo.addons.payment import utils as payment_utils

TX_LOGGER = 'odoo.addons.fusion_clover.models.payment_transaction'
PROVIDER_LOGGER = 'odoo.addons.fusion_clover.models.payment_provider'
PAYMENT_LOGGER = 'odoo.addons.payment.models.payment_transaction'


@tagged('post_install', '-at_install')
class TestCloverCardPayments(CloverPaymentCommon):
    """Charges, saved cards, captures, voids and refunds against the emulated Clover."""

    def _pay(self, number=None, **values):
        tx = self._create_transaction('direct', **values)
        tx._clover_pay_with_card_token(self._card_token(number) if number else self._card_token())
        return tx

    def _paid_tx(self, **values):
        tx = self._pay(**values)
        self.assertEqual(tx.state, 'done')
        return tx

    # === Charges === #

    def test_card_payment_charges_once_and_records_the_charge(self):
        tx = self._pay()

        self.assertEqual(tx.state, 'done')
        [sent] = self._clover_requests('/v1/charges')
        charge = self._clover_charge(tx.provider_reference)
        self.assertEqual(charge['status'], 'succeeded')
        self.assertTrue(charge['captured'])
        self.assertEqual(tx.clover_order_id, charge['order'])
        self.assertEqual((tx.clover_card_brand, tx.clover_card_last4), ('VISA', '4242'))
        self.assertEqual(tx.payment_method_id, self.env.ref('payment.payment_method_visa'))
        body = sent['json']
        self.assertEqual(body['amount'], 12345)
        self.assertIsInstance(body['amount'], int)
        self.assertEqual(body['currency'], 'usd')
        self.assertIs(body['capture'], True)
        self.assertEqual(body['ecomind'], 'ecom')
        self.assertEqual(body['metadata'], {'odoo_reference': tx.reference})
        self.assertRegex(body['external_reference_id'], r'^[A-Za-z0-9]{1,12}$')
        self.assertEqual(
            sent['headers']['idempotency-key'], payment_utils.generate_idempotency_key(tx, scope='charge'),
        )
        self.assertTrue(sent['headers']['x-forwarded-for'])
        self.assertEqual(self._counters()['charges_created'], 1)

    def test_external_reference_id_is_clover_valid_and_keeps_references_apart(self):
        tx = self._create_transaction('direct', reference='INV/2026/00042')
        self.assertEqual(tx._clover_external_reference_id(), 'INV202600042')
        long_refs = ['R-INV/2026/00042', 'R-INV/2026/00042-1', 'P-INV/2026/00042', '€/**/-']
        ids = []
        for reference in long_refs:
            tx = self._create_transaction('direct', reference=reference)
            ids.append(tx._clover_external_reference_id())
            self.assertEqual(ids[-1], tx._clover_external_reference_id())  # Stable.
            self.assertRegex(ids[-1], r'^[A-Za-z0-9]{12}$')
        self.assertTrue(ids[0].startswith('RINV20'))
        self.assertEqual(len(set(ids)), len(ids))

    @mute_logger(TX_LOGGER, PROVIDER_LOGGER)
    def test_declines_of_both_test_cards_fail_the_transaction_with_clovers_message(self):
        for index, number in enumerate((DECLINED_VISA, DECLINED_MASTERCARD)):
            with self.subTest(card=number):
                tx = self._pay(number, reference=f'decline-{index}')
                self.assertEqual(tx.state, 'error')
                self.assertIn("The card was declined.", tx.state_message)
                self.assertFalse(tx.clover_pending_request)
        self.assertEqual(self._counters()['charges_created'], 2)
        self.assertEqual(self._calls('POST /v1/charges'), 2)

    @mute_logger(TX_LOGGER, PROVIDER_LOGGER)
    def test_a_spent_card_token_cannot_pay_again(self):
        card_token = self._card_token()
        first = self._create_transaction('direct', reference='first')
        first._clover_pay_with_card_token(card_token)
        second = self._create_transaction('direct', reference='second')
        second._clover_pay_with_card_token(card_token)

        self.assertEqual(first.state, 'done')
        self.assertEqual(second.state, 'error')
        self.assertIn("already been used", second.state_message)
        self.assertEqual(self._counters()['charges_created'], 1)

    @mute_logger(TX_LOGGER)
    def test_a_transaction_is_charged_once_even_if_asked_twice(self):
        tx = self._paid_tx()
        tx._clover_pay_with_card_token(self._card_token())
        self.assertEqual(tx.state, 'done')
        self.assertEqual(self._calls('POST /v1/charges'), 1)

    @mute_logger(PROVIDER_LOGGER)
    def test_token_step_refuses_bad_cards_with_the_fields_message(self):
        cases = [
            ({'number': '4242424242424241'}, 'invalid_number', "card number is not a valid"),
            ({'exp_month': '13'}, 'invalid_expiry_month', "expiration month is invalid"),
            ({'exp_year': '20311'}, 'invalid_expiry_year', "expiration year is invalid"),
            ({'cvv': '12'}, 'invalid_cvc', "security code is invalid"),
        ]
        for bad_field, code, message in cases:
            card = {'number': '4242424242424242', 'exp_month': '12', 'exp_year': '2031', 'cvv': '123'}
            card.update(bad_field)
            with self.subTest(code=code), self.assertRaises(CloverAPIError) as caught:
                self.provider._clover_api_request('token', 'POST', '/v1/tokens', payload={'card': card})
            self.assertEqual(caught.exception.code, code)
            self.assertIn(message, str(caught.exception))
        self.assertEqual(self._calls('POST /v1/charges'), 0)

    # === Unknown outcomes: never paid, never failed, one charge === #

    def _assert_pending_without_answer(self, tx):
        self.assertEqual(tx.state, 'pending')
        self.assertTrue(tx.sudo().clover_pending_request)
        self.assertFalse(tx.is_post_processed)

    def _assert_one_charge_for(self, tx):
        key = payment_utils.generate_idempotency_key(tx, scope='charge')
        sent = self._clover_requests('/v1/charges')
        self.assertEqual({request['headers']['idempotency-key'] for request in sent}, {key})
        self.assertEqual(len({request['body'] for request in sent}), 1)  # Sent again verbatim.
        counters = self._counters()
        self.assertEqual(counters['charges_created'], 1)
        self.assertEqual(counters['charges_by_idempotency_key'], {key: 1})

    @mute_logger(TX_LOGGER, PROVIDER_LOGGER)
    def test_lost_answer_keeps_the_tx_pending_and_the_retry_learns_the_one_charge(self):
        self._emulator('POST', 'faults', {'path': '/v1/charges', 'status': 502, 'after': True})
        tx = self._pay()
        self._assert_pending_without_answer(tx)
        self.assertEqual(self._counters()['charges_created'], 1)  # Clover did charge.

        tx._post_process()  # What the status page and the post-processing cron do.

        self.assertEqual(tx.state, 'done')
        self.assertFalse(tx.sudo().clover_pending_request)
        self.assertEqual(self._calls('POST /v1/charges'), 2)
        self.assertEqual(self._counters()['idempotent_replays'], 1)
        self._assert_one_charge_for(tx)

    @mute_logger(TX_LOGGER, PROVIDER_LOGGER)
    def test_timeout_keeps_the_tx_pending_and_the_retry_learns_the_one_charge(self):
        self._emulator('POST', 'faults', {'path': '/v1/charges', 'delay': 1.5, 'after': True})
        with patch.dict(const.SURFACE_TIMEOUTS, ecommerce=0.5):
            tx = self._pay()
        self._assert_pending_without_answer(tx)
        self.assertIn("did not answer", tx.state_message)

        tx._post_process()

        self.assertEqual(tx.state, 'done')
        self._assert_one_charge_for(tx)

    @mute_logger(TX_LOGGER, PROVIDER_LOGGER)
    def test_server_error_before_charging_then_retry_charges_once(self):
        self._emulator('POST', 'faults', {'path': '/v1/charges', 'status': 503})
        tx = self._pay()
        self._assert_pending_without_answer(tx)
        self.assertEqual(self._counters()['charges_created'], 0)

        tx._post_process()

        self.assertEqual(tx.state, 'done')
        self._assert_one_charge_for(tx)

    @mute_logger(TX_LOGGER, PROVIDER_LOGGER)
    def test_no_answer_again_stays_pending_and_queued_for_the_cron(self):
        self._emulator('POST', 'faults', {'path': '/v1/charges', 'drop': True, 'after': True, 'count': 2})
        tx = self._pay()
        tx._post_process()
        self._assert_pending_without_answer(tx)
        self._assert_one_charge_for(tx)
        tx._post_process()
        self.assertEqual(tx.state, 'done')
        self._assert_one_charge_for(tx)

    @mute_logger(TX_LOGGER, PROVIDER_LOGGER)
    def test_no_automatic_retry_once_the_retry_window_closed(self):
        self._emulator('POST', 'faults', {'path': '/v1/charges', 'status': 500, 'after': True})
        tx = self._pay()
        request = json.loads(tx.sudo().clover_pending_request)
        request['sent_at'] = fields.Datetime.to_string(fields.Datetime.now() - timedelta(hours=2))
        tx.sudo().clover_pending_request = json.dumps(request)

        tx._post_process()

        self.assertEqual(tx.state, 'pending')
        self.assertEqual(self._calls('POST /v1/charges'), 1)
        self.assertFalse(tx._clover_can_resend())  # A person checks the Clover dashboard...
        self.assertIn(tx.reference, tx.state_message)
        self.assertFalse(tx.sudo().clover_pending_request)  # ...and the card token is gone.

    @mute_logger(TX_LOGGER, PROVIDER_LOGGER)
    def test_a_charge_fetched_back_from_clover_settles_its_transaction(self):
        self._emulator('POST', 'faults', {'path': '/v1/charges', 'drop': True, 'after': True})
        tx = self._pay()
        self.assertEqual(tx.state, 'pending')

        [charge] = self._clover_get('/v1/charges')['data']  # What a reconciliation finds.
        processed = self.env['payment.transaction']._process('clover', {'charge': charge})

        self.assertEqual(processed, tx)
        self.assertEqual((tx.state, tx.provider_reference), ('done', charge['id']))

    @mute_logger(TX_LOGGER, PROVIDER_LOGGER, PAYMENT_LOGGER)
    def test_amount_mismatch_fails_the_tx_and_keeps_clovers_charge_id(self):
        card_token = self._card_token()
        answer = {
            'id': 'FVSNCHARGE001', 'object': 'charge', 'amount': 12346, 'amount_captured': 12346,
            'currency': 'usd', 'captured': True, 'paid': True, 'status': 'succeeded',
            'order': 'FVSNORDER0001', 'source': {'brand': 'VISA', 'last4': '4242'},
        }
        self._emulator('POST', 'faults', {'path': '/v1/charges', 'status': 200, 'body': answer})
        tx = self._create_transaction('direct')
        tx._clover_pay_with_card_token(card_token)

        self.assertEqual(tx.state, 'error')
        self.assertIn("amount", tx.state_message)
        self.assertEqual(tx.provider_reference, 'FVSNCHARGE001')

    # === Saved cards === #

    def test_saving_the_card_creates_a_clover_customer_and_a_token(self):
        tx = self._paid_tx(tokenize=True)

        token = tx.token_id
        customer_id = token.clover_source_token
        customer = self._clover_get(f'/v1/customers/{customer_id}')
        self.assertEqual(customer['sources']['data'][0]['last4'], '4242')
        [customer_request] = self._clover_requests('/v1/customers')
        self.assertTrue(customer_request['json']['source'].startswith('clv_'))
        self.assertEqual(customer_request['json']['email'], self.partner.email)
        [charge_request] = self._clover_requests('/v1/charges')
        self.assertEqual(charge_request['json']['source'], customer_id)
        self.assertEqual(self._clover_charge(tx.provider_reference)['customer'], customer_id)
        self.assertEqual(token.provider_ref, customer_id)
        self.assertEqual(token.payment_details, '4242')
        self.assertEqual(token.payment_method_id, self.env.ref('payment.payment_method_visa'))
        self.assertEqual(token.partner_id, self.partner)
        self.assertFalse(tx.tokenize)

    def test_server_side_token_payments_charge_the_saved_card(self):
        token = self._paid_tx(tokenize=True, reference='save-it').token_id
        for operation in ('offline', 'online_token'):
            with self.subTest(operation=operation):
                tx = self._create_transaction(
                    'token', token_id=token.id, operation=operation, reference=f'again-{operation}',
                    amount=10.0,
                )
                tx._charge_with_token()
                self.assertEqual(tx.state, 'done')
                sent = self._clover_requests('/v1/charges')[-1]
                self.assertEqual(sent['json']['source'], token.clover_source_token)
                self.assertEqual(sent['json']['amount'], 1000)
                self.assertEqual(self._clover_charge(tx.provider_reference)['amount_captured'], 1000)
        self.assertEqual(self._counters()['charges_created'], 3)

    @mute_logger(TX_LOGGER, PROVIDER_LOGGER)
    def test_a_card_already_on_file_is_charged_without_saving_it_twice(self):
        self._paid_tx(tokenize=True, reference='first-save')
        tx = self._paid_tx(tokenize=True, reference='second-save')
        self.assertFalse(tx.token_id)
        self.assertEqual(self._clover_requests('/v1/charges')[-1]['json']['source'][:4], 'clv_')
        self.assertEqual(self.env['payment.token'].search_count([('provider_id', '=', self.provider.id)]), 1)

    def test_saving_a_card_without_paying_charges_nothing(self):
        tx = self._create_transaction('direct', operation='validation', amount=0.0, tokenize=True)
        tx._clover_pay_with_card_token(self._card_token())
        self.assertEqual(tx.state, 'done')
        self.assertEqual(tx.token_id.payment_details, '4242')
        self.assertEqual(self._calls('POST /v1/charges'), 0)

    # === Capture and void === #

    def test_manual_capture_authorizes_then_captures(self):
        self.provider.capture_manually = True
        tx = self._pay()
        self.assertEqual(tx.state, 'authorized')
        self.assertIs(self._clover_requests('/v1/charges')[0]['json']['capture'], False)
        self.assertFalse(self._clover_charge(tx.provider_reference)['captured'])

        tx.action_capture()

        capture_tx = tx.child_transaction_ids
        self.assertEqual(capture_tx.state, 'done')
        self.assertEqual(capture_tx.amount, tx.amount)
        self.assertEqual(tx.state, 'done')
        charge = self._clover_charge(tx.provider_reference)
        self.assertTrue(charge['captured'])
        self.assertEqual(charge['amount_captured'], 12345)
        [capture] = self._clover_requests(f'/v1/charges/{tx.provider_reference}/capture')
        self.assertTrue(capture['headers']['x-forwarded-for'])

    def test_void_of_an_uncaptured_charge_refunds_it_without_an_amount(self):
        self.provider.capture_manually = True
        tx = self._pay()

        tx.action_clover_void()

        void_tx = tx.child_transaction_ids
        self.assertEqual(void_tx.state, 'cancel')
        self.assertEqual(tx.state, 'cancel')
        [void] = self._clover_requests('/v1/refunds')
        self.assertEqual(void['json'], {'charge': tx.provider_reference})
        charge = self._clover_charge(tx.provider_reference)
        self.assertEqual(charge['amount_refunded'], 12345)
        self.assertFalse(charge['captured'])

    # === Refunds === #

    def _refunds(self, tx):
        return tx.child_transaction_ids.filtered(lambda child: child.operation == 'refund').sorted('id')

    def test_full_refund(self):
        tx = self._paid_tx()
        tx.action_refund()
        refund_tx = self._refunds(tx)
        self.assertEqual((refund_tx.state, refund_tx.amount), ('done', -123.45))
        [sent] = self._clover_requests('/v1/refunds')
        self.assertEqual(sent['json'], {
            'charge': tx.provider_reference, 'amount': 12345,
            'metadata': {'odoo_reference': refund_tx.reference},
        })
        refund = self._clover_get(f'/v1/refunds/{refund_tx.provider_reference}')
        self.assertEqual((refund['charge'], refund['amount']), (tx.provider_reference, 12345))
        self.assertEqual(self._clover_charge(tx.provider_reference)['amount_refunded'], 12345)

    @mute_logger(TX_LOGGER, PAYMENT_LOGGER)
    def test_several_partial_refunds_up_to_the_captured_amount(self):
        tx = self._paid_tx()
        for amount in (20.0, 30.0, 73.45):
            tx.action_refund(amount_to_refund=amount)
        refunds = self._refunds(tx)
        self.assertEqual(refunds.mapped('state'), ['done'] * 3)
        self.assertEqual(refunds.mapped('amount'), [-20.0, -30.0, -73.45])
        self.assertEqual(len(set(refunds.mapped('provider_reference'))), 3)
        self.assertEqual(self._clover_charge(tx.provider_reference)['amount_refunded'], 12345)

        calls_before = self._calls('POST /v1/refunds')
        tx._refund(amount_to_refund=0.01)
        self.assertEqual(self._refunds(tx)[-1].state, 'error')
        self.assertEqual(self._calls('POST /v1/refunds'), calls_before)

    @mute_logger(TX_LOGGER, PAYMENT_LOGGER)
    def test_over_refund_is_refused_before_calling_clover(self):
        tx = self._paid_tx()
        tx.action_refund(amount_to_refund=100.0)
        refund_tx = tx._refund(amount_to_refund=23.46)  # 1 cent more than what is left.
        self.assertEqual(refund_tx.state, 'error')
        self.assertIn("23.45", refund_tx.state_message)
        self.assertEqual(self._calls('POST /v1/refunds'), 1)
        self.assertEqual(self._clover_charge(tx.provider_reference)['amount_refunded'], 10000)

    @mute_logger(TX_LOGGER, PROVIDER_LOGGER)
    def test_strict_sandbox_full_refund_falls_back_to_the_bare_charge_body(self):
        tx = self._paid_tx()
        tx.action_refund(amount_to_refund=23.45)
        self._emulator('POST', 'config', {'strict_refund_body': True})

        tx.action_refund(amount_to_refund=100.0)  # All that remains.

        refund_tx = self._refunds(tx)[-1]
        self.assertEqual((refund_tx.state, refund_tx.amount), ('done', -100.0))
        refused, sent = self._clover_requests('/v1/refunds')[1:]
        self.assertEqual(refused['status'], 400)
        self.assertEqual(refused['json']['amount'], 10000)
        self.assertEqual((sent['status'], sent['json']), (200, {'charge': tx.provider_reference}))
        self.assertEqual(self._clover_charge(tx.provider_reference)['amount_refunded'], 12345)

    @mute_logger(TX_LOGGER, PROVIDER_LOGGER, PAYMENT_LOGGER)
    def test_strict_sandbox_partial_refund_is_refused_never_made_full(self):
        self._emulator('POST', 'config', {'strict_refund_body': True})
        tx = self._paid_tx()

        refund_tx = tx._refund(amount_to_refund=20.0)

        self.assertEqual(refund_tx.state, 'error')
        self.assertIn("Clover dashboard", refund_tx.state_message)
        [refused] = self._clover_requests('/v1/refunds')
        self.assertEqual((refused['status'], refused['json']['amount']), (400, 2000))
        self.assertEqual(self._clover_charge(tx.provider_reference)['amount_refunded'], 0)

    @mute_logger(TX_LOGGER, PROVIDER_LOGGER)
    def test_refund_without_answer_stays_pending_and_is_made_once(self):
        tx = self._paid_tx()
        self._emulator('POST', 'faults', {'path': '/v1/refunds', 'status': 504, 'after': True})
        refund_tx = tx._refund(amount_to_refund=20.0)
        self.assertEqual(refund_tx.state, 'pending')

        refund_tx._post_process()

        self.assertEqual(refund_tx.state, 'done')
        self.assertEqual(self._calls('POST /v1/refunds'), 2)
        self.assertEqual(self._clover_charge(tx.provider_reference)['amount_refunded'], 2000)
        self.assertEqual(
            {r['headers']['idempotency-key'] for r in self._clover_requests('/v1/refunds')},
            {payment_utils.generate_idempotency_key(refund_tx, scope='refund')},
        )

    def test_charge_logs_never_carry_the_card_token(self):
        card_token = self._card_token()
        tx = self._create_transaction('direct')
        with self.assertLogs('odoo.addons', level='DEBUG') as logs:
            tx._clover_pay_with_card_token(card_token)
        output = '\n'.join(logs.output)
        self.assertIn("Received HTTP 200 from Clover", output)
        self.assertNotIn(card_token, output)
        self.assertFalse(re.search(r'clv_[A-Za-z0-9]+', output))

    # === Bad input and failures before anything is charged === #

    @mute_logger(TX_LOGGER, PAYMENT_LOGGER)
    def test_a_negative_or_zero_amount_fails_the_tx_clearly_and_charges_nothing(self):
        for amount in (-5.0, 0.0):
            with self.subTest(amount=amount), self.assertNoLogs(level='ERROR'):
                tx = self._pay(amount=amount, reference=f'amount-{amount}')
                self.assertEqual(tx.state, 'error')
                self.assertIn("more than zero", tx.state_message)
        token = self._paid_tx(tokenize=True, reference='saved').token_id
        tx = self._create_transaction('token', token_id=token.id, amount=-5.0, reference='token-negative')
        with self.assertNoLogs(level='ERROR'):
            tx._charge_with_token()
        self.assertEqual(tx.state, 'error')
        self.assertIn("more than zero", tx.state_message)
        self.assertEqual(self._calls('POST /v1/charges'), 1)  # The saving payment only.

    @mute_logger(TX_LOGGER, PROVIDER_LOGGER)
    def test_clovers_refusal_is_told_in_a_plain_sentence_with_its_code_never_the_token(self):
        tx = self._create_transaction('direct')
        tx._clover_pay_with_card_token('clv_NoSuchToken42')
        self.assertEqual(tx.state, 'error')
        self.assertNotIn('clv_', tx.state_message)
        self.assertNotIn('No such token', tx.state_message)
        self.assertIn("(Clover: resource_missing)", tx.state_message)
        self.assertEqual(self._counters()['charges_created'], 0)

    @mute_logger(TX_LOGGER, PROVIDER_LOGGER)
    def test_a_refresh_that_fails_before_charging_says_nothing_was_charged_and_a_retry_pays(self):
        self.provider.clover_oauth_token_expiry = fields.Datetime.now() + timedelta(seconds=10)
        self._emulator('POST', 'faults', {'path': '/oauth/v2/refresh', 'status': 503, 'count': 1})
        tx = self._pay(reference='first-try')

        self.assertEqual(tx.state, 'error')
        self.assertIn("nothing was charged", tx.state_message)
        self.assertFalse(tx.sudo().clover_pending_request)
        self.assertEqual(self._calls('POST /v1/charges'), 0)

        retry = self._pay(reference='second-try')  # What the customer's next click does.
        self.assertEqual(retry.state, 'done')
        self.assertEqual(self._counters()['charges_created'], 1)

    def test_a_capture_sends_the_address_the_customer_paid_from(self):
        self.provider.capture_manually = True
        tx = self._pay()
        self.assertEqual(tx.state, 'authorized')
        tx.clover_customer_ip = '203.0.113.7'  # As the payment route captured it.

        tx.action_capture()  # From the back office or a cron: not the customer's address.

        [capture] = self._clover_requests(f'/v1/charges/{tx.provider_reference}/capture')
        self.assertEqual(capture['headers']['x-forwarded-for'], '203.0.113.7')
