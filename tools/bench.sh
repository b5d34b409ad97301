#!/usr/bin/env bash
# The README's benchmark command: every script of bench/ on one throwaway database, then one table
# (bench, figure, measured, target, met) gathered from the scripts' `RESULT | ...` lines.
#   bash tools/bench.sh                  every benchmark
#   bash tools/bench.sh portal terminal  only the scripts whose path holds one of the words
# Scripts are discovered, not listed: bench/*.py and bench/*/run.mjs (names starting with `_` are
# helpers). A marker line near the top picks how a script runs: `# bench-runner: odoo-shell [args]`
# (through `odoo-bin shell` on the database) or `# bench-runner: python` (a plain program that
# starts its own Odoo; the default). The environment each script receives is documented in the
# README's "Benchmarks" section. Exit status is non-zero when a target is missed or a script broke.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
prepare_all

BENCH_MODULES=(fusion_clover payment_demo)
TIMEOUT=${FUSION_CLOVER_BENCH_TIMEOUT:-900}
DB=${FUSION_CLOVER_BENCH_DB:-fusion_clover_bench_$$}
RESULTS="$REPO_DIR/.bench-results"
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/fusion_clover_bench.XXXXXX")
CONFIG="$SCRATCH/odoo.conf"
cd "$REPO_DIR"

# Every script of bench/ (sorted), or those whose path holds one of the words given.
discover() {
    local script word
    for script in bench/*.py bench/*/run.mjs; do
        [ -f "$script" ] && [[ $(basename "$script") != _* ]] || continue
        if [ $# -eq 0 ]; then
            echo "$script"
            continue
        fi
        for word in "$@"; do
            [[ $script == *"$word"* ]] && { echo "$script"; break; }
        done
    done
}

# The runner named by a script's marker line: "odoo-shell [args]", "python" or "node".
runner_of() {
    local marker
    [[ $1 == *.mjs ]] && { echo node; return; }
    marker=$(head -40 "$1" | sed -n 's/^# bench-runner: *//p' | head -1)
    echo "${marker:-python}"
}

run_bench() {  # script: runs it, its output in $RESULTS/<name>.out, its exit code in <name>.rc
    local script=$1 name runner rc=0
    name=$(echo "${script#bench/}" | sed 's#/run\.mjs$##; s/\.[a-z]*$//; s#/#-#g')
    read -r -a runner <<< "$(runner_of "$script")"
    say "bench: $script (${runner[0]}; output: .bench-results/$name.out)"
    case ${runner[0]} in
        odoo-shell)
            timeout --kill-after=30 "$TIMEOUT" "$PY" "$ODOO_SRC/odoo-bin" shell -c "$CONFIG" -d "$DB" --no-http \
                "${runner[@]:1}" < "$script" 2>"$RESULTS/$name.log" | tee "$RESULTS/$name.out" || rc=$? ;;
        python)
            timeout --kill-after=30 "$TIMEOUT" "$PY" "$script" 2>"$RESULTS/$name.log" | tee "$RESULTS/$name.out" || rc=$? ;;
        node)
            prepare_dispatcher_packages
            timeout --kill-after=30 "$TIMEOUT" node "$script" 2>"$RESULTS/$name.log" | tee "$RESULTS/$name.out" || rc=$? ;;
        *)
            echo "unknown runner '${runner[0]}' in $script" > "$RESULTS/$name.log"; rc=2 ;;
    esac
    [ "$rc" -eq 124 ] && echo "bench.sh: stopped after ${TIMEOUT}s (FUSION_CLOVER_BENCH_TIMEOUT)" >> "$RESULTS/$name.log"
    [ "$rc" -eq 0 ] || tail -20 "$RESULTS/$name.log" >&2
    echo "$rc" > "$RESULTS/$name.rc"
}

mapfile -t SCRIPTS < <(discover "$@")
[ ${#SCRIPTS[@]} -gt 0 ] || die "no benchmark in bench/ matches: $*"

rm -rf "$RESULTS" && mkdir -p "$RESULTS"
clean_up() {
    dropdb --if-exists "$DB" >/dev/null 2>&1 || true
    rm -rf "$SCRATCH"
}
trap clean_up EXIT

# db_name without dbfilter, as the README advises for one database: Odoo then takes the database
# from the configuration instead of listing the server's databases for every cookieless request
# (a webhook, a health check), which costs more than the webhook route itself.
cat > "$CONFIG" <<CONF
[options]
addons_path = $ADDONS_PATH
db_name = $DB
http_interface = 127.0.0.1
list_db = False
data_dir = $SCRATCH/data
max_cron_threads = 0
CONF

say "Creating the benchmark database $DB with ${BENCH_MODULES[*]}"
"$PY" "$ODOO_SRC/odoo-bin" -c "$CONFIG" -d "$DB" -i "$(IFS=,; echo "${BENCH_MODULES[*]}")" --stop-after-init \
    --no-http > "$RESULTS/setup.log" 2>&1 || die "creating the benchmark database failed; see $RESULTS/setup.log"

export FUSION_CLOVER_BENCH_DB="$DB" FUSION_CLOVER_BENCH_CONFIG="$CONFIG" FUSION_CLOVER_PY="$PY" \
    FUSION_CLOVER_ODOO="$ODOO_SRC" FUSION_CLOVER_ADDONS_PATH="$ADDONS_PATH" FUSION_CLOVER_REPO="$REPO_DIR" \
    FUSION_CLOVER_BENCH_TMP="$SCRATCH/tmp"
mkdir -p "$FUSION_CLOVER_BENCH_TMP"
# The figures are wall-clock times: the machine's load is part of what they say.
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for script in "${SCRIPTS[@]}"; do
    run_bench "$script"
done

"$PY" "$REPO_DIR/tools/summarize.py" "$RESULTS" bench || rc=$?
echo "load average (1, 5, 15 min) on $(nproc) CPUs: $load_before before, $(cut -d' ' -f1-3 /proc/loadavg) after"
exit "${rc:-0}"
