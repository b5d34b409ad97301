from odoo.exceptions import AccessError
from odoo.tests import tagged

from odoo.addons.payment.tests.common import PaymentCommon


@tagged('post_install', '-at_install')
class TestCloverProvider(PaymentCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.provider = cls.env.ref('fusion_clover.payment_provider_clover')
        cls.clover_user = cls._create_new_internal_user(
            login='clover_clerk', groups='base.group_user,fusion_clover.group_fusion_clover_user',
        )

    def test_provider_record_is_created_disabled_with_clover_methods(self):
        self.assertEqual(self.provider.code, 'clover')
        self.assertEqual(self.provider.state, 'disabled')
        self.assertFalse(self.provider.is_published)
        self.assertEqual(self.provider.module_id.name, 'fusion_clover')
        self.assertTrue(self.provider.image_128)
        methods = self.provider.with_context(active_test=False).payment_method_ids
        self.assertEqual(methods.mapped('code'), ['card'])  # Brands come with Card.
        self.assertLessEqual(
            {'visa', 'mastercard', 'amex', 'discover', 'diners', 'jcb'},
            set(methods.with_context(active_test=False).brand_ids.mapped('code')),
        )

    def test_feature_support(self):
        self.assertTrue(self.provider.support_tokenization)
        self.assertEqual(self.provider.support_manual_capture, 'full_only')
        self.assertEqual(self.provider.support_refund, 'partial')

    def test_supported_currencies_are_usd_and_cad(self):
        self.assertEqual(
            set(self.provider._get_supported_currencies().mapped('name')), {'USD', 'CAD'},
        )

    def test_secrets_readable_by_system_admins_only(self):
        self.provider.write({'clover_app_secret': 'app-s3cret', 'clover_api_key': 'priv-key'})
        self.provider.env.flush_all()
        as_clerk = self.provider.with_user(self.clover_user)
        self.assertEqual(as_clerk.clover_app_id, self.provider.clover_app_id)  # Not a secret.
        for field in ('clover_app_secret', 'clover_oauth_access_token', 'clover_oauth_refresh_token',
                      'clover_rest_api_token', 'clover_api_key'):
            with self.subTest(field=field), self.assertRaises(AccessError):
                as_clerk.read([field])
        as_admin = self.provider.with_user(self.admin_user)
        self.assertEqual(as_admin.clover_app_secret, 'app-s3cret')
        self.assertEqual(as_admin.clover_api_key, 'priv-key')

    def test_secrets_are_not_copied(self):
        self.provider.write({'clover_app_secret': 'app-s3cret', 'clover_merchant_id': 'MID1'})
        copy = self.provider.copy()
        self.assertFalse(copy.clover_app_secret)
        self.assertFalse(copy.clover_merchant_id)

    def test_groups_and_implications(self):
        user_group = self.env.ref('fusion_clover.group_fusion_clover_user')
        admin_group = self.env.ref('fusion_clover.group_fusion_clover_admin')
        privilege = self.env.ref('fusion_clover.res_groups_privilege_fusion_clover')
        self.assertEqual(user_group.privilege_id, privilege)
        self.assertEqual(admin_group.privilege_id, privilege)
        self.assertIn(user_group, admin_group.implied_ids)
        self.assertIn(self.env.ref('base.group_user'), user_group.implied_ids)
        self.assertIn(admin_group, self.env.ref('base.group_system').implied_ids)
        self.assertTrue(self.admin_user.has_group('fusion_clover.group_fusion_clover_admin'))
        self.assertTrue(self.clover_user.has_group('fusion_clover.group_fusion_clover_user'))
        self.assertFalse(self.clover_user.has_group('fusion_clover.group_fusion_clover_admin'))

    def test_removal_values_reset_the_provider_like_odoo_providers(self):
        self.provider.write({
            'state': 'test', 'clover_app_id': 'APP', 'clover_app_secret': 's',
            'clover_merchant_id': 'MID1', 'clover_oauth_access_token': 'a',
            'clover_oauth_refresh_token': 'r', 'clover_api_key': 'k',
        })
        self.env['payment.provider']._remove_provider('clover')
        self.assertEqual(self.provider.code, 'none')
        self.assertEqual(self.provider.state, 'disabled')
        self.assertFalse(self.provider.is_published)
        for field in ('clover_app_id', 'clover_app_secret', 'clover_merchant_id',
                      'clover_oauth_access_token', 'clover_oauth_refresh_token', 'clover_api_key'):
            self.assertFalse(self.provider[field], field)

    def test_open_clover_provider_from_settings(self):
        action = self.env['res.config.settings'].create({}).open_clover_provider()
        self.assertEqual(action['res_model'], 'payment.provider')
        self.assertEqual(action['res_id'], self.provider.id)
