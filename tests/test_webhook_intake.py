import json
import logging

from odoo.tests import tagged
from odoo.tools import file_open, mute_logger

from odoo.addons.fusion_clover.controllers.webhook import MAX_WEBHOOK_BYTES, WEBHOOK_ROUTE
from odoo.addons.fusion_clover.tests.webhook_common import WEBHOOK_LOGGER, CloverWebhookCommon

NO_KEY_REASON = "no enabled Clover provider has a webhook auth code or app secret"


@tagged('post_install', '-at_install')
class TestCloverWebhookIntake(CloverWebhookCommon):
    """What `/payment/clover/webhook` accepts, and everything it refuses with nothing changed."""

    def _one_event(self, merchant_id=None, object_id='P:ABCDEFGHJKMNP', ts=1764700000000):
        return self._firehose({merchant_id or self.merchant_id: [(object_id, 'CREATE', ts)]})

    def _assert_refused(self, response, status, reason):
        """The refusal has its bare status, nothing was recorded, and it was logged once."""
        self.assertEqual(response.status_code, status)
        self.assertEqual(response.content, b'')
        self.assertFalse(self._events())
        [line] = [r for r in self.refusal_logs.records if 'Refused a Clover webhook' in r.getMessage()]
        self.assertIn(reason, line.getMessage())
        self.assertFalse(line.exc_info)  # No traceback.

    def _refused_post(self, *args, **kwargs):
        with self.assertLogs(WEBHOOK_LOGGER, logging.WARNING) as self.refusal_logs:
            return self._post_webhook(*args, **kwargs)

    # === Verification === #

    def test_verification_code_is_logged_for_the_operator_and_answered(self):
        with self.assertLogs(WEBHOOK_LOGGER, logging.WARNING) as logs:
            sent = self._emulator_delivers('webhooks/verify')
        self.assertEqual(sent['status'], 200)
        [line] = logs.output
        self.assertIn('VERIFICATION CODE', line)
        self.assertIn(sent['verificationCode'], line)
        self.assertFalse(self._events())

    def test_verification_code_with_the_auth_header_is_answered_too(self):
        self._emulator('POST', 'config', {'webhook_verification_auth': True})
        with self.assertLogs(WEBHOOK_LOGGER, logging.WARNING) as logs:
            sent = self._emulator_delivers('webhooks/verify')
        self.assertEqual(sent['status'], 200)
        self.assertIn(sent['verificationCode'], logs.output[0])

    def test_verification_vectors_shared_with_the_dispatcher(self):
        """Unauthenticated, a body is the verification body exactly when the dispatcher also
        takes it for one: both read tests/data/verification_body_vectors.json."""
        with file_open('fusion_clover/tests/data/verification_body_vectors.json') as vectors_file:
            vectors = json.load(vectors_file)['vectors']
        self.assertGreaterEqual(len(vectors), 15)
        for vector in vectors:
            with self.subTest(vector['name']):
                body = vector['body'].encode()
                if vector['code'] is None:
                    self._assert_refused(self._refused_post(body, auth=False), 401, "no X-Clover-Auth")
                    continue
                with self.assertLogs(WEBHOOK_LOGGER, logging.WARNING) as logs:
                    response = self._post_webhook(body, auth=False)
                self.assertEqual(response.status_code, 200)
                [line] = logs.output
                self.assertIn(f"VERIFICATION CODE: {vector['code']} ", line)
                self.assertFalse(self._events())

    # === Authentication === #

    def test_unsigned_event_is_refused(self):
        self._assert_refused(self._refused_post(self._one_event(), auth=False), 401, "no X-Clover-Auth")

    def test_wrong_auth_code_is_refused(self):
        response = self._refused_post(self._one_event(), auth=self.auth_code[:-1] + 'x')
        self._assert_refused(response, 403, "wrong X-Clover-Auth")

    def test_auth_code_that_is_not_ascii_is_refused_cleanly(self):
        response = self._refused_post(self._one_event(), auth='\u00ff' + self.auth_code[1:])
        self._assert_refused(response, 403, "wrong X-Clover-Auth")

    def test_forged_hmac_is_refused(self):
        body = json.dumps(self._one_event()).encode()
        # Signed with a guessed secret, or signing another body than the one sent.
        for signature in (self._signature('guessed', body),
                          self._signature(self.identities['app_secret'], body + b' ')):
            response = self._refused_post(body, auth=signature)
            self._assert_refused(response, 403, "wrong X-Clover-Auth")

    def test_hmac_of_the_body_with_the_app_secret_is_accepted(self):
        body = json.dumps(self._one_event()).encode()
        response = self._post_webhook(body, auth=self._signature(self.identities['app_secret'], body))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(len(self._events()), 1)

    def test_no_secret_configured_refuses_everything_but_the_verification(self):
        self.provider.write({'clover_webhook_auth_code': False, 'clover_app_secret': False})
        response = self._refused_post(self._one_event(), auth='anything')
        self._assert_refused(response, 403, NO_KEY_REASON)
        with self.assertLogs(WEBHOOK_LOGGER, logging.WARNING):
            self.assertEqual(self._emulator_delivers('webhooks/verify')['status'], 200)

    def test_disabled_provider_authenticates_nothing(self):
        """Disabling the provider is how an admin stops a leaked code at once: its secrets, still
        stored, no longer open the route."""
        self.provider.state = 'disabled'
        response = self._refused_post(self._one_event())
        self._assert_refused(response, 403, NO_KEY_REASON)

    def test_get_is_refused(self):
        response = self.url_open(WEBHOOK_ROUTE, headers={'X-Clover-Auth': self.auth_code})
        self.assertEqual(response.status_code, 405)
        self.assertFalse(self._events())

    # === Size and shape === #

    def test_oversized_body_is_refused_unread(self):
        """A declared length past the limit is refused by the route's `max_content_length`
        before Odoo reads or parses anything; a chunked body stops being read at the limit."""
        body = json.dumps({'appId': 'P' * (MAX_WEBHOOK_BYTES + 1)}).encode()
        with self.assertNoLogs('odoo.http', logging.ERROR):
            response = self._post_webhook(body)
        self.assertEqual(response.status_code, 413)
        self.assertNotIn(b'Traceback', response.content)
        self.assertFalse(self._events())

        def chunks():
            yield body[:MAX_WEBHOOK_BYTES // 2]
            yield body[MAX_WEBHOOK_BYTES // 2:]

        response = self._refused_post(chunks())
        self._assert_refused(response, 413, "larger than")
        self.assertEqual(self._post_webhook(json.dumps(self._one_event()).encode()).status_code, 200)

    @mute_logger('odoo.http')
    def test_malformed_json_is_refused(self):
        response = self._refused_post(b'{"appId": "X", "merchants": {')
        self._assert_refused(response, 400, "not a JSON object")

    def test_malformed_shapes_are_refused_whole(self):
        good = {'objectId': 'P:ABCDEFGHJKMNP', 'type': 'CREATE', 'ts': 1764700000000}
        bodies = [
            [good],
            {'appId': 'X'},
            {'appId': 'X', 'merchants': []},
            {'appId': 'X', 'merchants': {self.merchant_id: good}},
            {'appId': 'X', 'merchants': {self.merchant_id: [good, {**good, 'objectId': 'P:a b'}]}},
            {'appId': 'X', 'merchants': {self.merchant_id: [good, {**good, 'ts': 'soon'}]}},
            {'appId': 'X', 'merchants': {self.merchant_id: [good, {**good, 'ts': 10 ** 15}]}},
            {'appId': 'X', 'merchants': {self.merchant_id: [good, {**good, 'ts': -1}]}},
            {'appId': 'X', 'merchants': {self.merchant_id: [good, {**good, 'type': None}]}},
            {'appId': 'X', 'merchants': {'M\nforged': [good]}},
            {'type': 'PAYMENT', 'data': 'P:ABCDEFGHJKMNP'},
        ]
        for body in bodies:
            with self.subTest(body=body):
                self._assert_refused(self._refused_post(body), 400, "")

    def test_batch_for_merchants_of_another_odoo_is_refused(self):
        response = self._refused_post(self._one_event(merchant_id='OTHERMERCHANT'))
        self._assert_refused(response, 403, "no merchant of this Odoo")

    # === What is recorded === #

    def test_firehose_events_of_our_merchant_are_recorded_once(self):
        body = self._firehose({
            self.merchant_id: [('P:ABCDEFGHJKMNP', 'CREATE', 1), ('P:ABCDEFGHJKMNP', 'UPDATE', 2)],
            'OTHERMERCHANT': [('P:QRSTVWXYZ2345', 'CREATE', 1)],
        })
        for _delivery in range(2):  # Clover sends the same batch twice.
            self.assertEqual(self._post_webhook(body).status_code, 200)
        events = self._events()
        cron = self.env.ref('fusion_clover.cron_clover_process_webhook_events')
        # Processing runs right after, outside the request: one wake-up for both deliveries.
        self.assertEqual(self.env['ir.cron.trigger'].search_count([('cron_id', '=', cron.id)]), 1)
        self.assertEqual(events.mapped('event_type'), ['CREATE', 'UPDATE'])
        self.assertEqual(set(events.mapped('merchant_id')), {self.merchant_id})
        self.assertEqual(set(events.mapped('provider_id')), {self.provider})
        self.assertEqual(set(events.mapped('state')), {'pending'})
        self.assertEqual(str(events[0].event_time), '1970-01-01 00:00:00.001000')

    def test_legacy_type_data_body_is_recorded(self):
        body = {'type': 'PAYMENT', 'merchantId': self.merchant_id, 'data': {'id': 'ABCDEFGHJKMNP'}}
        self.assertEqual(self._post_webhook(body).status_code, 200)
        [event] = self._events()
        self.assertEqual((event.object_id, event.event_type), ('P:ABCDEFGHJKMNP', 'PAYMENT'))

    def test_dispatchers_forwarded_body_is_accepted_byte_for_byte(self):
        """The dispatcher forwards Clover's raw bytes with Content-Type and X-Clover-Auth only;
        Odoo must not depend on how the JSON is spaced or ordered."""
        raw = (
            b'{ "merchants" : {"%s":[ {"type":"CREATE","ts":1764700000000,\n'
            b'"objectId":"P:ABCDEFGHJKMNP"} ]},"appId":"%s" }'
            % (self.merchant_id.encode(), self.identities['app_id'].encode())
        )
        headers = {'Content-Type': 'application/json', 'X-Clover-Auth': self.auth_code}
        response = self.url_open(WEBHOOK_ROUTE, data=raw, headers=headers, method='POST')
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self._events().object_id, 'P:ABCDEFGHJKMNP')
        # The HMAC form covers those exact bytes: the same signature over a re-serialized body fails.
        signature = self._signature(self.identities['app_secret'], raw)
        reserialized = json.dumps(json.loads(raw)).encode()
        response = self._refused_post(reserialized, auth=signature)
        self.assertEqual(response.status_code, 403)
