import json

from odoo.exceptions import UserError
from odoo.fields import Command
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.fusion_clover.tests.common import CloverPaymentCommon

PROVIDER_LOGGER = 'odoo.addons.fusion_clover.models.payment_provider'


@tagged('post_install', '-at_install')
class TestCloverPaymentProvider(CloverPaymentCommon):
    """What the payment form gets from the provider, and when the provider is offered."""

    def _compatible_providers(self, report=None):
        return self.env['payment.provider']._get_compatible_providers(
            self.company.id, self.partner.id, self.amount, currency_id=self.currency.id, report=report,
        )

    def test_inline_form_values_are_public_values_only(self):
        values = json.loads(self.provider._clover_get_inline_form_values())
        self.assertEqual(values, {
            'pakms_key': self.identities['pakms_key'],
            'merchant_id': self.identities['merchant_id'],
            'sdk_url': f'{self.emulator_url}/sdk.js',
        })
        provider_sudo = self.provider.sudo()
        for secret in (provider_sudo.clover_oauth_access_token, provider_sudo.clover_oauth_refresh_token,
                       provider_sudo.clover_app_secret):
            self.assertNotIn(secret, json.dumps(values))

    def test_inline_form_renders_the_four_card_fields(self):
        html = self.env['ir.qweb']._render('fusion_clover.inline_form', {
            'provider_sudo': self.provider.sudo(), 'pm_sudo': self.payment_method.sudo(),
        })
        for field in ('CARD_NUMBER', 'CARD_DATE', 'CARD_CVV', 'CARD_POSTAL_CODE'):
            self.assertIn(f'id="o_clover_{field}_{self.payment_method.id}"', html)
            self.assertIn(f'data-clover-error="{field}"', html)

    def test_a_provider_without_pakms_key_is_not_offered(self):
        self.assertIn(self.provider, self._compatible_providers())
        self.provider.clover_pakms_key = False
        report = {}
        self.assertNotIn(self.provider, self._compatible_providers(report))
        self.assertFalse(report['providers'][self.provider]['available'])

    def test_manual_capture_can_be_enabled(self):
        self.provider.capture_manually = True
        self.assertTrue(self.provider.capture_manually)
        self.assertTrue(self.env.ref('payment.payment_method_visa').active)

    def test_upgrade_gives_older_providers_the_card_form_and_card_brands_through_card(self):
        visa = self.env.ref('payment.payment_method_visa')
        self.provider.write({
            'inline_form_view_id': False, 'payment_method_ids': [Command.link(visa.id)],
        })
        self.env['payment.provider']._clover_update_existing_providers()
        self.assertEqual(self.provider.inline_form_view_id, self.env.ref('fusion_clover.inline_form'))
        self.assertEqual(self.provider.payment_method_ids, self.payment_method)

    def test_upgrade_keeps_the_brands_an_administrator_attached(self):
        visa = self.env.ref('payment.payment_method_visa')
        self.provider.payment_method_ids = [Command.link(visa.id)]  # The provider has the form.
        self.env['payment.provider']._clover_update_existing_providers()
        self.assertIn(visa, self.provider.payment_method_ids)

    # === Connection === #

    def _disconnect(self):
        self.provider.write(self.provider._clover_disconnected_values())

    def _code(self):
        return self._emulator('POST', 'oauth/codes', {'merchant_id': self.identities['merchant_id']})['code']

    def test_a_private_key_provider_can_test_its_connection_and_fetch_its_pakms_key(self):
        self._disconnect()
        self.provider.write({
            'clover_merchant_id': self.identities['merchant_id'],
            'clover_api_key': self.identities['private_key'],
        })
        self.assertFalse(self.provider.clover_is_connected)
        self.assertTrue(self.provider.clover_has_credential)  # Shows Test Connection.
        self.assertNotIn(self.provider, self._compatible_providers())

        action = self.provider.action_clover_test_connection()

        self.assertIn(self.identities['merchant_name'], action['params']['message'])
        self.assertIn("PAKMS", action['params']['message'])
        self.assertEqual(self.provider.clover_pakms_key, self.identities['pakms_key'])
        self.assertIn(self.provider, self._compatible_providers())
        self._disconnect()
        self.assertFalse(self.provider.clover_has_credential)

    @mute_logger(PROVIDER_LOGGER)
    def test_a_connect_whose_pakms_fetch_fails_says_what_succeeded_and_what_to_retry(self):
        self._disconnect()
        self._emulator('POST', 'faults', {'path': '/pakms/apikey', 'status': 500, 'count': 1})

        # Not assertRaises: its savepoint would undo what the connection committed.
        try:
            self.provider._clover_complete_connection(self.identities['merchant_id'], self._code())
        except UserError as error:
            message = str(error)
        else:
            self.fail("The connection did not say it is incomplete.")
        self.assertIn(self.identities['merchant_id'], message)
        self.assertIn("tokens are stored", message)
        self.assertIn("Test Connection", message)
        self.assertNotIn("refused the connection", message)
        self.assertTrue(self.provider.clover_is_connected)
        self.assertFalse(self.provider.clover_pakms_key)
        self.assertNotIn(self.provider, self._compatible_providers())

        self.provider.action_clover_test_connection()  # The retry the message names.

        self.assertEqual(self.provider.clover_pakms_key, self.identities['pakms_key'])
        self.assertEqual(self.provider.clover_merchant_name, self.identities['merchant_name'])
        self.assertIn(self.provider, self._compatible_providers())
        self.assertEqual(self._counters()['token_exchanges'], 1)

    def test_a_reconnect_replaces_the_refresh_token_of_the_previous_connection(self):
        self.provider.clover_oauth_refresh_token = 'from-the-previous-connection'
        legacy_code = self._emulator('POST', 'oauth/codes', {
            'merchant_id': self.identities['merchant_id'], 'legacy': True,
        })['code']
        with mute_logger(PROVIDER_LOGGER):
            self.provider._clover_exchange_oauth_code(legacy_code)
        self.assertTrue(self.provider.clover_oauth_access_token)
        self.assertFalse(self.provider.clover_oauth_refresh_token)
