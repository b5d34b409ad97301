"""The demo's sample data (tools/demo_data.py), run as tools/demo.sh runs it: through `odoo-bin shell`
on a fresh database, against an emulator over real HTTP. Every feature adds its data and its "what
to try" lines there, so this proves the whole script still runs, commits what the lines point at,
and can be run again without duplicating anything. Run by tools/test.sh, which sets the environment."""

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg2
import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from emulator import running_emulator  # noqa: E402 - the repository root is not a package path

ODOO_BIN = os.path.join(os.environ['FUSION_CLOVER_ODOO'], 'odoo-bin')
PYTHON = os.environ['FUSION_CLOVER_PY']
ADDONS_PATH = os.environ['FUSION_CLOVER_ADDONS_PATH']
ODOO_URL = 'http://127.0.0.1:8999'
PORTAL_LINK_RE = re.compile(
    rf'^      {re.escape(ODOO_URL)}/my/invoices/(\d+)\?access_token=([0-9a-f-]+)$', re.MULTILINE,
)


def query(database_name, sql):
    with psycopg2.connect(dbname=database_name) as connection, connection.cursor() as cr:
        cr.execute(sql)
        return cr.fetchall()


@pytest.fixture(scope='module')
def database(tmp_path_factory):
    name = f'fusion_clover_demo_data_{uuid.uuid4().hex[:8]}'
    config = tmp_path_factory.mktemp('odoo') / 'odoo.conf'
    config.write_text(f'[options]\naddons_path = {ADDONS_PATH}\nhttp_interface = 127.0.0.1\n')
    result = subprocess.run(
        [PYTHON, ODOO_BIN, '-c', str(config), '-d', name, '-i', 'fusion_clover', '--stop-after-init',
         '--no-http'],
        capture_output=True, text=True, timeout=900, check=False,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    yield name, str(config)
    subprocess.run(['dropdb', '--if-exists', name], check=False)


def load_demo_data(database, emulator_url, try_file):
    name, config = database
    try_file.write_text('')  # As tools/demo.sh does before each run.
    env = {**os.environ, 'FUSION_CLOVER_EMULATOR_URL': emulator_url,
           'FUSION_CLOVER_DEMO_ODOO_URL': ODOO_URL, 'FUSION_CLOVER_DEMO_TRY_FILE': str(try_file)}
    with open(REPO / 'tools' / 'demo_data.py', encoding='utf-8') as script:
        result = subprocess.run(
            [PYTHON, ODOO_BIN, 'shell', '-c', config, '-d', name, '--no-http'],
            stdin=script, env=env, capture_output=True, text=True, timeout=600, check=False,
        )
    log = result.stdout + result.stderr
    assert result.returncode == 0 and 'Traceback' not in log, log[-3000:]
    assert 'Demo ready:' in result.stdout, log[-3000:]
    return try_file.read_text()


# What the features' demo functions create: a second run must create none of it again.
RECORD_COUNTS = (
    "SELECT (SELECT count(*) FROM account_move), (SELECT count(*) FROM payment_transaction),"
    " (SELECT count(*) FROM clover_terminal), (SELECT count(*) FROM res_partner)"
)


def test_demo_data_runs_commits_and_reruns(database, tmp_path):
    name, _config = database
    with running_emulator(port=0) as emu:
        first = load_demo_data(database, emu.base_url, tmp_path / 'try.txt')
        records_after_first = query(name, RECORD_COUNTS)
        second = load_demo_data(database, emu.base_url, tmp_path / 'try.txt')

    # The list: entries of "  - what" then indented URLs, on Odoo's URL or the emulator's.
    entries = [line for line in first.splitlines() if line.startswith('  - ')]
    assert len(entries) >= 3, first
    urls = [line.strip() for line in first.splitlines() if line.startswith('      http')]
    assert len(urls) >= len(entries)
    assert all(url.startswith((ODOO_URL, emu.base_url)) for url in urls), urls

    # The portal link points at the posted open invoice with the access token the database holds.
    [(invoice_id, token)] = PORTAL_LINK_RE.findall(first)
    invoice = f"SELECT state, payment_state, access_token FROM account_move WHERE id = {int(invoice_id)}"
    assert query(name, invoice) == [('posted', 'not_paid', token)]
    # The provider is connected to the emulator, in test mode, published.
    provider = ("SELECT state, is_published, clover_merchant_id IS NOT NULL,"
                " clover_oauth_access_token IS NOT NULL FROM payment_provider WHERE code = 'clover'")
    assert query(name, provider) == [('test', True, True, True)]

    # A second run finds what the first made and says the same things.
    assert [line for line in second.splitlines() if line.startswith('  - ')] == entries
    assert PORTAL_LINK_RE.findall(second) == [(invoice_id, token)]
    assert query(name, "SELECT count(*) FROM res_partner WHERE email = 'jordan.rivera@example.com'") == [(1,)]
    assert query(name, RECORD_COUNTS) == records_after_first
