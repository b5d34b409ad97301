# Webhook ingest benchmark: how many Clover webhook events a real Odoo server records per second,
# how many forged webhooks it refuses per second, and what the flood does to /web/login.
#
# Run: `bash tools/bench.sh webhook_ingest` (a throwaway database; see the README, "Benchmarks").
# Alone, on a database with fusion_clover installed and an Odoo config file naming it:
#   FUSION_CLOVER_BENCH_DB=<db> FUSION_CLOVER_BENCH_CONFIG=<odoo.conf> \
#   FUSION_CLOVER_ODOO=/opt/odoo19 FUSION_CLOVER_PY=~/.local/share/fusion_clover/venv/bin/python \
#       ~/.local/share/fusion_clover/venv/bin/python bench/webhook_ingest.py
# bench-runner: python
#
# It starts `odoo-bin --workers 2` on free loopback ports (no cron thread: only intake is
# measured, processing waits), gives the database's Clover provider a merchant id and a webhook
# auth code, then, for a bounded time each, floods POST /payment/clover/webhook from client
# threads (Odoo's prefork workers close each connection after the answer, so every request
# connects anew): valid firehose bodies (every event new), then bodies with a wrong
# X-Clover-Auth. Meanwhile one more client times GET /web/login, compared with the same page on
# the idle server. Last, the same clients flood GET /web/health, Odoo's own route that does
# nothing: what Odoo's HTTP stack serves at most here, the ceiling of any webhook rate. The
# server's own CPU time per request (its process group's, from /proc, the login timer's share
# taken out) is printed too: unlike the rates, it does not depend on what else loads the
# machine. Everything is loopback; the server, its events and the provider's values are removed
# or restored at the end.
import http.client
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path

import psycopg2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _stack as stack  # noqa: E402

DB = os.environ['FUSION_CLOVER_BENCH_DB']
CONFIG = os.environ['FUSION_CLOVER_BENCH_CONFIG']
TMP = Path(os.environ.get('FUSION_CLOVER_BENCH_TMP', '/tmp'))

ROUTE = '/payment/clover/webhook'
MERCHANT_ID = 'BENCHMERCHANT1'
AUTH_CODE = 'bench-webhook-auth-code-0123456789'
CLIENTS = 8              # Concurrent webhook senders.
FLOOD_SECONDS = 8.0      # Each flood stops after this long...
FLOOD_MAX_REQUESTS = 20000  # ...or this many requests, whichever comes first.
LOGIN_SAMPLES_IDLE = 40
BATCH_EVENTS = 25        # Events per POST in the batched run (Clover batches).
TARGET_EVENTS = 300
TARGET_FORGED = 1000


def group_cpu_seconds(pgid):
    """CPU time (user + system) used so far by the live processes of a process group: the Odoo
    server's own cost of the requests, whatever else loads the machine."""
    total = 0
    for stat in Path('/proc').glob('[0-9]*/stat'):
        try:
            fields = stat.read_text().rsplit(')', 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # Fields after the name: state, ppid, pgrp, ...
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf('SC_CLK_TCK')


def request(connection, method, path, body=None, headers=None):
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    response.read()
    return response.status, response


class Provider:
    """The Clover provider of the bench database, given a merchant and an auth code for the run."""

    def __init__(self):
        self.connection = psycopg2.connect(dbname=DB)
        self.connection.autocommit = True
        with self.connection.cursor() as cr:
            cr.execute("SELECT id, state, clover_merchant_id, clover_webhook_auth_code "
                       "FROM payment_provider WHERE code = 'clover' ORDER BY id LIMIT 1")
            self.id, *self.saved = cr.fetchone()
            cr.execute("UPDATE payment_provider SET state = 'test', clover_merchant_id = %s, "
                       "clover_webhook_auth_code = %s WHERE id = %s", [MERCHANT_ID, AUTH_CODE, self.id])

    def events(self):
        with self.connection.cursor() as cr:
            cr.execute("SELECT count(*) FROM clover_webhook_event WHERE provider_id = %s", [self.id])
            return cr.fetchone()[0]

    def restore(self):
        with self.connection.cursor() as cr:
            cr.execute("DELETE FROM clover_webhook_event WHERE provider_id = %s", [self.id])
            cr.execute("DELETE FROM ir_cron_trigger WHERE cron_id IN (SELECT res_id FROM ir_model_data "
                       "WHERE module = 'fusion_clover' AND model = 'ir.cron')")
            cr.execute("UPDATE payment_provider SET state = %s, clover_merchant_id = %s, "
                       "clover_webhook_auth_code = %s WHERE id = %s", [*self.saved, self.id])
        self.connection.close()


class Flood:
    """CLIENTS threads POSTing bodies from `make_body(client, n)` (or GETting `path` when there is
    no body) until the time or count bound; one more thread times /web/login meanwhile."""

    def __init__(self, port, make_body, auth, path=ROUTE):
        self.port, self.make_body, self.auth, self.path = port, make_body, auth, path
        self.statuses = {}
        self.sent = 0
        self.lock = threading.Lock()
        self.login_times = []

    def run(self):
        self.stop_at = time.monotonic() + FLOOD_SECONDS
        threads = [threading.Thread(target=self._send, args=(i,)) for i in range(CLIENTS)]
        login = threading.Thread(target=self._time_login)
        started = time.monotonic()
        for thread in (*threads, login):
            thread.start()
        for thread in threads:
            thread.join()
        self.elapsed = time.monotonic() - started
        login.join()
        return self

    def _take(self):
        with self.lock:
            if self.sent >= FLOOD_MAX_REQUESTS or time.monotonic() >= self.stop_at:
                return None
            self.sent += 1
            return self.sent

    def _send(self, client):
        connection = http.client.HTTPConnection('127.0.0.1', self.port, timeout=30)
        headers = {'Content-Type': 'application/json', 'X-Clover-Auth': self.auth}
        while (number := self._take()) is not None:
            try:
                status, response = self._request(connection, client, number, headers)
                if response.getheader('Connection', '').lower() == 'close':
                    connection.close()
            except (OSError, http.client.HTTPException):
                status = 'error'
                connection.close()
            with self.lock:
                self.statuses[status] = self.statuses.get(status, 0) + 1
        connection.close()

    def _request(self, connection, client, number, headers):
        if self.make_body is None:
            return request(connection, 'GET', self.path)
        return request(connection, 'POST', self.path, self.make_body(client, number), headers)

    def _time_login(self):
        while time.monotonic() < self.stop_at:
            self.login_times.append(time_login(self.port))


def time_login(port):
    connection = http.client.HTTPConnection('127.0.0.1', port, timeout=30)
    started = time.perf_counter()
    status, _ = request(connection, 'GET', '/web/login')
    connection.close()
    if status != 200:
        raise RuntimeError(f"/web/login answered {status}")
    return (time.perf_counter() - started) * 1000


def firehose(events):
    def make_body(client, number):
        base = (client * FLOOD_MAX_REQUESTS + number) * events
        return json.dumps({'appId': 'BENCHAPP00001', 'merchants': {MERCHANT_ID: [
            {'objectId': f'P:BENCH{base + i:08d}', 'type': 'CREATE', 'ts': 1764700000000 + base + i}
            for i in range(events)
        ]}}).encode()
    return make_body


def median(values):
    return statistics.median(values) if values else float('nan')


def p95(values):
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 20 else max(values, default=float('nan'))


def result(figure, measured, target, met):
    verdict = 'info' if met is None else ('met' if met else 'missed')
    print(f"RESULT | {figure} | {measured} | {target} | {verdict}")


def measured_flood(server, login_cpu_ms, make_body, auth, path=ROUTE):
    """Run one flood and note the server's CPU milliseconds it cost, the login timer's taken out."""
    cpu_before = group_cpu_seconds(server.popen.pid)
    flood = Flood(server.port, make_body, auth, path=path).run()
    flood.cpu_ms = max((group_cpu_seconds(server.popen.pid) - cpu_before) * 1000
                       - login_cpu_ms * len(flood.login_times), 0)
    return flood


def main():
    provider = Provider()
    server = None
    try:
        server = stack.OdooServer(CONFIG, DB, TMP / 'webhook_ingest_odoo.log', cron_threads=0,
                                  log_level='warn')
        for _warm_up in range(5):
            time_login(server.port)
        cpu_before = group_cpu_seconds(server.popen.pid)
        idle = [time_login(server.port) for _sample in range(LOGIN_SAMPLES_IDLE)]
        # What one /web/login costs the server, to take the login timer out of the floods' CPU.
        login_cpu_ms = (group_cpu_seconds(server.popen.pid) - cpu_before) * 1000 / LOGIN_SAMPLES_IDLE
        floods = {}
        for name, make_body, auth, events in (
            ('valid, 1 event per POST', firehose(1), AUTH_CODE, 1),
            (f'valid, {BATCH_EVENTS} events per POST', firehose(BATCH_EVENTS), AUTH_CODE, BATCH_EVENTS),
            ('forged X-Clover-Auth', firehose(1), 'forged-' + AUTH_CODE, 0),
        ):
            before = provider.events()
            flood = floods[name] = measured_flood(server, login_cpu_ms, make_body, auth)
            flood.recorded = provider.events() - before
            flood.events = events
        ceiling = measured_flood(server, login_cpu_ms, None, None, path='/web/health')
        server.check_log()
        print(f"{'flood':<28} {'requests':>9} {'seconds':>8} {'req/s':>8} {'events/s':>9} "
              f"{'Odoo CPU ms/req':>16} {'statuses':<16} {'login median/p95 ms':>20}")
        print(f"{'idle':<28} {'':>9} {'':>8} {'':>8} {'':>9} {'':>16} {'':<16} "
              f"{median(idle):>9.1f}/{p95(idle):<9.1f}")
        for name, flood in floods.items():
            print(f"{name:<28} {flood.sent:>9} {flood.elapsed:>8.2f} {flood.sent / flood.elapsed:>8.0f} "
                  f"{flood.recorded / flood.elapsed:>9.0f} {flood.cpu_ms / max(flood.sent, 1):>16.1f} "
                  f"{json.dumps(flood.statuses):<16} "
                  f"{median(flood.login_times):>9.1f}/{p95(flood.login_times):<9.1f}")
        print(f"{'GET /web/health (no-op)':<28} {ceiling.sent:>9} {ceiling.elapsed:>8.2f} "
              f"{ceiling.sent / ceiling.elapsed:>8.0f} {'':>9} "
              f"{ceiling.cpu_ms / max(ceiling.sent, 1):>16.1f} "
              f"{json.dumps(ceiling.statuses):<16} "
              f"{median(ceiling.login_times):>9.1f}/{p95(ceiling.login_times):<9.1f}")
        print(f"/web/login costs the server {login_cpu_ms:.1f} ms CPU; taken out of the floods' CPU")
        print(f"machine load average (1 min) at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores "
              "(the rates are what this server got of the machine; CPU per request is its own cost)")
        single, batched, forged = floods.values()
        for flood, expected in ((single, 200), (batched, 200), (forged, 403), (ceiling, 200)):
            if set(flood.statuses) != {expected}:
                print(f"unexpected statuses {flood.statuses} (expected only {expected})", file=sys.stderr)
        if forged.recorded:
            raise RuntimeError(f"{forged.recorded} forged events were recorded")
        single_rate = single.recorded / single.elapsed
        forged_rate = forged.statuses.get(403, 0) / forged.elapsed
        result("webhook events recorded, 1 event per POST", f"{single_rate:.0f} events/s",
               f">= {TARGET_EVENTS} events/s", single_rate >= TARGET_EVENTS)
        result(f"webhook events recorded, {BATCH_EVENTS} events per POST",
               f"{batched.recorded / batched.elapsed:.0f} events/s", f">= {TARGET_EVENTS} events/s",
               batched.recorded / batched.elapsed >= TARGET_EVENTS)
        result("forged webhooks refused (403)", f"{forged_rate:.0f} requests/s",
               f">= {TARGET_FORGED} requests/s", forged_rate >= TARGET_FORGED)
        ceiling_rate = ceiling.statuses.get(200, 0) / ceiling.elapsed
        result("Odoo's own no-op route GET /web/health under the same flood (the ceiling of its HTTP "
               "stack here)", f"{ceiling_rate:.0f} requests/s", '-', None)
        for label, rate in (('valid, 1 event per POST', single_rate), ('forged', forged_rate)):
            result(f"webhook rate as a share of that ceiling ({label})",
                   f"{100 * rate / ceiling_rate:.0f} %", '-', None)
        for label, flood in (('valid, 1 event per POST', single), ('forged', forged)):
            result(f"Odoo server CPU per webhook request ({label})",
                   f"{flood.cpu_ms / max(flood.sent, 1):.1f} ms", '-', None)
        ceiling_cpu_ms = ceiling.cpu_ms / max(ceiling.sent, 1)
        result("Odoo server CPU per request of its no-op route GET /web/health", f"{ceiling_cpu_ms:.1f} ms",
               '-', None)
        # What no route of Odoo's HTTP stack can exceed here, even with no client on the machine.
        result(f"bound on any Odoo route's rate: {os.cpu_count()} cores / that CPU per request",
               f"{os.cpu_count() * 1000 / max(ceiling_cpu_ms, 0.001):.0f} requests/s", '-', None)
        result("machine load average (1 min) during the bench", f"{os.getloadavg()[0]:.1f}", '-', None)
        result("/web/login median, idle", f"{median(idle):.1f} ms", '-', None)
        for label, flood in (('valid flood', single), ('forged flood', forged)):
            result(f"/web/login median during the {label}", f"{median(flood.login_times):.1f} ms", '-', None)
    finally:
        if server:
            server.stop()
        provider.restore()


if __name__ == '__main__':
    main()
