"""tools/summarize.py, the verdicts of the test and benchmark commands.
Benchmarks: a missed target, a script that broke, one that printed no figure or a malformed line
must all make tools/bench.sh fail; figures without a target must not. Tests: Odoo's log gives the
counts of its runner, and an Odoo that crashed or exited non-zero can never count as passed."""

import subprocess
import sys
from pathlib import Path

SUMMARIZE = Path(__file__).resolve().parents[1] / 'summarize.py'


def summarize(results, scripts):
    """Writes NAME.out / NAME.rc as bench.sh does, in order; returns (exit code, table lines)."""
    for name, (output, exit_code) in scripts.items():
        (results / f'{name}.out').write_text(output)
        (results / f'{name}.rc').write_text(f'{exit_code}\n')
    result = subprocess.run([sys.executable, str(SUMMARIZE), str(results), 'bench'],
                            capture_output=True, text=True, check=False)
    return result.returncode, [line for line in result.stdout.splitlines() if line.startswith('| ')]


def test_all_met_or_info_passes(tmp_path):
    code, table = summarize(tmp_path, {
        'alpha': ("human table\nRESULT | speed | 12 ms | < 20 ms | met\n"
                  "RESULT | size | 3 MB | - | info\n", 0),
    })
    assert code == 0
    assert len(table) == 3  # header and two figures
    cells = [cell.strip() for cell in table[1].split('|')[1:6]]
    assert cells == ['alpha', 'speed', '12 ms', '< 20 ms', 'met']


def test_missed_target_fails(tmp_path):
    code, table = summarize(tmp_path, {
        'alpha': ("RESULT | speed | 12 ms | < 20 ms | met\n", 0),
        'beta': ("RESULT | ratio | 1.9x | <= 1.5x | missed\n", 0),
    })
    assert code == 1
    assert any('ratio' in row and 'missed' in row for row in table)


def test_script_that_broke_fails_even_with_figures(tmp_path):
    code, table = summarize(tmp_path, {'alpha': ("RESULT | speed | 12 ms | < 20 ms | met\n", 3)})
    assert code == 1
    assert any('script exited 3' in row and 'error' in row for row in table)


def test_exit_1_with_a_reported_miss_is_a_miss_not_a_breakage(tmp_path):
    code, table = summarize(tmp_path, {'alpha': ("RESULT | speed | 30 ms | < 20 ms | missed\n", 1)})
    assert code == 1
    assert any('speed' in row and 'missed' in row for row in table)
    assert not any('script exited' in row for row in table)


def test_exit_1_without_a_miss_is_a_breakage(tmp_path):
    code, table = summarize(tmp_path, {'alpha': ("RESULT | speed | 12 ms | < 20 ms | met\n", 1)})
    assert code == 1
    assert any('script exited 1' in row and 'error' in row for row in table)


def test_script_without_figures_fails(tmp_path):
    code, table = summarize(tmp_path, {'alpha': ("a human table only\n", 0)})
    assert code == 1
    assert any('no RESULT line printed' in row for row in table)


def test_malformed_line_fails(tmp_path):
    code, table = summarize(tmp_path, {'alpha': ("RESULT | speed | 12 ms | fast\n", 0)})
    assert code == 1
    assert any('malformed' in row and 'error' in row for row in table)


def test_no_script_at_all_fails(tmp_path):
    code, table = summarize(tmp_path, {})
    assert code == 1
    assert len(table) == 1


ODOO_CLOSING = ("2026-12-02 17:58:47,644 1 {level} db odoo.tests.result: "
                "{failed} failed, {errors} error(s) of {run} tests when loading database 'db'\n")


def odoo_total(results, log):
    (results / 'odoo.log').write_text(log)
    result = subprocess.run([sys.executable, str(SUMMARIZE), str(results), 'total'],
                            capture_output=True, text=True, check=False)
    return result.returncode, result.stdout.splitlines()


def test_odoo_success(tmp_path):
    code, lines = odoo_total(tmp_path, ODOO_CLOSING.format(level='INFO', failed=0, errors=0, run=104))
    assert code == 0
    assert lines[-1] == '104 passed, 0 failed'


def test_odoo_failing_tests_are_counted_with_the_rest(tmp_path):
    log = ODOO_CLOSING.format(level='ERROR', failed=2, errors=1, run=156) + 'odoo exited 1\n'
    code, lines = odoo_total(tmp_path, log)
    assert code == 1
    assert lines[-1] == '153 passed, 3 failed'


def test_odoo_exit_without_failing_test_is_a_failure(tmp_path):
    log = ODOO_CLOSING.format(level='INFO', failed=0, errors=0, run=50) + 'odoo exited 1\n'
    code, lines = odoo_total(tmp_path, log)
    assert code == 1
    assert lines[-1] == '50 passed, 1 failed'


def test_odoo_crash_before_any_figure_is_a_failure(tmp_path):
    code, lines = odoo_total(tmp_path, 'Traceback (most recent call last):\nodoo exited 1\n')
    assert code == 1
    assert lines[-1] == '0 passed, 1 failed'
