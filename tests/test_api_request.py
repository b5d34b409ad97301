from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.fusion_clover import const
from odoo.addons.fusion_clover.models.payment_provider import CloverAPIError
from odoo.addons.fusion_clover.tests.common import CloverCommon


@tagged('post_install', '-at_install')
class TestCloverApiRequest(CloverCommon):
    """The one way out to Clover: hosts, credentials, headers, errors and token freshness."""

    def _merchant_path(self):
        return f"/v3/merchants/{self.identities['merchant_id']}"

    def _get_merchant(self, provider=None):
        return (provider or self.provider)._clover_api_request('platform', 'GET', self._merchant_path())

    def _last_request(self, path):
        return self._emulator('GET', 'requests', path=path)['requests'][-1]

    def _legacy_token(self):
        """Return a never-expiring legacy REST token, exchanged from a v1 code as old installs did."""
        code = self._emulator('POST', 'oauth/codes', {
            'merchant_id': self.identities['merchant_id'], 'legacy': True,
        })['code']
        return self.provider._clover_api_request('oauth', 'POST', '/oauth/token', params={
            'client_id': self.identities['app_id'], 'client_secret': self.identities['app_secret'],
            'code': code,
        })['access_token']

    def _expire_soon(self, seconds=30):
        self.provider.clover_oauth_token_expiry = fields.Datetime.now() + timedelta(seconds=seconds)

    # === Hosts === #

    def test_hosts_follow_provider_state_without_override(self):
        self.env['ir.config_parameter'].set_param(const.API_BASE_URL_PARAM, False)
        kwargs = {'clover_surface': 'ecommerce'}
        self.assertEqual(
            self.provider._build_request_url('/v1/charges', **kwargs),
            'https://scl-sandbox.dev.clover.com/v1/charges',
        )
        self.provider.state = 'enabled'
        self.assertEqual(
            self.provider._build_request_url('/v1/charges', **kwargs), 'https://scl.clover.com/v1/charges',
        )
        for surface, host in (('oauth', 'https://api.clover.com'), ('token', 'https://token.clover.com'),
                              ('platform', 'https://api.clover.com')):
            with self.subTest(surface=surface):
                self.assertEqual(self.provider._build_request_url('/x', clover_surface=surface), f'{host}/x')
        self.assertEqual(self.provider._clover_get_sdk_url(), 'https://checkout.clover.com/sdk.js')

    def test_override_points_every_surface_at_one_base_url(self):
        for surface in const.SURFACE_HOSTS:
            with self.subTest(surface=surface):
                self.assertEqual(
                    self.provider._build_request_url('/p', clover_surface=surface), f'{self.emulator_url}/p',
                )
        self.assertEqual(self.provider._clover_get_sdk_url(), f'{self.emulator_url}/sdk.js')

    # === Credentials === #

    def test_oauth_token_comes_first(self):
        self.provider.write({'clover_api_key': self.identities['private_key'], 'clover_rest_api_token': 'x'})
        self.assertEqual(self._get_merchant()['name'], self.identities['merchant_name'])
        headers = self._last_request(self._merchant_path())['headers']
        self.assertEqual(headers['authorization'], f'Bearer {self.provider.clover_oauth_access_token}')

    def test_legacy_token_comes_before_private_key(self):
        legacy = self._legacy_token()
        self.provider.write({
            **self.provider._clover_disconnected_values(),
            'clover_merchant_id': self.identities['merchant_id'],
            'clover_rest_api_token': legacy,
            'clover_api_key': self.identities['private_key'],
        })
        self._get_merchant()
        headers = self._last_request(self._merchant_path())['headers']
        self.assertEqual(headers['authorization'], f'Bearer {legacy}')

    def test_private_key_is_the_last_resort(self):
        self.provider.write({
            **self.provider._clover_disconnected_values(),
            'clover_api_key': self.identities['private_key'],
        })
        self.provider._clover_api_request('ecommerce', 'GET', '/v1/charges')
        headers = self._last_request('/v1/charges')['headers']
        self.assertEqual(headers['authorization'], f"Bearer {self.identities['private_key']}")

    def test_terminals_need_oauth(self):
        self.provider.write({
            **self.provider._clover_disconnected_values(),
            'clover_api_key': self.identities['private_key'],
        })
        with self.assertRaisesRegex(UserError, 'OAuth'):
            self.provider._clover_api_request('connect', 'POST', '/connect/v1/device/ping')
        self.assertEqual(self._calls('POST /connect/v1/device/ping'), 0)

    def test_unconnected_provider_refuses_before_calling_clover(self):
        self.provider.write(self.provider._clover_disconnected_values())
        with self.assertRaisesRegex(UserError, 'not connected'):
            self._get_merchant()
        self.assertEqual(sum(self._counters()['calls'].values()), 0)

    # === Headers === #

    def test_terminal_calls_carry_pos_id_and_idempotency_key(self):
        serial = self.identities['devices'][0]['serial']
        self.provider._clover_api_request(
            'connect', 'POST', '/connect/v1/device/ping', headers={'X-Clover-Device-Id': serial},
            idempotency_key='key-123',
        )
        headers = self._last_request('/connect/v1/device/ping')['headers']
        self.assertEqual(headers['x-pos-id'], 'FusionCloverOdoo')
        self.assertEqual(headers['idempotency-key'], 'key-123')
        self.assertEqual(headers['x-clover-device-id'], serial)
        self.provider.clover_remote_app_id = 'RAID-1'
        self.provider._clover_api_request(
            'connect', 'POST', '/connect/v1/device/ping', headers={'X-Clover-Device-Id': serial},
        )
        headers = self._last_request('/connect/v1/device/ping')['headers']
        self.assertEqual(headers['x-pos-id'], 'RAID-1')
        self.assertNotIn('idempotency-key', headers)

    # === Errors === #

    def test_server_error_is_an_unknown_outcome(self):
        self._emulator('POST', 'faults', {'path': self._merchant_path(), 'status': 503, 'count': 1})
        with self.assertRaises(CloverAPIError) as caught:
            self._get_merchant()
        self.assertTrue(caught.exception.outcome_unknown)
        self.assertEqual(caught.exception.status, 503)

    def test_dropped_connection_is_an_unknown_outcome(self):
        self._emulator('POST', 'faults', {'path': self._merchant_path(), 'drop': True, 'count': 1})
        with self.assertRaisesRegex(CloverAPIError, 'connection') as caught:
            self._get_merchant()
        self.assertTrue(caught.exception.outcome_unknown)

    def test_timeout_is_an_unknown_outcome(self):
        self._emulator('POST', 'faults', {'path': self._merchant_path(), 'delay': 2, 'count': 1})
        with self.assertRaisesRegex(CloverAPIError, 'in time') as caught:
            self.provider._clover_api_request('platform', 'GET', self._merchant_path(), timeout=0.5)
        self.assertTrue(caught.exception.outcome_unknown)

    def test_client_error_carries_clover_message(self):
        with self.assertRaises(CloverAPIError) as caught:
            self.provider._clover_api_request('ecommerce', 'GET', '/v1/charges/NOSUCHCHARGE1')
        self.assertEqual(caught.exception.status, 404)
        self.assertFalse(caught.exception.outcome_unknown)
        self.assertIn('Clover refused the request', str(caught.exception))

    # === Token freshness === #

    def test_no_refresh_while_token_is_fresh(self):
        self._get_merchant()
        self.assertEqual(self._counters()['refreshes'], 0)

    def test_proactive_refresh_within_a_minute_of_expiry(self):
        old_access, old_refresh = (self.provider.clover_oauth_access_token,
                                   self.provider.clover_oauth_refresh_token)
        self._expire_soon(30)
        self._get_merchant()
        self.assertEqual(self._counters()['refreshes'], 1)
        self.provider.invalidate_recordset()
        self.assertNotEqual(self.provider.clover_oauth_access_token, old_access)
        self.assertNotEqual(self.provider.clover_oauth_refresh_token, old_refresh)
        in_five_minutes = fields.Datetime.now() + timedelta(minutes=5)
        self.assertGreater(self.provider.clover_oauth_token_expiry, in_five_minutes)
        self.assertTrue(self.provider.clover_oauth_last_refresh)
        headers = self._last_request(self._merchant_path())['headers']
        self.assertEqual(headers['authorization'], f'Bearer {self.provider.clover_oauth_access_token}')

    def test_rotated_refresh_token_is_stored_and_the_old_one_is_dead(self):
        old_refresh = self.provider.clover_oauth_refresh_token
        self.assertTrue(self.provider._clover_refresh_oauth_token())
        self.provider.invalidate_recordset()
        with self.assertRaises(CloverAPIError) as caught:
            self.provider._clover_api_request('oauth', 'POST', '/oauth/v2/refresh', payload={
                'client_id': self.identities['app_id'], 'refresh_token': old_refresh,
            })
        self.assertEqual(caught.exception.status, 401)
        self.assertTrue(self.provider._clover_refresh_oauth_token())  # The stored one still works.
        self.assertEqual(self._counters()['refreshes'], 2)

    def test_401_refreshes_and_retries_once(self):
        self._emulator('POST', 'oauth/expire', {})
        self.assertEqual(self._get_merchant()['id'], self.identities['merchant_id'])
        self.assertEqual(self._counters()['refreshes'], 1)
        self.assertEqual(self._calls(f'GET {self._merchant_path()}'), 2)

    def test_second_401_fails_cleanly_after_one_refresh(self):
        merchant_id = self.identities['merchant_id']
        self._emulator('POST', 'permissions', {'merchant_id': merchant_id, 'revoked': True})
        with self.assertRaisesRegex(CloverAPIError, 'reinstall') as caught:
            self._get_merchant()
        self.assertEqual(caught.exception.status, 401)
        self.assertEqual(self._counters()['refreshes'], 1)
        self.assertEqual(self._calls(f'GET {self._merchant_path()}'), 2)

    def test_dead_refresh_token_fails_cleanly(self):
        self.provider.clover_oauth_refresh_token = 'not-a-refresh-token'
        self._expire_soon(-10)
        with self.assertRaises(CloverAPIError) as caught:
            self._get_merchant()
        self.assertEqual(caught.exception.status, 401)
        self.assertEqual(self._calls(f'GET {self._merchant_path()}'), 0)

    def test_no_refresh_token_asks_to_reconnect(self):
        self.provider.clover_oauth_refresh_token = False
        self._expire_soon(-10)
        with self.assertRaisesRegex(CloverAPIError, 'Reconnect'):
            self._get_merchant()
        self.assertEqual(self._counters()['refreshes'], 0)

    # === Logs === #

    def test_no_secret_reaches_the_logs(self):
        self.provider.clover_api_key = self.identities['private_key']
        self._expire_soon(10)
        with self.assertLogs('odoo.addons', level='DEBUG') as logs:
            self.provider._clover_api_request('ecommerce', 'GET', '/pakms/apikey')
            exchanged = self.provider._clover_api_request('oauth', 'POST', '/oauth/v2/token', payload={
                'client_id': self.identities['app_id'], 'client_secret': self.identities['app_secret'],
                'code': self._emulator('POST', 'oauth/codes', {})['code'],
            })
        self.provider.invalidate_recordset()
        output = '\n'.join(logs.output)
        self.assertIn('/pakms/apikey', output)  # The calls were logged...
        secrets = {
            'access token': self.provider.clover_oauth_access_token,
            'refresh token': self.provider.clover_oauth_refresh_token,
            'app secret': self.identities['app_secret'],
            'PAKMS key': self.identities['pakms_key'],
            'exchanged access token': exchanged['access_token'],
            'exchanged refresh token': exchanged['refresh_token'],
        }
        for name, secret in secrets.items():
            with self.subTest(secret=name):
                self.assertNotIn(secret, output)  # ...without what they carried.

    def test_a_refresh_without_a_new_refresh_token_keeps_the_stored_one(self):
        stored_refresh = self.provider.clover_oauth_refresh_token
        answer = self._emulator('POST', 'oauth/issue', {
            'merchant_id': self.identities['merchant_id'], 'no_refresh_token': True,
        })
        self.assertNotIn('refresh_token', answer)
        self._emulator('POST', 'faults', {'path': '/oauth/v2/refresh', 'status': 200, 'body': answer})
        self._expire_soon(30)

        self._get_merchant()

        self.provider.invalidate_recordset()
        self.assertEqual(self.provider.clover_oauth_access_token, answer['access_token'])
        self.assertEqual(self.provider.clover_oauth_refresh_token, stored_refresh)

    def test_a_refresh_that_fails_sends_nothing_and_is_no_unknown_outcome(self):
        self._emulator('POST', 'faults', {'path': '/oauth/v2/refresh', 'status': 503, 'count': 1})
        self._expire_soon(-10)
        with self.assertRaisesRegex(CloverAPIError, 'nothing was sent') as caught:
            self.provider._clover_api_request('ecommerce', 'GET', '/v1/charges')
        self.assertFalse(caught.exception.outcome_unknown)
        self.assertEqual(self._calls('GET /v1/charges'), 0)

    # === Cursors === #

    def _count_cursors(self):
        """Count the cursors Odoo opens besides the test's (the spy changes nothing they do)."""
        registry = self.env.registry
        return patch.object(registry, 'cursor', side_effect=registry.cursor)

    def test_calls_without_oauth_open_no_other_cursor(self):
        legacy = self._legacy_token()
        cases = (('private key', {'clover_api_key': self.identities['private_key']}),
                 ('legacy token', {'clover_rest_api_token': legacy}))
        for name, credential in cases:
            with self.subTest(credential=name):
                self.provider.write({
                    **self.provider._clover_disconnected_values(),
                    'clover_merchant_id': self.identities['merchant_id'], **credential,
                })
                with self._count_cursors() as cursor:
                    self._get_merchant()
                    self._get_merchant()
                self.assertEqual(cursor.call_count, 0)

    def test_a_fresh_oauth_token_opens_no_other_cursor_and_a_refresh_one_only(self):
        with self._count_cursors() as cursor:
            self._get_merchant()
        self.assertEqual(cursor.call_count, 0)
        self._expire_soon(30)
        with self._count_cursors() as cursor:
            for _call in range(3):
                self._get_merchant()
        self.assertEqual(cursor.call_count, 1)  # The refresh's; the next calls use its token.
        self.assertEqual(self._counters()['refreshes'], 1)

    # === Logs: Clover's error codes stay readable === #

    def test_clover_error_codes_are_logged_and_the_authorization_code_is_not(self):
        with self.assertLogs('odoo.addons', level='DEBUG') as logs, \
                self.assertRaises(CloverAPIError) as caught:
            self.provider._clover_api_request('ecommerce', 'GET', '/v1/charges/NOSUCHCHARGE1')
        output = '\n'.join(logs.output)
        self.assertTrue(caught.exception.code)
        self.assertIn(f'"code": "{caught.exception.code}"', output)

        code = self._emulator('POST', 'oauth/codes', {})['code']
        with self.assertLogs('odoo.addons', level='DEBUG') as logs:
            self.provider._clover_api_request('oauth', 'POST', '/oauth/v2/token', payload={
                'client_id': self.identities['app_id'], 'client_secret': self.identities['app_secret'],
                'code': code,
            })
        self.assertNotIn(code, '\n'.join(logs.output))
