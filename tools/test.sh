#!/usr/bin/env bash
# The README's test command: every suite of the project, then one line "N passed, N failed".
#   Linters (ruff, pylint-odoo), the emulator's pytest suite, the operators' CLI path (install,
#   upgrade, uninstall), the dispatcher's Worker suite, and Odoo's test runner on /fusion_clover
#   in a throwaway database. Exit status is non-zero when anything failed.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
prepare_all

RESULTS="$REPO_DIR/.test-results"
rm -rf "$RESULTS" && mkdir -p "$RESULTS"
SUMMARY=("$PY" "$REPO_DIR/tools/summarize.py" "$RESULTS")
cd "$REPO_DIR"

# A suite that stops without a report (or a runner that crashes) must count as a failure.
check_report() {  # suite name, exit code, exit codes that still mean "the report is complete"
    local name=$1 rc=$2 complete=$3
    if [ ! -s "$RESULTS/$name.xml" ] || [[ " $complete " != *" $rc "* ]]; then
        "${SUMMARY[@]}" record "$name-runner" 1
    fi
}

run_pytest() {  # suite name, test folder: a plain pytest suite with a JUnit report
    # The repository root is an Odoo addon (a Python package): confine collection to the folder.
    local rc=0
    "$PY" -m pytest -q -c pyproject.toml --rootdir="$2" --confcutdir="$2" "$2" \
        --junitxml="$RESULTS/$1.xml" || rc=$?
    check_report "$1" $rc "0 1"
}

run_check() {  # name, command...: one pass/fail entry for a command without a test report
    local name=$1 rc=0
    shift
    say "$name"
    "$@" > "$RESULTS/$name.out" 2>&1 || rc=$?
    [ $rc -eq 0 ] || cat "$RESULTS/$name.out"
    "${SUMMARY[@]}" record "$name" $rc
}

run_check lint-ruff "$VENV/bin/ruff" check .
run_check lint-pylint-odoo "$VENV/bin/pylint" --rcfile=.pylintrc --load-plugins=pylint_odoo \
    __init__.py __manifest__.py const.py utils.py controllers models tests

say "Emulator suite"
run_pytest emulator emulator/tests

say "Operators' CLI path: install, upgrade, uninstall"
FUSION_CLOVER_ADDONS_PATH="$ADDONS_PATH" FUSION_CLOVER_PY="$PY" FUSION_CLOVER_ODOO="$ODOO_SRC" \
    run_pytest cli tools/tests

if [ -f dispatcher/package.json ]; then
    say "Dispatcher suite"
    rm -rf dispatcher/.test-results
    rc=0
    (
        prepare_dispatcher_packages
        cd dispatcher
        CI=true WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false npm test
    ) || rc=$?
    cp dispatcher/.test-results/junit.xml "$RESULTS/dispatcher.xml" 2>/dev/null || true
    # `npm test` also type-checks and checks the shared vectors: any non-zero exit is a failure.
    check_report dispatcher $rc "0"
fi

say "Odoo tests (/fusion_clover) in a throwaway database"
DB="fusion_clover_test_$$"
trap 'dropdb --if-exists "$DB" >/dev/null 2>&1 || true' EXIT
"$PY" "$ODOO_SRC/odoo-bin" -d "$DB" --addons-path="$ADDONS_PATH" -i fusion_clover \
    --test-tags=/fusion_clover --stop-after-init --http-interface=127.0.0.1 \
    --http-port="$(free_port)" --log-level=test > "$RESULTS/odoo.log" 2>&1 || echo "odoo exited $?" >> "$RESULTS/odoo.log"
grep -E ' (ERROR|CRITICAL) |FAIL:|^Traceback' "$RESULTS/odoo.log" | head -40 || true

"${SUMMARY[@]}" total
