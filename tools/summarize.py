"""Sum the project's test reports into the one closing line `N passed, N failed, N skipped`, and
gather the benchmarks' `RESULT | figure | measured | target | met` lines into one table.

Usage: summarize.py RESULTS_DIR record NAME EXIT_CODE   (a check without a report of its own)
       summarize.py RESULTS_DIR total                   (print per-suite figures, then the total)
       summarize.py RESULTS_DIR bench                   (tools/bench.sh: NAME.out + NAME.rc per script)
"""

import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ODOO_TOTAL_RE = re.compile(r'(\d+) failed, (\d+) error\(s\) of (\d+) tests when loading database')
ODOO_SKIP_RE = re.compile(r'odoo\.tests\.result: skipped ')
BENCH_VERDICTS = ('met', 'missed', 'info')


def record(results, name, exit_code):
    failure = '' if exit_code == '0' else f'<failure message="exit code {exit_code}"/>'
    (results / f'{name}.xml').write_text(
        f'<testsuite name="{name}"><testcase name="{name}">{failure}</testcase></testsuite>'
    )


def junit_counts(path):
    counts = {'passed': 0, 'failed': 0, 'skipped': 0}
    try:
        cases = ET.parse(path).getroot().iter('testcase')
    except ET.ParseError:
        return {'passed': 0, 'failed': 1, 'skipped': 0}
    for case in cases:
        tags = {child.tag for child in case}
        if tags & {'failure', 'error'}:
            counts['failed'] += 1
        elif 'skipped' in tags:
            counts['skipped'] += 1
        else:
            counts['passed'] += 1
    return counts


def odoo_counts(path):
    log = path.read_text(errors='replace')
    totals = ODOO_TOTAL_RE.findall(log)
    if not totals:
        # No closing figures means Odoo crashed before or while testing: that is a failure.
        return {'passed': 0, 'failed': 1, 'skipped': 0}
    failed, errors, run = (sum(int(t[i]) for t in totals) for i in range(3))
    skipped = len(ODOO_SKIP_RE.findall(log))
    counts = {'passed': run - failed - errors - skipped, 'failed': failed + errors, 'skipped': skipped}
    if 'odoo exited' in log and not counts['failed']:
        # A non-zero exit that no failing test explains (a crash after some tests ran) is a failure.
        counts['failed'] = 1
    return counts


def total(results):
    grand = {'passed': 0, 'failed': 0, 'skipped': 0}
    reports = [(p.stem, junit_counts(p)) for p in sorted(results.glob('*.xml'))]
    if (results / 'odoo.log').exists():
        reports.append(('odoo', odoo_counts(results / 'odoo.log')))
    for name, counts in reports:
        # Worded unlike the closing line, which must be the only "N passed, N failed" line.
        print(f"  [{name}] passed {counts['passed']}, failed {counts['failed']}, skipped {counts['skipped']}")
        for key in grand:
            grand[key] += counts[key]
    line = f"{grand['passed']} passed, {grand['failed']} failed"
    if grand['skipped']:
        line += f", {grand['skipped']} skipped"
    print(line)
    return 1 if grand['failed'] or not reports else 0


def bench_rows(results):
    """One row per RESULT line of each script; a script that broke or printed no figure is a row
    of its own with the verdict `error`, so that it cannot pass unnoticed."""
    rows = []
    # In the order they ran: each output is complete when its script ends.
    for out in sorted(results.glob('*.out'), key=lambda path: path.stat().st_mtime_ns):
        name = out.stem
        exit_code = (results / f'{name}.rc').read_text().strip() if (results / f'{name}.rc').exists() else '?'
        figures = []
        for line in out.read_text(errors='replace').splitlines():
            if not line.startswith('RESULT |'):
                continue
            fields = [field.strip() for field in line.split(' | ')[1:]]
            if len(fields) != 4 or fields[3] not in BENCH_VERDICTS:
                figures.append((name, f'malformed: {line[:80]}', '-', '-', 'error'))
            else:
                figures.append((name, *fields))
        # A script may exit 1 for a missed target it reports (the dispatcher's does): not broken.
        reported_miss = exit_code == '1' and any(figure[4] == 'missed' for figure in figures)
        if exit_code != '0' and not reported_miss:
            broke = f'script exited {exit_code} (see .bench-results/{name}.log)'
            figures.append((name, broke, '-', '-', 'error'))
        elif not figures:
            figures.append((name, 'no RESULT line printed', '-', '-', 'error'))
        rows.extend(figures)
    return rows


def clip(cell, width=72):
    """A long measurement is cut in the table; the script's own output keeps it whole."""
    return cell if len(cell) <= width else cell[:width - 1] + '…'


def bench(results):
    rows = bench_rows(results)
    table = [tuple(clip(cell) for cell in row) for row in rows]
    header = ('bench', 'figure', 'measured', 'target', 'met')
    widths = [max(len(row[i]) for row in [header, *table]) for i in range(len(header))]

    def line(row):
        return '| ' + ' | '.join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) + ' |'

    print()
    print(line(header))
    print('|' + '|'.join('-' * (width + 2) for width in widths) + '|')
    for row in table:
        print(line(row))
    verdicts = [row[4] for row in rows]
    counts = {verdict: verdicts.count(verdict) for verdict in (*BENCH_VERDICTS, 'error')}
    print(f"{len(rows)} figures: {counts['met']} met, {counts['missed']} missed, {counts['info']} info, "
          f"{counts['error']} errors (whole figures: .bench-results/<bench>.out)")
    return 1 if counts['missed'] or counts['error'] or not rows else 0


def main(argv):
    results = Path(argv[1])
    if argv[2] == 'record':
        record(results, argv[3], argv[4])
        return 0
    if argv[2] == 'bench':
        return bench(results)
    return total(results)


if __name__ == '__main__':
    sys.exit(main(sys.argv))
