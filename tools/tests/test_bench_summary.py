"""tools/bench.sh's verdict: the table summarize.py makes from each script's RESULT lines and exit code.
A missed target, a script that broke, one that printed no figure or a malformed line must all make
the benchmark command fail; figures without a target must not."""

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
