"""Sum the project's test reports into the one closing line `N passed, N failed, N skipped`.

Usage: summarize.py RESULTS_DIR record NAME EXIT_CODE   (a check without a report of its own)
       summarize.py RESULTS_DIR total                   (print per-suite figures, then the total)
"""

import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ODOO_TOTAL_RE = re.compile(r'(\d+) failed, (\d+) error\(s\) of (\d+) tests when loading database')
ODOO_SKIP_RE = re.compile(r'odoo\.tests\.result: skipped ')


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
    if not totals or 'odoo exited' in log:
        # No closing figures means Odoo crashed before or while testing: that is a failure.
        return {'passed': 0, 'failed': 1, 'skipped': 0}
    failed, errors, run = (sum(int(t[i]) for t in totals) for i in range(3))
    skipped = len(ODOO_SKIP_RE.findall(log))
    return {'passed': run - failed - errors - skipped, 'failed': failed + errors, 'skipped': skipped}


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


def main(argv):
    results = Path(argv[1])
    if argv[2] == 'record':
        record(results, argv[3], argv[4])
        return 0
    return total(results)


if __name__ == '__main__':
    sys.exit(main(sys.argv))
