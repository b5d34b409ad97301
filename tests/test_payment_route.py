from odoo.tests import JsonRpcException, tagged
from odoo.tools import mute_logger

from odoo.addons.fusion_clover.controllers.main import CloverController
from odoo.addons.fusion_clover.tests.common import DECLINED_VISA, CloverPaymentCommon
from odoo.addons.payment.tests.http_common import PaymentHttpCommon


@tagged('post_install', '-at_install')
class TestCloverPaymentRoute(CloverPaymentCommon, PaymentHttpCommon):
    """The JSON-RPC route the browser calls with the card token Clover's iframe made."""

    def _call_route(self, tx, card_token, access_token=None):
        return self.make_jsonrpc_request(CloverController._payment_url, {
            'reference': tx.reference,
            'access_token': access_token or self._generate_test_access_token(tx.reference, tx.partner_id.id),
            'card_token': card_token,
        })

    def test_processing_values_sign_the_reference_and_partner(self):
        tx = self._create_transaction('direct')
        access_token = tx._get_processing_values()['access_token']
        self.assertEqual(access_token, self._generate_test_access_token(tx.reference, tx.partner_id.id))

    def test_route_charges_the_card_token_for_the_transaction(self):
        tx = self._create_transaction('direct')
        result = self._call_route(tx, self._card_token())

        self.assertEqual(result, {'state': 'done', 'state_message': ''})
        self.assertEqual(tx.state, 'done')
        [charge] = self._clover_requests('/v1/charges')
        self.assertEqual(charge['json']['amount'], 12345)
        self.assertEqual(charge['headers']['x-forwarded-for'], '127.0.0.1')  # The customer's IP.
        self.assertEqual(tx.clover_customer_ip, '127.0.0.1')  # Kept for captures and refunds.

    @mute_logger('odoo.http')
    def test_route_refuses_a_tampered_access_token(self):
        tx = self._create_transaction('direct')
        with self.assertRaises(JsonRpcException):
            self._call_route(tx, self._card_token(), access_token='forged')
        with self.assertRaises(JsonRpcException):  # Signed for another partner.
            self._call_route(tx, self._card_token(), self._generate_test_access_token(tx.reference, 1))
        self.assertEqual(tx.state, 'draft')
        self.assertEqual(self._calls('POST /v1/charges'), 0)

    @mute_logger('odoo.http')
    def test_route_never_charges_a_saved_card_for_the_browser(self):
        saved = self._create_transaction('direct', reference='saved', tokenize=True)
        saved._clover_pay_with_card_token(self._card_token())
        customer_id = saved.token_id.clover_source_token
        self.assertTrue(customer_id)

        tx = self._create_transaction('direct', reference='attacker')
        with self.assertRaises(JsonRpcException):
            self._call_route(tx, customer_id)
        self.assertEqual(tx.state, 'draft')
        self.assertEqual(self._calls('POST /v1/charges'), 1)

    @mute_logger('odoo.addons.fusion_clover.models.payment_transaction',
                 'odoo.addons.fusion_clover.models.payment_provider')
    def test_route_answers_a_decline_with_clovers_message(self):
        tx = self._create_transaction('direct')
        result = self._call_route(tx, self._card_token(DECLINED_VISA))
        self.assertEqual(result['state'], 'error')
        self.assertIn("The card was declined.", result['state_message'])
        self.assertEqual(tx.state, 'error')

    @mute_logger('odoo.addons.fusion_clover.models.payment_transaction')
    def test_route_called_again_for_a_paid_transaction_charges_nothing(self):
        tx = self._create_transaction('direct')
        self._call_route(tx, self._card_token())
        result = self._call_route(tx, self._card_token())
        self.assertEqual(result['state'], 'done')
        self.assertEqual(self._calls('POST /v1/charges'), 1)
        self.assertEqual(self._counters()['charges_created'], 1)

    @mute_logger('odoo.addons.fusion_clover.models.payment_transaction')
    def test_route_answers_a_negative_amount_with_a_clear_error(self):
        tx = self._create_transaction('direct', amount=-12.0)  # Typed on /invoice/transaction.
        with self.assertNoLogs(level='ERROR'):
            result = self._call_route(tx, self._card_token())
        self.assertEqual(result['state'], 'error')
        self.assertIn("more than zero", result['state_message'])
        self.assertEqual(self._calls('POST /v1/charges'), 0)
