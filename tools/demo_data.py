# Sample data for the demo, run by tools/demo.sh through `odoo-bin shell` (which provides `env`).
# Idempotent: a second run finds what the first created.
import os

import requests

EMULATOR_URL = os.environ['FUSION_CLOVER_EMULATOR_URL']


def demo_customer():
    partner = env['res.partner'].search([('email', '=', 'jordan.rivera@example.com')], limit=1)
    return partner or env['res.partner'].create({
        'name': "Jordan Rivera",
        'email': 'jordan.rivera@example.com',
        'street': "120 Harbor Street",
        'city': "Portland",
        'zip': '97201',
        'state_id': env['res.country.state'].search([('code', '=', 'OR'), ('country_id.code', '=', 'US')]).id,
        'country_id': env.ref('base.us').id,
    })


def demo_invoice(partner):
    invoice = env['account.move'].search([
        ('partner_id', '=', partner.id), ('move_type', '=', 'out_invoice'), ('state', '=', 'posted'),
        ('payment_state', 'in', ('not_paid', 'partial')),
    ], limit=1)
    if invoice:
        return invoice
    invoice = env['account.move'].create({
        'move_type': 'out_invoice',
        'partner_id': partner.id,
        'invoice_line_ids': [
            (0, 0, {'name': "Wheelchair cushion, pressure relief", 'quantity': 2, 'price_unit': 64.50}),
            (0, 0, {'name': "Fitting and adjustment", 'quantity': 1, 'price_unit': 45.00}),
        ],
    })
    invoice.action_post()
    return invoice


def connect_provider():
    """Configure the provider with the emulator's seeded identities and connect it."""
    identities = requests.get(f'{EMULATOR_URL}/_emulator/state', timeout=5).json()
    env['ir.config_parameter'].set_param('fusion_clover.api_base_url', EMULATOR_URL)
    provider = env.ref('fusion_clover.payment_provider_clover')
    provider.write({
        'state': 'test',
        'is_published': True,
        'clover_app_id': identities['app_id'],
        'clover_app_secret': identities['app_secret'],
        'clover_api_key': identities['private_key'],
    })
    code = requests.post(
        f'{EMULATOR_URL}/_emulator/oauth/codes', json={'merchant_id': identities['merchant_id']}, timeout=5,
    ).json()['code']
    provider._clover_complete_connection(identities['merchant_id'], code)
    return provider


customer = demo_customer()
invoice = demo_invoice(customer)
provider = connect_provider()
env.cr.commit()
provider.invalidate_recordset()
print(f"Demo ready: invoice {invoice.name} of {invoice.amount_total} {invoice.currency_id.name} "
      f"for {customer.name}; Clover provider {provider.id} connected to {provider.clover_merchant_name}.")
