"""The stack the benchmarks and the crash test run on refuses the results of a process that logged
a crash. Run by tools/test.sh, which sets the environment."""

import os
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, 'bench'))
import _stack as stack  # noqa: E402


def run_to_the_end(code, log_path):
    process = stack.Process([sys.executable, '-c', code], log_path)
    process.popen.wait(30)
    process.stop()
    return process


def test_a_log_with_a_traceback_is_refused(tmp_path):
    process = run_to_the_end("print('starting'); raise ValueError('a child died')", tmp_path / 'crash.log')
    with pytest.raises(RuntimeError, match=r"crash\.log holds 1 traceback\(s\)"):
        process.check_log()


def test_a_clean_log_passes_and_a_new_run_starts_a_new_log(tmp_path):
    log_path = tmp_path / 'server.log'
    run_to_the_end("raise ValueError('an earlier run')", log_path)
    process = run_to_the_end("print('served')", log_path)
    process.check_log()
    assert log_path.read_text() == 'served\n'


def test_an_odoo_that_dies_at_start_is_reported_at_once(tmp_path):
    """Not after the 120 s wait for its pages: here odoo-bin refuses an unknown log level."""
    config = tmp_path / 'odoo.conf'
    config.write_text('[options]\n')
    with pytest.raises(RuntimeError, match=r"odoo-bin exited with [1-9]"):
        stack.OdooServer(str(config), 'no_such_database', tmp_path / 'odoo.log', log_level='no-such-level')
