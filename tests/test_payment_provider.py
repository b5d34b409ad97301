import json

from odoo.fields import Command
from odoo.tests import tagged

from odoo.addons.fusion_clover.tests.common import CloverPaymentCommon


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
