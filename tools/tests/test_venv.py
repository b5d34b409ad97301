"""The venv the commands build runs Odoo as a multi-worker server runs it. Run by tools/test.sh,
which sets the environment."""

import os
import subprocess

PYTHON = os.environ['FUSION_CLOVER_PY']
ODOO_BIN = os.path.join(os.environ['FUSION_CLOVER_ODOO'], 'odoo-bin')


def test_odoo_websocket_process_starts():
    """`odoo-bin gevent` is what Odoo's prefork server starts for the websocket and restarts when
    it dies: it patches the standard library with gevent first, which loads gevent's plugins."""
    result = subprocess.run(
        [PYTHON, ODOO_BIN, 'gevent', '--version'], capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith('Odoo Server 19.0')
