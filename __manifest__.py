{
    'name': "Fusion Clover",
    'version': '19.0.1.0.0',
    'category': 'Accounting/Payment Providers',
    'sequence': 360,
    'summary': "Clover payments: hosted iframe checkout, terminals, refunds and webhooks.",
    'author': "Fusion Clover",
    'website': "https://www.clover.com",
    'depends': ['payment', 'account_payment', 'sale'],
    'data': [
        'security/fusion_clover_security.xml',
        'security/ir.model.access.csv',

        'data/clover_surcharge_data.xml',
        'data/clover_terminal_data.xml',

        'views/account_move_views.xml',
        'views/clover_templates.xml',
        'views/clover_terminal_views.xml',
        'views/clover_webhook_event_views.xml',
        'views/payment_clover_templates.xml',
        'views/payment_provider_views.xml',
        'views/payment_transaction_views.xml',
        'views/payment_transaction_receipt_views.xml',
        'views/payment_transaction_refund_views.xml',
        'views/res_config_settings_views.xml',
        'views/sale_order_views.xml',
        'wizard/clover_payment_wizard_views.xml',
        'wizard/clover_refund_wizard_views.xml',

        'report/clover_receipt_report.xml',
        'report/clover_receipt_templates.xml',
        'data/clover_receipt_email_template.xml',

        'data/clover_cron_data.xml',
        # The provider record references the views above: load it last.
        'data/payment_provider_data.xml',
    ],
    'assets': {
        'web.assets_backend': [
            'fusion_clover/static/src/collect/**/*',
        ],
        'web.assets_frontend': [
            'fusion_clover/static/src/interactions/**/*',
        ],
        'web.assets_tests': [
            'fusion_clover/static/tests/tours/**/*',
        ],
    },
    'post_init_hook': 'post_init_hook',
    'uninstall_hook': 'uninstall_hook',
    'license': 'LGPL-3',
}
