"""A real stack: the emulator and `odoo-bin --workers N` as processes of their own, on free loopback
ports, and the Odoo shell to set data up. Used by bench/terminal_payment.py, bench/webhook_ingest.py
and tools/tests/test_terminal_crash.py (a helper: bench.sh does not run files starting with `_`).

Everything is driven from outside, as an operator would: no Odoo import in this process.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import time

import requests

REPO = os.environ.get('FUSION_CLOVER_REPO') or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTHON = os.environ['FUSION_CLOVER_PY']
ODOO_BIN = os.path.join(os.environ['FUSION_CLOVER_ODOO'], 'odoo-bin')
RESULT_MARK = 'TERMINAL_STACK_JSON '


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _listening(port):
    try:
        with socket.create_connection(('127.0.0.1', port), timeout=1):
            return True
    except OSError:
        return False


def wait_for(check, timeout, interval=0.1, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"{what} not reached within {timeout} s")


class Process:
    """A child in a process group of its own, so a kill reaches all its workers."""

    def __init__(self, args, log_path, cwd=REPO):
        self.log_path = log_path
        self.log = open(log_path, 'wb')  # noqa: SIM115 - closed in stop().
        self.popen = subprocess.Popen(args, cwd=cwd, stdout=self.log, stderr=subprocess.STDOUT,
                                      start_new_session=True)

    def kill(self, sig=signal.SIGKILL):
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, sig)
        self.popen.wait(30)

    def stop(self):
        try:
            self.kill(signal.SIGTERM)
        except subprocess.TimeoutExpired:
            self.kill(signal.SIGKILL)
        self.log.close()

    def check_log(self):
        """Refuse the results of a process that crashed somewhere: a child dying and restarted
        (once, Odoo's websocket process, for a missing package) spends the cores being measured
        and hides behind figures that look merely slow."""
        with open(self.log_path, 'rb') as log:
            tracebacks = log.read().count(b'Traceback (most recent call last)')
        if tracebacks:
            raise RuntimeError(f"{self.log_path} holds {tracebacks} traceback(s)")


class EmulatorProcess(Process):
    def __init__(self, log_path):
        self.port = free_port()
        self.url = f'http://127.0.0.1:{self.port}'
        args = [PYTHON, '-m', 'emulator', '--host', '127.0.0.1', '--port', str(self.port), '--quiet']
        super().__init__(args, log_path)
        wait_for(self._up, 30, what="the emulator")

    def _up(self):
        try:
            return requests.get(f'{self.url}/_emulator/state', timeout=1).ok
        except requests.RequestException:
            return False

    def control(self, method, route, payload=None, **params):
        response = requests.request(method, f'{self.url}/_emulator/{route}', json=payload, params=params,
                                    timeout=30)
        response.raise_for_status()
        return response.json() if response.content else {}


class OdooServer(Process):
    """`odoo-bin` serving HTTP (and crons) on free ports. The database is named with `-d` and no
    dbfilter, as the README advises for one database."""

    def __init__(self, config, database, log_path, workers=2, cron_threads=1, log_level='info'):
        self.port = free_port()
        self.url = f'http://127.0.0.1:{self.port}'
        self.gevent_port = free_port() if workers else None
        args = [PYTHON, ODOO_BIN, '-c', config, '-d', database, f'--http-port={self.port}',
                f'--max-cron-threads={cron_threads}', f'--log-level={log_level}']
        if workers:
            args += [f'--workers={workers}', f'--gevent-port={self.gevent_port}']
        super().__init__(args, log_path)
        wait_for(self._up, 120, interval=0.5, what="Odoo")

    def _up(self):
        """Whether Odoo serves its pages and, with workers, its websocket process listens: that
        process loads Odoo for seconds of CPU after the workers answer, which would otherwise be
        spent during the first thing measured."""
        if self.popen.poll() is not None:
            raise RuntimeError(f"odoo-bin exited with {self.popen.returncode}; see {self.log_path}")
        try:
            if not requests.get(f'{self.url}/web/login', timeout=2).ok:
                return False
        except requests.RequestException:
            return False
        return self.gevent_port is None or _listening(self.gevent_port)


def odoo_shell(config, database, code):
    """Run `code` in `odoo-bin shell`; return what it printed after RESULT_MARK, as JSON."""
    result = subprocess.run(
        [PYTHON, ODOO_BIN, 'shell', '-c', config, '-d', database, '--no-http'],
        input=code, capture_output=True, text=True, timeout=300, cwd=REPO, check=False,
    )
    for line in result.stdout.splitlines():
        if line.startswith(RESULT_MARK):
            return json.loads(line[len(RESULT_MARK):])
    raise RuntimeError(f"odoo shell failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")


def connect_provider(config, database, emulator, merchant_id, name):
    """Create a Clover provider connected to the emulator's `merchant_id`, with its terminals
    synced; return `{'provider_id', 'terminals': [{'id', 'serial'}]}`."""
    code = f'''
import json, requests
url = {emulator.url!r}
state = requests.get(url + '/_emulator/state', timeout=10).json()
env['ir.config_parameter'].set_param('fusion_clover.api_base_url', url)
provider = env.ref('fusion_clover.payment_provider_clover').copy({{
    'name': {name!r}, 'state': 'test', 'clover_app_id': state['app_id'],
    'clover_app_secret': state['app_secret'], 'clover_merchant_id': {merchant_id!r},
}})
tokens = requests.post(
    url + '/_emulator/oauth/issue', json={{'merchant_id': {merchant_id!r}}}, timeout=10,
).json()
provider.write(provider._clover_token_values(tokens))
env.cr.commit()
provider.action_clover_sync_terminals()
env.cr.commit()
terminals = [{{'id': t.id, 'serial': t.serial_number}} for t in provider.clover_terminal_ids]
print({RESULT_MARK!r} + json.dumps({{'provider_id': provider.id, 'terminals': terminals}}))
'''
    return odoo_shell(config, database, code)


def start_payments(config, database, terminal_ids, amount):
    """Start one terminal payment per terminal, as a clerk's request would; return the tx ids and
    when they were committed (time.time())."""
    code = f'''
import json
partner = env['res.partner'].search([('name', '=', 'Terminal Stack Customer')], limit=1) \\
    or env['res.partner'].create({{'name': 'Terminal Stack Customer'}})
ids = []
for terminal in env['clover.terminal'].browse({list(terminal_ids)!r}):
    tx = env['payment.transaction']._clover_new_terminal_transaction(terminal, {amount!r}, partner)
    tx._clover_start_terminal_payment()
    ids.append(tx.id)
env.cr.commit()
import time
print({RESULT_MARK!r} + json.dumps({{'ids': ids, 'committed_at': time.time()}}))
'''
    return odoo_shell(config, database, code)


def remove_provider(config, database, provider_id):
    """Leave the database as found: the provider, its terminals and transactions, the base URL."""
    code = f'''
env.cr.execute("DELETE FROM payment_transaction WHERE provider_id = %s", [{provider_id!r}])
provider = env['payment.provider'].browse({provider_id!r})
env['clover.terminal'].with_context(active_test=False).search([('provider_id', '=', provider.id)]).unlink()
provider.unlink()
env['ir.config_parameter'].set_param('fusion_clover.api_base_url', False)
env.cr.commit()
print({RESULT_MARK!r} + 'true')
'''
    return odoo_shell(config, database, code)


def log(message):
    print(message, file=sys.stderr, flush=True)
