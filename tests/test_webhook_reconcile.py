from datetime import timedelta
from unittest.mock import patch

import requests

from odoo import fields
from odoo.tests import BaseCase, tagged
from odoo.tools import mute_logger

from odoo.addons.fusion_clover.models import payment_transaction_reconcile as reconcile
from odoo.addons.fusion_clover.models.clover_webhook_event import MAX_ATTEMPTS
from odoo.addons.fusion_clover.tests.webhook_common import (
    EVENT_LOGGER,
    PROVIDER_LOGGER,
    RECONCILE_LOGGER,
    TX_LOGGER,
    CloverWebhookCommon,
)


@tagged('post_install', '-at_install')
class TestCloverWebhookReconcile(CloverWebhookCommon):
    """Clover's events settle Odoo's transactions from Clover's own record of each payment; the
    cron settles what no webhook did."""

    def _age(self, tx, minutes=15):
        """Make `tx` look as if it had been waiting for `minutes`."""
        self.env.cr.execute(
            "UPDATE payment_transaction SET last_state_change = %s WHERE id = %s",
            [fields.Datetime.now() - timedelta(minutes=minutes), tx.id],
        )
        tx.invalidate_recordset()

    def _clover_charge_id(self, tx):
        [charge] = [c for c in self._clover_get('/v1/charges')['data']
                    if c['metadata'].get('odoo_reference') == tx.reference]
        return charge['id']

    # === A charge whose answer was lost === #

    @mute_logger(TX_LOGGER, PROVIDER_LOGGER)
    def test_lost_answer_settles_from_its_webhook_without_charging_again(self):
        tx = self._lost_answer_tx()
        charge_id = self._clover_charge_id(tx)

        [delivery] = self._flush()['deliveries']
        self.assertEqual(delivery['status'], 200)
        self.assertEqual(tx.state, 'pending')  # Answered before processing.
        self._process_events()

        self.assertEqual(tx.state, 'done')
        self.assertEqual(tx.provider_reference, charge_id)
        self.assertEqual((tx.clover_card_brand, tx.clover_card_last4), ('VISA', '4242'))
        self.assertFalse(tx.sudo().clover_pending_request)  # The card token is forgotten.
        self.assertEqual(self._calls('POST /v1/charges'), 1)
        self.assertEqual(self._counters()['charges_created'], 1)
        self.assertEqual(self._payment_reads(charge_id), 1)
        [event] = self._events()
        self.assertEqual((event.state, event.transaction_id), ('done', tx))

    @mute_logger(TX_LOGGER, PROVIDER_LOGGER, RECONCILE_LOGGER)
    def test_lost_answer_with_the_webhook_dropped_settles_from_the_cron(self):
        tx = self._lost_answer_tx()
        self.assertFalse(self._flush(drop=True)['deliveries'])
        self._process_events()
        self.assertEqual(tx.state, 'pending')

        self._reconcile_pending()  # Too recent: still in the customer's hands.
        self.assertEqual(tx.state, 'pending')
        self.assertEqual(self._clover_requests('/v1/charges', method='GET'), [])

        self._age(tx)
        self._reconcile_pending()

        self.assertEqual(tx.state, 'done')
        self.assertEqual(tx.provider_reference, self._clover_charge_id(tx))
        self.assertFalse(tx.sudo().clover_pending_request)
        self.assertEqual(self._calls('POST /v1/charges'), 1)  # Looked up, never sent again.

    @mute_logger(TX_LOGGER, PROVIDER_LOGGER, RECONCILE_LOGGER)
    def test_cron_leaves_pending_what_clover_does_not_have(self):
        self._emulator('POST', 'faults', {'path': '/v1/charges', 'drop': True})  # Never arrived.
        tx = self._create_transaction('direct')
        tx._clover_pay_with_card_token(self._card_token())
        self._age(tx)

        self._reconcile_pending()

        self.assertEqual(tx.state, 'pending')
        self.assertEqual(self._counters()['charges_created'], 0)

    @mute_logger(TX_LOGGER, PROVIDER_LOGGER, RECONCILE_LOGGER)
    def test_cron_keeps_looking_when_clover_is_down(self):
        tx = self._lost_answer_tx()
        self._age(tx)
        self._emulator('POST', 'faults', {'path': '/v1/charges', 'method': 'GET', 'status': 503})
        self._reconcile_pending()
        self.assertEqual(tx.state, 'pending')
        self._reconcile_pending()
        self.assertEqual(tx.state, 'done')

    def _dashboard_charges(self, count):
        """Make `count` charges at Clover that are not Odoo's (from the merchant's dashboard)."""
        for _charge in range(count):
            self._dashboard('POST', '/v1/charges', {
                'amount': 100, 'currency': 'usd', 'source': self._card_token(),
            })

    @mute_logger(TX_LOGGER, PROVIDER_LOGGER, RECONCILE_LOGGER)
    def test_cron_finds_a_lost_charge_however_many_charges_came_after_it(self):
        tx = self._lost_answer_tx()
        self._dashboard_charges(7)  # Four pages of two charges from the newest to the lost one.
        self._age(tx)

        with patch.object(reconcile, 'CHARGE_PAGE_SIZE', 2):
            self._reconcile_pending()

        self.assertEqual(len(self._clover_requests('/v1/charges', method='GET')), 4)
        self.assertEqual(tx.state, 'done')
        self.assertEqual(tx.provider_reference, self._clover_charge_id(tx))
        self.assertEqual(self._counters()['charges_created'], 8)  # Looked up, never sent again.

    @mute_logger(TX_LOGGER, PROVIDER_LOGGER, RECONCILE_LOGGER)
    def test_cron_finds_a_lost_charge_that_clovers_clock_dates_before_the_transaction(self):
        self._emulator('POST', 'clock', {'advance': -600})  # Clover's clock 10 minutes behind.
        tx = self._lost_answer_tx()
        self._dashboard_charges(2)
        self._emulator('POST', 'clock', {'advance': 600})
        self._age(tx)

        with patch.object(reconcile, 'CHARGE_PAGE_SIZE', 2):
            self._reconcile_pending()

        self.assertEqual(len(self._clover_requests('/v1/charges', method='GET')), 2)
        self.assertEqual(tx.state, 'done')

    @mute_logger(TX_LOGGER, PROVIDER_LOGGER, RECONCILE_LOGGER)
    def test_cron_stops_listing_charges_at_those_older_than_the_transaction(self):
        self._emulator('POST', 'clock', {'advance': -3600})  # Charges made an hour ago.
        self._dashboard_charges(6)
        self._emulator('POST', 'clock', {'advance': 3600})
        self._emulator('POST', 'faults', {'path': '/v1/charges', 'drop': True})  # Never arrived.
        tx = self._create_transaction('direct')
        tx._clover_pay_with_card_token(self._card_token())
        self._age(tx)

        with patch.object(reconcile, 'CHARGE_PAGE_SIZE', 2):
            self._reconcile_pending()

        self.assertEqual(tx.state, 'pending')
        # One page: its charges are older than the transaction, so none later can be its charge.
        self.assertEqual(len(self._clover_requests('/v1/charges', method='GET')), 1)

    @mute_logger(TX_LOGGER, PROVIDER_LOGGER)
    def test_cron_reads_a_bounded_number_of_charge_pages_per_run(self):
        tx = self._lost_answer_tx()
        self._dashboard_charges(5)
        self._age(tx)

        with patch.object(reconcile, 'CHARGE_PAGE_SIZE', 1), patch.object(reconcile, 'CHARGE_PAGES_MAX', 3), \
                self.assertLogs(RECONCILE_LOGGER, 'WARNING') as logs:
            self._reconcile_pending()

        self.assertEqual(tx.state, 'pending')
        self.assertEqual(len(self._clover_requests('/v1/charges', method='GET')), 3)
        self.assertIn(f"Clover charge of {tx.reference} not found in the latest 3 charges", logs.output[0])

    # === Batches, duplicates, other merchants === #

    @mute_logger(TX_LOGGER, PROVIDER_LOGGER, RECONCILE_LOGGER)
    def test_firehose_of_two_merchants_with_duplicates_processes_each_event_once(self):
        second = self._emulator('POST', 'merchants', {'name': "Second Shop"})
        stranger = self._emulator('POST', 'merchants', {'name': "Another Odoo's Shop"})
        second_provider = self.env['payment.provider'].create({
            'name': "Clover (second shop)", 'code': 'clover', 'state': 'test',
            'clover_merchant_id': second['merchant_id'], 'clover_api_key': second['private_key'],
            'clover_webhook_auth_code': self.auth_code,
        })
        tx = self._lost_answer_tx()
        other_tx = self._lost_answer_tx(reference='second')
        second_charge = self._dashboard('POST', '/v1/charges', {
            'amount': 500, 'currency': 'usd', 'source': self._card_token_of(second),
        }, private_key=second['private_key'])
        stranger_charge = self._dashboard('POST', '/v1/charges', {
            'amount': 700, 'currency': 'usd', 'source': self._card_token_of(stranger),
        }, private_key=stranger['private_key'])

        result = self._flush(duplicate=2)

        self.assertEqual([d['status'] for d in result['deliveries']], [200, 200, 200])
        self.assertEqual(set(result['body']['merchants']), {
            self.merchant_id, second['merchant_id'], stranger['merchant_id'],
        })
        events = self._events()
        self.assertEqual(len(events), 3)  # Recorded once each, the stranger's not at all.
        self._process_events()
        self._process_events()  # Nothing left to do: nothing read twice.

        self.assertEqual((tx.state, other_tx.state), ('done', 'done'))
        for charged_tx in tx | other_tx:
            self.assertEqual(self._payment_reads(charged_tx.provider_reference), 1)
        self.assertEqual(self._payment_reads(second_charge['id'], second['merchant_id']), 1)
        self.assertEqual(self._payment_reads(stranger_charge['id'], stranger['merchant_id']), 0)
        by_object = {e.object_id: e for e in events}
        self.assertEqual(by_object['P:' + second_charge['id']].provider_id, second_provider)
        self.assertEqual(by_object['P:' + second_charge['id']].state, 'skipped')  # Not Odoo's.
        self.assertEqual(set(events.mapped('state')), {'done', 'skipped'})
        self.assertEqual(self._calls('POST /v1/charges'), 4)

    def _card_token_of(self, merchant):
        response = requests.post(
            f'{self.emulator_url}/v1/tokens', headers={'apikey': merchant['pakms_key']}, timeout=10,
            json={'card': {'number': '4242424242424242', 'exp_month': '12', 'exp_year': '2031',
                           'cvv': '123'}},
        )
        response.raise_for_status()
        return response.json()['id']

    @mute_logger(EVENT_LOGGER, RECONCILE_LOGGER)
    def test_events_of_objects_odoo_does_not_know_are_recorded_and_skipped(self):
        body = self._firehose({self.merchant_id: [
            ('P:NOSUCHPAYMENT', 'CREATE', 1), ('O:ABCDEFGHJKMNP', 'UPDATE', 2),
        ]})
        self.assertEqual(self._post_webhook(body).status_code, 200)
        self._process_events()
        self.assertEqual(self._events().mapped('state'), ['skipped', 'skipped'])
        self.assertEqual(self.env['payment.transaction'].search_count([]), 0)

    @mute_logger(EVENT_LOGGER, TX_LOGGER, PROVIDER_LOGGER)
    def test_event_stays_pending_while_clover_cannot_be_asked(self):
        tx = self._lost_answer_tx()
        self._emulator('POST', 'faults', {'path': '/v3/merchants/*', 'status': 503, 'count': 2})
        self._flush()
        self._process_events()
        [event] = self._events()
        self.assertEqual((event.state, event.attempts, tx.state), ('pending', 1, 'pending'))
        self._process_events()
        self.assertEqual((event.state, event.attempts), ('pending', 2))
        self._process_events()
        self.assertEqual((event.state, tx.state), ('done', 'done'))
        self.assertLess(event.attempts, MAX_ATTEMPTS)

    # === Refunds and voids made at Clover === #

    @mute_logger(TX_LOGGER, PROVIDER_LOGGER, RECONCILE_LOGGER)
    def test_refund_made_in_the_dashboard_appears_in_odoo_once(self):
        tx = self._paid_tx()
        self._flush(drop=True)  # The payment's own events.
        refund = self._dashboard('POST', '/v1/refunds', {'charge': tx.provider_reference, 'amount': 2000})

        self._flush(duplicate=1)
        self._process_events()
        self._flush()  # Nothing new: the refund is not recorded twice.
        self._process_events()

        [refund_tx] = tx.child_transaction_ids
        self.assertEqual(refund_tx.operation, 'refund')
        self.assertEqual(refund_tx.amount, -20.0)
        self.assertEqual(refund_tx.state, 'done')
        self.assertEqual(refund_tx.provider_reference, refund['id'])
        self.assertEqual(tx.state, 'done')
        self.assertEqual(self._calls('POST /v1/refunds'), 1)  # Odoo refunded nothing itself.

    @mute_logger(TX_LOGGER, PROVIDER_LOGGER, RECONCILE_LOGGER)
    def test_refund_made_by_odoo_is_not_recorded_again(self):
        tx = self._paid_tx()
        refund_tx = tx._refund(amount_to_refund=10.0)
        self.assertEqual(refund_tx.state, 'done')

        self._flush()
        self._process_events()

        self.assertEqual(tx.child_transaction_ids, refund_tx)

    @mute_logger(TX_LOGGER, PROVIDER_LOGGER, RECONCILE_LOGGER)
    def test_odoo_refund_whose_answer_was_lost_settles_and_is_not_recorded_twice(self):
        tx = self._paid_tx()
        self._emulator('POST', 'faults', {'path': '/v1/refunds', 'drop': True, 'after': True})
        refund_tx = tx._refund(amount_to_refund=10.0)
        self.assertEqual(refund_tx.state, 'pending')

        self._flush()
        self._process_events()

        self.assertEqual(tx.child_transaction_ids, refund_tx)
        self.assertEqual(refund_tx.state, 'done')
        [refund] = self._clover_get('/v1/refunds')['data']
        self.assertEqual(refund_tx.provider_reference, refund['id'])
        self.assertFalse(refund_tx.sudo().clover_pending_request)
        self.assertEqual(self._calls('POST /v1/refunds'), 1)

    @mute_logger(TX_LOGGER, PROVIDER_LOGGER, RECONCILE_LOGGER)
    def test_void_made_at_clover_cancels_the_authorization(self):
        self.provider.capture_manually = True
        tx = self._create_transaction('direct')
        tx._clover_pay_with_card_token(self._card_token())
        self.assertEqual(tx.state, 'authorized')
        self._dashboard('POST', '/v1/refunds', {'charge': tx.provider_reference})  # A void.

        self._flush()
        self._process_events()

        self.assertEqual(tx.state, 'cancel')
        self.assertFalse(tx.child_transaction_ids)

    @mute_logger(TX_LOGGER, PROVIDER_LOGGER, RECONCILE_LOGGER)
    def test_capture_made_at_clover_completes_the_authorization(self):
        self.provider.capture_manually = True
        tx = self._create_transaction('direct')
        tx._clover_pay_with_card_token(self._card_token())
        self._dashboard('POST', f'/v1/charges/{tx.provider_reference}/capture', {})

        self._flush()
        self._process_events()

        self.assertEqual(tx.state, 'done')


@tagged('post_install', '-at_install')
class TestCloverChargeListing(BaseCase):

    def test_only_a_charge_dated_before_the_transaction_ends_the_listing(self):
        self.assertTrue(reconcile._created_before({'created': 999}, 1000))
        self.assertFalse(reconcile._created_before({'created': 1000}, 1000))
        # Clover's list without a usable time: keep paging rather than miss the charge.
        for charge in ({}, {'created': None}, {'created': '999'}):
            self.assertFalse(reconcile._created_before(charge, 1000), charge)
