import time
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

from odoo.exceptions import AccessError
from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from odoo.addons.fusion_clover import const, utils
from odoo.addons.fusion_clover.tests.common import CloverCommon

CONTROLLER_LOGGER = 'odoo.addons.fusion_clover.controllers.main'


@tagged('post_install', '-at_install')
class TestCloverOauthConnect(CloverCommon, HttpCase):
    """Connect to Clover through the callback route, and every way a callback must be refused."""

    def setUp(self):
        super().setUp()
        self.provider.write(self.provider._clover_disconnected_values())
        self.secret = 'test-dispatcher-secret'
        self.env['ir.config_parameter'].set_param(const.DISPATCHER_SECRET_PARAM, self.secret)
        self.callback_url = self.provider._clover_get_callback_url()
        self.clerk = self._create_new_internal_user(
            login='clover_clerk', password='clover_clerk',
            groups='base.group_user,fusion_clover.group_fusion_clover_user',
        )

    def _state(self, redirect_to=None, iat=None, secret=None):
        issued_at = time.time() if iat is None else iat
        payload = utils.new_state_payload(redirect_to or self.callback_url, issued_at)
        return utils.sign_state(payload, secret or self.secret)

    def _code(self, legacy=False):
        return self._emulator('POST', 'oauth/codes', {
            'merchant_id': self.identities['merchant_id'], 'legacy': legacy,
        })['code']

    def _callback(self, user='admin', **params):
        if user:
            self.authenticate(user, user)
        query = {'merchant_id': self.identities['merchant_id'], 'client_id': self.identities['app_id']}
        query.update(params)
        return self.url_open(f'{const.OAUTH_CALLBACK_ROUTE}?{urlencode(query)}', allow_redirects=False)

    def _assert_nothing_stored(self):
        self.provider.invalidate_recordset()
        self.assertFalse(self.provider.clover_oauth_access_token)
        self.assertFalse(self.provider.clover_oauth_refresh_token)
        self.assertFalse(self.provider.clover_pakms_key)
        self.assertEqual(self._counters()['token_exchanges'], 0)

    def _assert_refused(self, response, status):
        self.assertEqual(response.status_code, status, response.text[:500])
        self.assertNotIn('Traceback', response.text)
        self._assert_nothing_stored()

    # === The flow === #

    def test_connect_builds_the_authorize_url(self):
        action = self.provider.action_clover_oauth_connect()
        self.assertEqual(action['type'], 'ir.actions.act_url')
        url = urlsplit(action['url'])
        self.assertEqual(f'{url.scheme}://{url.netloc}{url.path}', f'{self.emulator_url}/oauth/v2/authorize')
        query = parse_qs(url.query)
        self.assertEqual(query['client_id'], [self.identities['app_id']])
        self.assertEqual(query['redirect_uri'], [self.callback_url])
        payload = utils.verify_state(query['state'][0], self.secret, int(time.time()))
        self.assertEqual(payload['redirect_to'], self.callback_url)

    def test_connect_goes_through_the_dispatcher_when_configured(self):
        dispatcher = 'https://dispatch.example.com/clover/callback'
        self.env['ir.config_parameter'].set_param(const.DISPATCHER_URL_PARAM, dispatcher)
        query = parse_qs(urlsplit(self.provider.action_clover_oauth_connect()['url']).query)
        self.assertEqual(query['redirect_uri'], [dispatcher])
        # The state still names this Odoo: the dispatcher forwards there.
        payload = utils.verify_state(query['state'][0], self.secret, int(time.time()))
        self.assertEqual(payload['redirect_to'], self.callback_url)

    def test_full_connect_flow_through_the_authorize_page(self):
        self._emulator('POST', 'config', {'auto_approve': True})
        authorize_url = self.provider.action_clover_oauth_connect()['url']
        answer = requests.get(authorize_url, allow_redirects=False, timeout=10)
        self.assertEqual(answer.status_code, 302)
        location = urlsplit(answer.headers['Location'])
        self.assertEqual(f'{location.scheme}://{location.netloc}{location.path}', self.callback_url)
        self.authenticate('admin', 'admin')
        response = self.url_open(f'{location.path}?{location.query}', allow_redirects=False)
        self.assertEqual(response.status_code, 200, response.text[:500])
        self.assertIn(self.identities['merchant_name'], response.text)
        self.provider.invalidate_recordset()
        self.assertEqual(self.provider.clover_merchant_id, self.identities['merchant_id'])
        self.assertEqual(self.provider.clover_merchant_name, self.identities['merchant_name'])
        self.assertEqual(self.provider.clover_pakms_key, self.identities['pakms_key'])
        self.assertTrue(self.provider.clover_oauth_refresh_token)
        self.assertTrue(self.provider.clover_oauth_token_expiry)
        self.assertTrue(self.provider.clover_is_connected)
        self.assertEqual(self._counters()['token_exchanges'], 1)

    def test_legacy_code_falls_back_to_the_legacy_exchange(self):
        response = self._callback(state=self._state(), code=self._code(legacy=True))
        self.assertEqual(response.status_code, 200, response.text[:500])
        self.provider.invalidate_recordset()
        self.assertTrue(self.provider.clover_oauth_access_token)
        self.assertFalse(self.provider.clover_oauth_refresh_token)
        self.assertFalse(self.provider.clover_oauth_token_expiry)  # Legacy tokens never expire.
        self.assertEqual(self.provider.clover_pakms_key, self.identities['pakms_key'])

    def test_test_connection_names_the_merchant(self):
        self.provider.write({**self._issue_tokens(), 'clover_merchant_id': self.identities['merchant_id']})
        self.provider.clover_pakms_key = self.identities['pakms_key']  # Else Test Connection fetches it.
        action = self.provider.action_clover_test_connection()
        self.assertEqual(
            action['params']['message'],
            f"Test Connection successful. Merchant: {self.identities['merchant_name']}",
        )

    def test_disconnect_forgets_tokens_and_pakms_key(self):
        self.provider.write({
            **self._issue_tokens(),
            'clover_merchant_id': self.identities['merchant_id'],
            'clover_pakms_key': 'pk',
        })
        self.provider.action_clover_oauth_disconnect()
        self.provider.invalidate_recordset()
        self.assertFalse(self.provider.clover_oauth_access_token)
        self.assertFalse(self.provider.clover_oauth_refresh_token)
        self.assertFalse(self.provider.clover_pakms_key)
        self.assertEqual(self.provider.clover_merchant_id, self.identities['merchant_id'])
        self.assertFalse(self.provider.clover_is_connected)

    def test_clerks_cannot_change_the_connection(self):
        self.provider.write({
            **self._issue_tokens(), 'clover_merchant_id': self.identities['merchant_id'],
        })
        as_clerk = self.provider.with_user(self.clerk)
        for action in ('action_clover_oauth_connect', 'action_clover_oauth_disconnect',
                       'action_clover_test_connection'):
            with self.subTest(action=action), self.assertRaises(AccessError):
                getattr(as_clerk, action)()
        self.provider.invalidate_recordset()
        self.assertTrue(self.provider.clover_oauth_access_token)
        self.assertEqual(sum(self._counters()['calls'].values()), 0)

    # === Refusals === #

    @mute_logger(CONTROLLER_LOGGER)
    def test_forged_signature_refused(self):
        state = self._state(secret='another-secret')
        self._assert_refused(self._callback(state=state, code=self._code()), 403)

    @mute_logger(CONTROLLER_LOGGER)
    def test_tampered_payload_refused(self):
        payload_b64, signature = self._state().split('.')
        forged_payload = utils.b64url_encode(utils.b64url_decode(payload_b64).replace(b'"iat":', b'"iat": '))
        self._assert_refused(self._callback(state=f'{forged_payload}.{signature}', code=self._code()), 403)

    @mute_logger(CONTROLLER_LOGGER)
    def test_expired_state_refused(self):
        state = self._state(iat=time.time() - const.STATE_MAX_AGE - 5)
        self._assert_refused(self._callback(state=state, code=self._code()), 403)

    @mute_logger(CONTROLLER_LOGGER)
    def test_state_from_the_future_refused(self):
        state = self._state(iat=time.time() + const.STATE_CLOCK_SKEW + 60)
        self._assert_refused(self._callback(state=state, code=self._code()), 403)

    @mute_logger(CONTROLLER_LOGGER)
    def test_state_for_another_odoo_refused(self):
        for redirect_to in ('https://other-odoo.example.com/payment/clover/oauth/callback',
                            self.callback_url.replace('/oauth/callback', '/elsewhere')):
            with self.subTest(redirect_to=redirect_to):
                state = self._state(redirect_to=redirect_to)
                self._assert_refused(self._callback(state=state, code=self._code()), 403)

    @mute_logger(CONTROLLER_LOGGER)
    def test_replayed_state_refused(self):
        state = self._state()
        self.assertEqual(self._callback(state=state, code=self._code()).status_code, 200)
        self.provider.write(self.provider._clover_disconnected_values())
        self._emulator('POST', 'reset')
        self._assert_refused(self._callback(state=state, code=self._code()), 403)

    @mute_logger(CONTROLLER_LOGGER)
    def test_missing_or_garbled_state_refused(self):
        self._assert_refused(self._callback(code=self._code()), 400)
        for garbled in ('garbage', 'a.b.c', '!!!.???', self._state() + 'x'):
            with self.subTest(state=garbled):
                self._assert_refused(self._callback(state=garbled, code=self._code()), 403)

    @mute_logger(CONTROLLER_LOGGER)
    def test_other_merchant_refused(self):
        self.provider.clover_merchant_id = 'ANOTHERMERCH1'
        self._assert_refused(self._callback(state=self._state(), code=self._code()), 403)

    @mute_logger(CONTROLLER_LOGGER)
    def test_non_admin_refused(self):
        response = self._callback(user='clover_clerk', state=self._state(), code=self._code())
        self._assert_refused(response, 403)

    def test_anonymous_visitor_is_sent_to_login(self):
        response = self._callback(user=None, state=self._state(), code=self._code())
        self.assertIn(response.status_code, (302, 303))
        self.assertIn('/web/login', response.headers['Location'])
        self._assert_nothing_stored()

    @mute_logger(CONTROLLER_LOGGER, 'odoo.addons.fusion_clover.models.payment_provider')
    def test_code_refused_by_clover_shows_a_page_not_a_traceback(self):
        response = self._callback(state=self._state(), code='not-a-code')
        self.assertEqual(response.status_code, 502)
        self.assertNotIn('Traceback', response.text)
        self.provider.invalidate_recordset()
        self.assertFalse(self.provider.clover_oauth_access_token)
