# Portal payment benchmark: the server time of one card payment with Clover, from the JSON-RPC
# route the browser calls to the transaction done, beside Odoo's payment_demo doing the same
# payment in the same run.
#
# Run: `bash tools/bench.sh portal_payment` (a throwaway database), or through Odoo's shell on a
# database with fusion_clover and payment_demo installed:
#   ~/.local/share/fusion_clover/venv/bin/python /opt/odoo19/odoo-bin shell -d <db> \
#       --addons-path=<dir holding fusion_clover>,/opt/odoo19/addons,/opt/odoo19/odoo/addons \
#       --no-http < bench/portal_payment.py
# e.g. a database made with `-i fusion_clover,payment_demo --stop-after-init`.
# bench-runner: odoo-shell
#
# Each payment goes through Odoo's whole HTTP stack in this process (Odoo's WSGI application,
# request routing, JSON-RPC dispatch, its own cursor and commit): POST /payment/clover/payment with
# a card token, POST /payment/demo/simulate_payment for the demo, alternately. The transactions
# are created beforehand, as the transaction route would, and the card is tokenized beforehand at
# the emulator, as Clover's iframe does in the browser: neither is server time of the payment.
# Clover runs as the local emulator in this process; the time Odoo waits for its answers is
# measured around the choke point's HTTP call and reported apart. The script commits two providers
# of its own and their transactions, and removes them afterwards.
import json
import statistics
import time

import requests
from werkzeug.test import Client

from odoo import SUPERUSER_ID, api, http
from odoo.addons.fusion_clover import const
from odoo.addons.fusion_clover.emulator import running_emulator
from odoo.addons.fusion_clover.models import payment_provider as clover_provider_module
from odoo.addons.fusion_clover.tests.common import APPROVED_VISA
from odoo.addons.payment import utils as payment_utils

PAYMENTS = 200  # Of each provider, after the warm-up.
WARM_UP = 10
registry = env.registry  # noqa: F821 - provided by `odoo-bin shell`
DB_NAME = env.cr.dbname  # noqa: F821


def new_env(cr):
    return api.Environment(cr, SUPERUSER_ID, {})


class ClockedRequests:
    """Wraps the `requests.request` the choke point calls, to add up the time spent waiting for
    Clover (the emulator). Nothing is changed in what is sent or answered."""

    def __init__(self, request):
        self.request = request
        self.elapsed = 0.0

    def __call__(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return self.request(*args, **kwargs)
        finally:
            self.elapsed += time.perf_counter() - started


def prepare(emu):
    """Commit a connected Clover provider, a demo provider and a customer; return their ids."""
    identities = requests.get(f'{emu.base_url}/_emulator/state', timeout=10).json()
    token_data = requests.post(f'{emu.base_url}/_emulator/oauth/issue', json={}, timeout=10).json()
    with registry.cursor() as cr:
        bench_env = new_env(cr)
        bench_env['ir.config_parameter'].set_param(const.API_BASE_URL_PARAM, emu.base_url)
        clover = bench_env.ref('fusion_clover.payment_provider_clover').copy({
            'name': "Clover (benchmark)", 'state': 'test', 'is_published': True,
            'clover_app_id': identities['app_id'], 'clover_app_secret': identities['app_secret'],
            'clover_merchant_id': identities['merchant_id'],
            'clover_pakms_key': identities['pakms_key'],
            **bench_env['payment.provider']._clover_token_values(token_data),
        })
        demo = bench_env.ref('payment.payment_provider_demo').copy({
            'name': "Demo (benchmark)", 'state': 'test', 'is_published': True,
        })
        partner = bench_env['res.partner'].create({
            'name': "Benchmark Customer", 'email': 'bench.customer@example.com',
        })
        return {
            'clover': clover.id, 'demo': demo.id, 'partner': partner.id,
            'currency': bench_env.ref('base.USD').id,
            'card': bench_env.ref('payment.payment_method_card').id,
            'pakms_key': identities['pakms_key'],
        }


def create_transaction(ids, provider_key, index):
    """Commit a draft transaction, as `/payment/transaction` does; return its reference and the
    access token the browser receives with it."""
    with registry.cursor() as cr:
        bench_env = new_env(cr)
        tx = bench_env['payment.transaction'].create({
            'provider_id': ids[provider_key], 'payment_method_id': ids['card'],
            'amount': 42.0 + index / 100, 'currency_id': ids['currency'],
            'partner_id': ids['partner'], 'operation': 'online_direct',
            'reference': f'BENCH-{provider_key}-{time.time_ns()}',
        })
        return tx.reference, payment_utils.generate_access_token(
            tx.reference, tx.partner_id.id, env=bench_env,
        )


def card_token(emu, pakms_key):
    """Tokenize the test card at Clover, as the iframe does in the browser."""
    return requests.post(
        f'{emu.base_url}/v1/tokens', headers={'apikey': pakms_key}, timeout=10,
        json={'card': {'number': APPROVED_VISA, 'exp_month': '12', 'exp_year': '2031', 'cvv': '123'}},
    ).json()['id']


def call_route(client, route, params):
    started = time.perf_counter()
    response = client.post(
        route, headers={'X-Odoo-Database': DB_NAME},
        json={'jsonrpc': '2.0', 'method': 'call', 'id': 1, 'params': params},
    )
    elapsed = time.perf_counter() - started
    body = json.loads(response.get_data())
    if 'error' in body:
        raise RuntimeError(f"{route} failed: {body['error']}")
    return elapsed


def tx_state(reference):
    with registry.cursor() as cr:
        return new_env(cr)['payment.transaction'].search([('reference', '=', reference)]).state


def pay_with_clover(client, emu, ids, clock, index):
    reference, access_token = create_transaction(ids, 'clover', index)
    token = card_token(emu, ids['pakms_key'])
    waited_before = clock.elapsed
    elapsed = call_route(client, '/payment/clover/payment', {
        'reference': reference, 'access_token': access_token, 'card_token': token,
    })
    return reference, elapsed, clock.elapsed - waited_before


def pay_with_demo(client, ids, index):
    reference, _access_token = create_transaction(ids, 'demo', index)
    elapsed = call_route(client, '/payment/demo/simulate_payment', {
        'reference': reference, 'payment_details': '4242', 'simulated_state': 'done',
    })
    return reference, elapsed


def clean_up(ids):
    with registry.cursor() as cr:
        bench_env = new_env(cr)
        providers = bench_env['payment.provider'].browse([ids['clover'], ids['demo']])
        bench_env['payment.transaction'].search([('provider_id', 'in', providers.ids)]).unlink()
        providers.unlink()
        bench_env['res.partner'].browse(ids['partner']).unlink()
        bench_env['ir.config_parameter'].set_param(const.API_BASE_URL_PARAM, False)


def describe(label, seconds):
    ms = sorted(s * 1000 for s in seconds)
    return (f"  {label:<34} median {statistics.median(ms):6.2f} ms   p90 {ms[int(len(ms) * 0.9)]:6.2f} ms"
            f"   mean {statistics.mean(ms):6.2f} ms")


def main():
    clock = ClockedRequests(clover_provider_module.requests.request)
    clover_provider_module.requests.request = clock
    client = Client(http.root)
    with running_emulator(port=0) as emu:
        ids = prepare(emu)
        try:
            clover_total, clover_waited, demo_total = [], [], []
            for index in range(WARM_UP + PAYMENTS):
                reference, elapsed, waited = pay_with_clover(client, emu, ids, clock, index)
                assert tx_state(reference) == 'done', reference
                demo_reference, demo_elapsed = pay_with_demo(client, ids, index)
                assert tx_state(demo_reference) == 'done', demo_reference
                if index >= WARM_UP:
                    clover_total.append(elapsed)
                    clover_waited.append(waited)
                    demo_total.append(demo_elapsed)
            charges = requests.get(f'{emu.base_url}/_emulator/counters', timeout=10).json()['charges_created']
        finally:
            clover_provider_module.requests.request = clock.request
            clean_up(ids)
    clover_own = [total - waited for total, waited in zip(clover_total, clover_waited, strict=True)]
    ratio_own = statistics.median(clover_own) / statistics.median(demo_total)
    ratio_total = statistics.median(clover_total) / statistics.median(demo_total)
    print(f"\nPortal card payment, JSON-RPC route to transaction done: {PAYMENTS} payments each "
          f"(after {WARM_UP} warm-up), alternating, one process, Odoo's WSGI stack, local emulator")
    print(describe("Clover /payment/clover/payment", clover_total))
    print(describe("  of which waiting for Clover", clover_waited))
    print(describe("  Odoo's own time (route - Clover)", clover_own))
    print(describe("payment_demo /simulate_payment", demo_total))
    print(f"  Clover charges made: {charges} for {WARM_UP + PAYMENTS} payments")
    print(f"  ratio Clover / demo, Odoo's own time: {ratio_own:.2f}x (target <= 1.5x)")
    print(f"  ratio Clover / demo, with the emulator's latency: {ratio_total:.2f}x")
    # The lines tools/bench.sh gathers into its table.
    print(f"RESULT | portal payment, Clover / payment_demo, Odoo's own time | {ratio_own:.2f}x | <= 1.5x"
          f" | {'met' if ratio_own <= 1.5 else 'missed'}")
    print(f"RESULT | portal payment, Clover / payment_demo, with emulator | {ratio_total:.2f}x | - | info")
    for label, seconds in (("Clover", clover_total), ("payment_demo", demo_total)):
        print(f"RESULT | portal payment, {label} route, median | {statistics.median(seconds) * 1000:.2f} ms"
              f" | - | info")
    print(f"RESULT | portal payment, Clover charges per payment | {charges} for {WARM_UP + PAYMENTS} | "
          f"{WARM_UP + PAYMENTS} | {'met' if charges == WARM_UP + PAYMENTS else 'missed'}")


main()
