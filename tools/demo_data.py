# Sample data for the demo, run by tools/demo.sh through `odoo-bin shell` (which provides `env`).
# Idempotent: a second run finds what the first created.
# Each feature has one function here that creates its sample data and says, with `try_this`, how a
# person tries it; tools/demo.sh prints those lines, in the order of the calls at the bottom, once
# Odoo is up.
import os

import requests

from odoo.addons.fusion_clover.tests.common import APPROVED_VISA

EMULATOR_URL = os.environ['FUSION_CLOVER_EMULATOR_URL']
ODOO_URL = os.environ.get('FUSION_CLOVER_DEMO_ODOO_URL', 'http://127.0.0.1:8069')
TRY_FILE = os.environ.get('FUSION_CLOVER_DEMO_TRY_FILE')


def try_this(what, where, *details):
    """Add an entry to the demo's "what to try" list: what to do, where (a path on Odoo such as
    '/odoo/...', or a full URL), then optional lines of detail (test cards, the button to press).
    Written at once, so an entry survives whatever a later function does."""
    url = where if where.startswith('http') else f'{ODOO_URL}{where}'
    lines = [f'  - {what}', f'      {url}', *(f'      {detail}' for detail in details)]
    if TRY_FILE:
        with open(TRY_FILE, 'a', encoding='utf-8') as try_file:
            try_file.write('\n'.join(lines) + '\n')


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


def try_connection(provider):
    try_this(
        "Test the connection, or Disconnect then Connect to Clover again (the emulator's authorize page)",
        f'/odoo/action-payment.action_payment_provider/{provider.id}',
        "buttons on the provider's Credentials tab: Test Connection, Disconnect, Connect to Clover",
    )


def try_portal_payment(invoice):
    try_this(
        f"Pay the demo invoice {invoice.name} ({invoice.amount_total:.2f} {invoice.currency_id.name}) "
        "by card in the portal: Pay Now, then Clover",
        invoice.get_portal_url(),
        "card 4242 4242 4242 4242, any future expiry, any CVV, ZIP 97201; "
        "4264 2815 1111 7771 is declined",
    )
    try_this(
        "See what Odoo asked Clover: the emulator's counters (charges, refreshes, every call)",
        f'{EMULATOR_URL}/_emulator/counters',
    )


def demo_collect(provider, invoice):
    """Get the back office ready to collect the demo invoice: a bank journal for the provider, the
    emulator's terminals, a 3 % + 0.30 card surcharge clerks may waive."""
    if not provider.journal_id:
        provider.journal_id = env['account.journal'].search([
            ('type', '=', 'bank'), ('company_id', '=', provider.company_id.id),
        ], limit=1)
    if not provider.clover_terminal_ids:
        provider.action_clover_sync_terminals()
    provider.company_id.write({
        'clover_surcharge_enabled': True,
        'clover_surcharge_rate': 3.0,
        'clover_surcharge_fixed': 0.30,
        'clover_surcharge_waivable': True,
    })
    try_this(
        f"Collect the demo invoice {invoice.name} in the back office: Collect Clover Payment, "
        "on a terminal or by keyed card (the dialog shows the 3 % + 0.30 surcharge first)",
        f'/odoo/account.move/{invoice.id}',
        "Terminal: Send to the terminal; the emulated customer taps after 1 s (script a decline: "
        f"POST {EMULATOR_URL}/_emulator/terminal/outcome {{\"device\": \"C045UQ20000001\", "
        "\"outcome\": \"decline\"})",
        "Keyed card: 4242 4242 4242 4242, any future expiry, any CVV; 4264 2815 1111 7771 is declined",
    )


def try_refund(provider, partner):
    """A demo invoice paid by card through Clover, and a posted credit note for part of it: the
    credit note is refunded with Clover from its form."""
    credit_note = env['account.move'].search([
        ('partner_id', '=', partner.id), ('move_type', '=', 'out_refund'), ('ref', '=', "Demo return"),
    ], limit=1)
    if not credit_note:
        invoice = env['account.move'].create({
            'move_type': 'out_invoice', 'partner_id': partner.id,
            'invoice_line_ids': [(0, 0, {'name': "Rollator, folding", 'quantity': 1, 'price_unit': 189.00})],
        })
        invoice.action_post()
        card = {'number': APPROVED_VISA, 'exp_month': '12', 'exp_year': '2031', 'cvv': '123'}
        token = requests.post(
            f'{EMULATOR_URL}/v1/tokens', json={'card': card}, timeout=5,
            headers={'apikey': provider.clover_pakms_key},
        ).json()['id']
        tx = env['payment.transaction'].create({
            'provider_id': provider.id, 'partner_id': partner.id, 'amount': invoice.amount_total,
            'currency_id': invoice.currency_id.id, 'operation': 'online_direct',
            'payment_method_id': env.ref('payment.payment_method_card').id,
            'reference': env['payment.transaction']._compute_reference('clover', prefix=invoice.name),
            'invoice_ids': [(6, 0, invoice.ids)],
        })
        tx._clover_pay_with_card_token(token)
        tx._post_process()
        credit_note = invoice._reverse_moves([{'ref': "Demo return"}])
        credit_note.invoice_line_ids.price_unit = 40.00
        credit_note.action_post()
    try_this(
        f"Refund the credit note {credit_note.name} ({credit_note.amount_total:.2f}) with Clover: "
        "the wizard checks Clover first, then the credit note shows paid",
        f'/odoo/action-account.action_move_out_refund_type/{credit_note.id}',
        "button Refund with Clover; the invoice's Clover Refunds button lists the refunds",
    )


def demo_webhooks(provider):
    """Have the emulator deliver its webhooks to this Odoo, with the auth code Odoo checks."""
    identities = requests.get(f'{EMULATOR_URL}/_emulator/state', timeout=5).json()
    provider.clover_webhook_auth_code = identities['webhook_auth_code']
    requests.post(
        f'{EMULATOR_URL}/_emulator/webhooks/config',
        json={'url': f'{ODOO_URL}/payment/clover/webhook'}, timeout=5,
    ).raise_for_status()
    try_this(
        "Deliver Clover's webhooks (the emulator sends them on command), then see the events "
        "Odoo recorded and the transactions they settled",
        '/odoo/action-fusion_clover.action_clover_webhook_event',
        f"curl -X POST -H 'Content-Type: application/json' -d '{{}}' {EMULATOR_URL}/_emulator/webhooks/flush",
        f"the verification code: curl -X POST {EMULATOR_URL}/_emulator/webhooks/verify, "
        "then grep 'VERIFICATION CODE' in Odoo's log",
    )


def try_receipt():
    try_this(
        "Once a payment is made, open its transaction: the gear menu's Print > Clover Receipt, or "
        "Send Receipt (the email waits in the outgoing queue, Settings > Technical > Emails in debug "
        "mode; a refund prints with its original)",
        '/odoo/action-payment.action_payment_transaction',
    )


def demo_terminals(provider):
    """Sync the emulator merchant's two devices as terminals (one default) and say how to use them."""
    provider.action_clover_sync_terminals()
    default = provider.clover_terminal_ids.filtered('is_default')
    try_this(
        "Ping a terminal (payments on it start from an invoice or order): "
        f"Accounting > Configuration > Clover > Terminals (default: {default.name})",
        '/odoo/action-fusion_clover.action_clover_terminals',
        "the emulated customer taps after 1 s and approves; script another outcome (decline, cancel, "
        f"timeout) with POST {EMULATOR_URL}/_emulator/terminal/outcome "
        f"{{\"device\": \"{default.serial_number}\", \"outcome\": \"decline\"}}",
    )


customer = demo_customer()
invoice = demo_invoice(customer)
provider = connect_provider()
try_connection(provider)
try_portal_payment(invoice)
demo_terminals(provider)
demo_collect(provider, invoice)
try_refund(provider, customer)
demo_webhooks(provider)
try_receipt()
# Each feature's call goes above this line: Odoo's shell rolls back what is not committed here.
env.cr.commit()
provider.invalidate_recordset()
print(f"Demo ready: invoice {invoice.name} of {invoice.amount_total} {invoice.currency_id.name} "
      f"for {customer.name}; Clover provider {provider.id} connected to {provider.clover_merchant_name}.")
