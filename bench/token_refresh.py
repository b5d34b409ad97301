# Token-freshness benchmark: a refresh storm and corrupt credentials, against the local emulator.
#
# Run: `bash tools/bench.sh token_refresh` (a throwaway database), or through Odoo's shell on a
# database with fusion_clover installed (the demo's will do):
#   ~/.local/share/fusion_clover/venv/bin/python /opt/odoo19/odoo-bin shell -d fusion_clover_demo \
#       --addons-path=<dir holding fusion_clover>,/opt/odoo19/addons,/opt/odoo19/odoo/addons \
#       --no-http --db_maxconn=128 < bench/token_refresh.py
# (32 threads of one process each hold a cursor and, while refreshing, a second one: the default pool of
# 64 connections is too small for that. Prefork workers each hold at most two.)
# bench-runner: odoo-shell --db_maxconn=128
# It commits a provider of its own for the run and removes it afterwards; loopback only, bounded.
import statistics
import threading
import time

import requests

from odoo import SUPERUSER_ID, api
from odoo.addons.fusion_clover import const
from odoo.addons.fusion_clover.emulator import running_emulator
from odoo.addons.fusion_clover.models.payment_provider import CloverAPIError

STORM_CALLERS = 32
REPEATS = 5
registry = env.registry  # noqa: F821 - provided by `odoo-bin shell`


def new_env(cr):
    return api.Environment(cr, SUPERUSER_ID, {})


def control(emu, method, route, payload=None):
    return requests.request(method, f'{emu.base_url}/_emulator/{route}', json=payload, timeout=10).json()


def prepare_provider(emu, identities):
    with registry.cursor() as cr:
        bench_env = new_env(cr)
        bench_env['ir.config_parameter'].set_param(const.API_BASE_URL_PARAM, emu.base_url)
        provider = bench_env.ref('fusion_clover.payment_provider_clover').copy({
            'name': "Clover (benchmark)", 'state': 'test',
            'clover_app_id': identities['app_id'], 'clover_app_secret': identities['app_secret'],
            'clover_merchant_id': identities['merchant_id'],
        })
        return provider.id


def store_tokens(provider_id, values, expired):
    with registry.cursor() as cr:
        provider = new_env(cr)['payment.provider'].browse(provider_id)
        provider.write(values)
        provider.flush_recordset()
        if expired:
            cr.execute("UPDATE payment_provider SET clover_oauth_token_expiry = now() at time zone 'utc'"
                       " - interval '1 hour' WHERE id = %s", [provider_id])


def call_merchant(provider_id, merchant_id):
    with registry.cursor() as cr:
        provider = new_env(cr)['payment.provider'].browse(provider_id)
        provider._clover_api_request('platform', 'GET', f'/v3/merchants/{merchant_id}')


def refresh_storm(emu, identities, provider_id):
    control(emu, 'POST', 'reset')
    token_data = control(emu, 'POST', 'oauth/issue', {'merchant_id': identities['merchant_id']})
    store_tokens(provider_id, env['payment.provider']._clover_token_values(token_data), expired=True)  # noqa: F821
    failures, barrier = [], threading.Barrier(STORM_CALLERS)

    def caller():
        barrier.wait(timeout=10)
        try:
            call_merchant(provider_id, identities['merchant_id'])
        except Exception as error:  # noqa: BLE001 - counted as a failure.
            failures.append(repr(error))

    threads = [threading.Thread(target=caller) for _ in range(STORM_CALLERS)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    wall = time.perf_counter() - start
    for failure in sorted(set(failures)):
        print(f"  failure: {failure}")
    return control(emu, "GET", "counters")["refreshes"], len(failures), wall


def corrupt_credentials(emu, identities, provider_id):
    control(emu, 'POST', 'reset')
    store_tokens(provider_id, {
        'clover_oauth_access_token': 'corrupt-access-token',
        'clover_oauth_refresh_token': 'corrupt-refresh-token',
        'clover_oauth_token_expiry': '2099-01-01 00:00:00',
    }, expired=False)
    start = time.perf_counter()
    try:
        call_merchant(provider_id, identities['merchant_id'])
        outcome = "succeeded (unexpected)"
    except CloverAPIError as error:
        outcome = f"clean failure, HTTP {error.status}"
    elapsed = time.perf_counter() - start
    counters = control(emu, 'GET', 'counters')
    calls = sum(counters['calls'].values())
    return outcome, elapsed, calls, counters['calls'].get('POST /oauth/v2/refresh', 0)


def main():
    with running_emulator(port=0) as emu:
        identities = control(emu, 'GET', 'state')
        provider_id = prepare_provider(emu, identities)
        try:
            storms = [refresh_storm(emu, identities, provider_id) for _ in range(REPEATS)]
            corrupt = [corrupt_credentials(emu, identities, provider_id) for _ in range(REPEATS)]
        finally:
            with registry.cursor() as cr:
                new_env(cr)['payment.provider'].browse(provider_id).unlink()
                new_env(cr)['ir.config_parameter'].set_param(const.API_BASE_URL_PARAM, False)

    print(f"\nRefresh storm: {STORM_CALLERS} concurrent callers, expired token, {REPEATS} runs")
    print(f"  refreshes performed per run: {[s[0] for s in storms]}  (target: exactly 1)")
    print(f"  failures per run:            {[s[1] for s in storms]}  (target: 0)")
    print(f"  wall time: median {statistics.median(s[2] for s in storms) * 1000:.0f} ms, "
          f"max {max(s[2] for s in storms) * 1000:.0f} ms")
    print(f"\nCorrupt credentials (garbage access and refresh tokens), {REPEATS} runs")
    print(f"  outcome: {corrupt[0][0]}")
    print(f"  Clover calls until failure: {[c[2] for c in corrupt]}"
          f" (refresh attempts: {[c[3] for c in corrupt]})  (target: one refresh, at most two calls)")
    print(f"  time to clean failure: median {statistics.median(c[1] for c in corrupt) * 1000:.1f} ms, "
          f"max {max(c[1] for c in corrupt) * 1000:.1f} ms  (target: well under 100 ms)")
    print_results(storms, corrupt)


def print_results(storms, corrupt):
    """The lines tools/bench.sh gathers into its table: the worst run decides each verdict."""
    refreshes = [s[0] for s in storms]
    failures = [s[1] for s in storms]
    calls, attempts = [c[2] for c in corrupt], [c[3] for c in corrupt]
    slowest = max(c[1] for c in corrupt) * 1000
    clean = all(c[0].startswith('clean failure') for c in corrupt)
    verdict = {True: 'met', False: 'missed'}
    print(f"RESULT | refresh storm ({STORM_CALLERS} callers), refreshes per run | {refreshes} | 1"
          f" | {verdict[set(refreshes) == {1}]}")
    print(f"RESULT | refresh storm ({STORM_CALLERS} callers), failures per run | {failures} | 0"
          f" | {verdict[set(failures) == {0}]}")
    wall = statistics.median(s[2] for s in storms) * 1000
    print(f"RESULT | refresh storm, wall time, median | {wall:.0f} ms | - | info")
    print(f"RESULT | corrupt credentials, clean failure | {corrupt[0][0]} | clean failure | {verdict[clean]}")
    print(f"RESULT | corrupt credentials, Clover calls until failure | max {max(calls)} | <= 2"
          f" | {verdict[max(calls) <= 2 and set(attempts) == {1}]}")
    print(f"RESULT | corrupt credentials, time to clean failure, max | {slowest:.1f} ms | < 100 ms"
          f" | {verdict[slowest < 100]}")


main()
