import hashlib
import hmac
import json

import requests

from odoo import SUPERUSER_ID, api

from odoo.addons.fusion_clover.controllers.webhook import WEBHOOK_ROUTE
from odoo.addons.fusion_clover.tests.common import CloverPaymentCommon
from odoo.addons.payment.tests.http_common import PaymentHttpCommon

WEBHOOK_LOGGER = 'odoo.addons.fusion_clover.controllers.webhook'
EVENT_LOGGER = 'odoo.addons.fusion_clover.models.clover_webhook_event'
RECONCILE_LOGGER = 'odoo.addons.fusion_clover.models.payment_transaction_reconcile'
TX_LOGGER = 'odoo.addons.fusion_clover.models.payment_transaction'
PROVIDER_LOGGER = 'odoo.addons.fusion_clover.models.payment_provider'


class CloverWebhookCommon(CloverPaymentCommon, PaymentHttpCommon):
    """A connected provider holding the emulator's merchant and its webhook auth code, Odoo's
    HTTP server receiving the emulator's webhooks, and helpers to run the crons as Odoo would."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.merchant_id = cls.identities['merchant_id']
        cls.auth_code = cls.identities['webhook_auth_code']
        cls.provider.clover_webhook_auth_code = cls.auth_code

    def setUp(self):
        super().setUp()
        self._emulator('POST', 'webhooks/config', {'url': self.base_url() + WEBHOOK_ROUTE})

    # === Sending webhooks === #

    def _post_webhook(self, body, auth=True, headers=None):
        """POST `body` (bytes or chunks, or a dict or list sent as JSON) to Odoo's webhook route."""
        data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
        all_headers = {'Content-Type': 'application/json'}
        if auth:
            all_headers['X-Clover-Auth'] = self.auth_code if auth is True else auth
        all_headers.update(headers or {})
        return self.url_open(WEBHOOK_ROUTE, data=data, headers=all_headers, method='POST')

    def _firehose(self, events_by_merchant):
        """A firehose body: `{merchant_id: [(object_id, type, ts)]}`."""
        return {'appId': self.identities['app_id'], 'merchants': {
            merchant_id: [{'objectId': o, 'type': t, 'ts': ts} for o, t, ts in events]
            for merchant_id, events in events_by_merchant.items()
        }}

    def _flush(self, **options):
        """Have the emulator deliver its pending events to Odoo, as Clover would."""
        return self._emulator_delivers('webhooks/flush', options)

    def _emulator_delivers(self, route, payload=None):
        """Call the emulator, which POSTs to Odoo meanwhile: its requests carry no test cookie."""
        try:
            with self.allow_requests(all_requests=True):
                return self._emulator('POST', route, payload)
        finally:
            self.http_request_allow_all = False

    @staticmethod
    def _signature(secret, body):
        return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()

    # === Running the crons === #

    def _run_cron(self, model, method):
        """Run a cron method in a cursor of its own, where it may commit, as the cron does."""
        self.env.flush_all()
        with self.registry.cursor() as cr:
            getattr(api.Environment(cr, SUPERUSER_ID, {})[model], method)()
        self.env.invalidate_all()

    def _process_events(self):
        self._run_cron('clover.webhook.event', '_cron_clover_process_events')

    def _reconcile_pending(self):
        self._run_cron('payment.transaction', '_cron_clover_reconcile_pending')

    # === Looking at Odoo and Clover === #

    def _events(self):
        return self.env['clover.webhook.event'].search([], order='id')

    def _payment_reads(self, payment_id, merchant_id=None):
        """How often Odoo read a payment from Clover's Platform API."""
        path = f'/v3/merchants/{merchant_id or self.merchant_id}/payments/{payment_id}'
        return len(self._clover_requests(path, method='GET'))

    def _lost_answer_tx(self, **values):
        """A card payment Clover made but whose answer never reached Odoo: pending, unknown id."""
        self._emulator('POST', 'faults', {'path': '/v1/charges', 'drop': True, 'after': True})
        tx = self._create_transaction('direct', **values)
        tx._clover_pay_with_card_token(self._card_token())
        self.assertEqual(tx.state, 'pending')
        self.assertFalse(tx.provider_reference)
        return tx

    def _paid_tx(self, **values):
        tx = self._create_transaction('direct', **values)
        tx._clover_pay_with_card_token(self._card_token())
        self.assertEqual(tx.state, 'done')
        return tx

    def _dashboard(self, method, path, payload=None, private_key=None):
        """Act at Clover as the merchant's dashboard would, with the Ecommerce private key."""
        response = requests.request(
            method, f'{self.emulator_url}{path}', json=payload, timeout=10, headers={
                'Authorization': f"Bearer {private_key or self.identities['private_key']}",
                'x-forwarded-for': '127.0.0.1',
            },
        )
        response.raise_for_status()
        return response.json()
