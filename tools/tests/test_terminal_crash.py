"""Crash recovery of a terminal payment, with a real process kill: Odoo (`--workers 2`) is killed
(SIGKILL, the whole process group) while the customer is still at the terminal; once restarted,
it replays the payment with the same idempotency key and finds its outcome: the payment is neither
lost nor taken twice. Run by tools/test.sh, which sets the environment."""

import os
import subprocess
import sys
import uuid

import psycopg2
import pytest
import requests

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, 'bench'))
import _stack as stack  # noqa: E402

ADDONS_PATH = os.environ['FUSION_CLOVER_ADDONS_PATH']
CUSTOMER_DELAY = 15  # Seconds the emulated customer takes: Odoo is killed well before.


@pytest.fixture(scope='module')
def database(tmp_path_factory):
    name = f'fusion_clover_crash_{uuid.uuid4().hex[:8]}'
    folder = tmp_path_factory.mktemp('crash')
    config = folder / 'odoo.conf'
    config.write_text(f'[options]\naddons_path = {ADDONS_PATH}\nhttp_interface = 127.0.0.1\n'
                      f'data_dir = {folder / "data"}\nlist_db = False\n')
    result = subprocess.run(
        [stack.PYTHON, stack.ODOO_BIN, '-c', str(config), '-d', name, '-i', 'fusion_clover',
         '--stop-after-init', '--no-http'], capture_output=True, text=True, timeout=900, check=False,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    yield name, str(config), folder
    subprocess.run(['dropdb', '--if-exists', name], check=False)


def tx_row(database_name, tx_id):
    with psycopg2.connect(dbname=database_name) as connection, connection.cursor() as cr:
        cr.execute("SELECT state, clover_terminal_phase, provider_reference, clover_terminal_idempotency_key,"
                   " clover_external_payment_id FROM payment_transaction WHERE id = %s", [tx_id])
        return dict(zip(('state', 'phase', 'reference', 'key', 'external_id'), cr.fetchone(), strict=True))


def test_a_killed_odoo_resumes_the_payment_without_taking_it_twice(database):
    name, config, folder = database
    emulator = stack.EmulatorProcess(folder / 'emulator.log')
    server = None
    try:
        merchant_id = emulator.control('GET', 'state')['merchant_id']
        setup = stack.connect_provider(config, name, emulator, merchant_id, "Clover (crash test)")
        terminal = setup['terminals'][0]
        emulator.control('POST', 'terminal/outcome', {
            'device': terminal['serial'], 'outcome': 'approve', 'delay': CUSTOMER_DELAY,
        })
        server = stack.OdooServer(config, name, folder / 'odoo-1.log')
        [tx_id] = stack.start_payments(config, name, [terminal['id']], 35.0)['ids']

        # The cron worker picks it up and the device waits for the customer: kill Odoo now.
        def at_the_device():
            return emulator.control('GET', 'terminal/state', device=terminal['serial'])['busy']
        stack.wait_for(at_the_device, 60, what="the payment at the device")
        server.kill()
        server.log.close()
        server.check_log()
        assert tx_row(name, tx_id)['state'] == 'pending'

        server = stack.OdooServer(config, name, folder / 'odoo-2.log')
        stack.wait_for(lambda: tx_row(name, tx_id)['state'] != 'pending', 240, interval=0.5,
                       what="the recovered outcome")

        row = tx_row(name, tx_id)
        assert row['state'] == 'done', row
        server.check_log()
        counters = emulator.control('GET', 'counters')
        assert counters['terminal_operations'] == 1  # One customer interaction, one payment.
        assert counters['idempotent_replays'] >= 1
        sent = [r for r in emulator.control('GET', 'requests', path='/connect/v1/payments')['requests']
                if r['method'] == 'POST']
        assert len(sent) >= 2
        assert {r['headers']['idempotency-key'] for r in sent} == {row['key']}
        private_key = emulator.control('GET', 'state')['private_key']
        payments = requests.get(
            f"{emulator.url}/v3/merchants/{merchant_id}/payments",
            headers={'Authorization': f"Bearer {private_key}"}, timeout=10,
        ).json()['elements']
        found = [(p['id'], p['externalPaymentId']) for p in payments]
        assert found == [(row['reference'], row['external_id'])]
    finally:
        if server:
            server.stop()
        emulator.stop()
