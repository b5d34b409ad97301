"""The operators' path, through Odoo's own command line: install on a fresh database, upgrade with
`-u fusion_clover --stop-after-init`, uninstall. Run by tools/test.sh, which sets the environment."""

import os
import re
import subprocess
import uuid

import psycopg2
import pytest

ODOO_BIN = os.path.join(os.environ['FUSION_CLOVER_ODOO'], 'odoo-bin')
PYTHON = os.environ['FUSION_CLOVER_PY']
ADDONS_PATH = os.environ['FUSION_CLOVER_ADDONS_PATH']
# A log line at WARNING or above emitted by the module's own loggers.
OWN_PROBLEM_RE = re.compile(r' (WARNING|ERROR|CRITICAL) \S+ odoo\.addons\.fusion_clover[.:]')


@pytest.fixture(scope='module')
def database(tmp_path_factory):
    name = f'fusion_clover_cli_{uuid.uuid4().hex[:8]}'
    config = tmp_path_factory.mktemp('odoo') / 'odoo.conf'
    config.write_text(f'[options]\naddons_path = {ADDONS_PATH}\nhttp_interface = 127.0.0.1\n')
    yield name, str(config)
    subprocess.run(['dropdb', '--if-exists', name], check=False)


def run_odoo(config, *args):
    result = subprocess.run(
        [PYTHON, ODOO_BIN, *args, '-c', config], capture_output=True, text=True, timeout=600,
    )
    return result.returncode, result.stdout + result.stderr


def query(database_name, sql):
    with psycopg2.connect(dbname=database_name) as connection, connection.cursor() as cr:
        cr.execute(sql)
        return cr.fetchall()


def module_state(database_name):
    return query(database_name, "SELECT state FROM ir_module_module WHERE name = 'fusion_clover'")[0][0]


def test_install_upgrade_uninstall(database):
    name, config = database

    code, log = run_odoo(config, '-d', name, '-i', 'fusion_clover', '--stop-after-init', '--no-http')
    assert code == 0, log[-3000:]
    assert 'Loading module fusion_clover' in log
    assert not OWN_PROBLEM_RE.findall(log), [line for line in log.splitlines() if OWN_PROBLEM_RE.search(line)]
    assert module_state(name) == 'installed'
    assert query(name, "SELECT state FROM payment_provider WHERE code = 'clover'") == [('disabled',)]

    code, log = run_odoo(config, '-d', name, '-u', 'fusion_clover', '--stop-after-init', '--no-http')
    assert code == 0, log[-3000:]
    assert 'Loading module fusion_clover' in log
    assert not OWN_PROBLEM_RE.findall(log)
    assert ' ERROR ' not in log, log[-3000:]
    assert module_state(name) == 'installed'

    # A provider with payment history cannot be deleted with the module's data: it must stay,
    # reset like Odoo's own providers, with its transactions intact.
    history = (
        "provider = env.ref('fusion_clover.payment_provider_clover')\n"
        "env['payment.transaction'].create({'provider_id': provider.id, 'amount': 10,"
        " 'currency_id': env.ref('base.USD').id, 'partner_id': env.user.partner_id.id,"
        " 'payment_method_id': env.ref('payment.payment_method_card').id, 'reference': 'CLI-1'})\n"
        "env.cr.commit()\n"
    )
    result = subprocess.run(
        [PYTHON, ODOO_BIN, 'shell', '-c', config, '-d', name, '--no-http'],
        input=history, capture_output=True, text=True, timeout=600, check=False,
    )
    assert query(name, "SELECT count(*) FROM payment_transaction WHERE reference = 'CLI-1'") == [(1,)], (
        result.stdout + result.stderr
    )[-3000:]

    result = subprocess.run(
        [PYTHON, ODOO_BIN, 'module', 'uninstall', '-c', config, '-d', name, 'fusion_clover'],
        capture_output=True, text=True, timeout=600, check=False,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert module_state(name) == 'uninstalled'
    assert query(name, "SELECT count(*) FROM payment_provider WHERE code = 'clover'") == [(0,)]
    providers = query(name, "SELECT p.code, p.state, p.is_published FROM payment_provider p"
                            " JOIN payment_transaction t ON t.provider_id = p.id WHERE t.reference = 'CLI-1'")
    assert providers == [('none', 'disabled', False)]
    columns = query(name, "SELECT column_name FROM information_schema.columns"
                          " WHERE table_name = 'payment_provider' AND column_name LIKE 'clover_%'")
    assert columns == []
