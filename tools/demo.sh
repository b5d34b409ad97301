#!/usr/bin/env bash
# The README's demo command: set everything up, then run the Clover emulator and Odoo on
# 127.0.0.1 with the module installed and sample data. Ctrl-C stops both. Re-running reuses the
# venv and the database (the module is upgraded to the checkout's code).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
prepare_all

DB=${FUSION_CLOVER_DEMO_DB:-fusion_clover_demo}
ODOO_PORT=${FUSION_CLOVER_ODOO_PORT:-8069}
EMULATOR_PORT=${FUSION_CLOVER_EMULATOR_PORT:-8077}
EMULATOR_URL="http://127.0.0.1:$EMULATOR_PORT"
LOG_DIR="$STATE_DIR/demo"
mkdir -p "$LOG_DIR"
ODOO_ARGS=(-d "$DB" --addons-path="$ADDONS_PATH" --http-interface=127.0.0.1 --http-port="$ODOO_PORT"
           --db-filter="^$DB\$" --data-dir="$STATE_DIR/filestore")

pids=()
stop_all() {
    trap - INT TERM EXIT
    [ ${#pids[@]} -eq 0 ] || { kill "${pids[@]}" 2>/dev/null || true; wait "${pids[@]}" 2>/dev/null || true; }
    say "Stopped."
}
trap stop_all INT TERM EXIT

say "Starting the Clover emulator on $EMULATOR_URL (log: $LOG_DIR/emulator.log)"
(cd "$REPO_DIR" && exec "$PY" -m emulator --host 127.0.0.1 --port "$EMULATOR_PORT") > "$LOG_DIR/emulator.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do
    curl -sf "$EMULATOR_URL/_emulator/state" >/dev/null && break
    sleep 0.2
done
curl -sf "$EMULATOR_URL/_emulator/state" >/dev/null || die "the emulator did not start; see $LOG_DIR/emulator.log"

if psql -d "$DB" -tAc "select 1 from ir_module_module where name = 'fusion_clover' and state = 'installed'" 2>/dev/null | grep -q 1; then
    say "Upgrading fusion_clover in the existing database $DB"
    "$PY" "$ODOO_SRC/odoo-bin" "${ODOO_ARGS[@]}" -u fusion_clover --stop-after-init > "$LOG_DIR/setup.log" 2>&1 \
        || die "the upgrade failed; see $LOG_DIR/setup.log"
else
    say "Creating the database $DB with fusion_clover (about a minute)"
    "$PY" "$ODOO_SRC/odoo-bin" "${ODOO_ARGS[@]}" -i fusion_clover --stop-after-init > "$LOG_DIR/setup.log" 2>&1 \
        || die "the installation failed; see $LOG_DIR/setup.log"
fi

say "Loading the sample data and connecting the provider to the emulator"
TRY_FILE="$LOG_DIR/what-to-try.txt"
: > "$TRY_FILE"
FUSION_CLOVER_EMULATOR_URL="$EMULATOR_URL" FUSION_CLOVER_DEMO_ODOO_URL="http://127.0.0.1:$ODOO_PORT" \
    FUSION_CLOVER_DEMO_TRY_FILE="$TRY_FILE" "$PY" "$ODOO_SRC/odoo-bin" shell "${ODOO_ARGS[@]}" --no-http \
    < "$REPO_DIR/tools/demo_data.py" >> "$LOG_DIR/setup.log" 2>&1 || die "sample data failed; see $LOG_DIR/setup.log"

say "Starting Odoo (log: $LOG_DIR/odoo.log)"
"$PY" "$ODOO_SRC/odoo-bin" "${ODOO_ARGS[@]}" --logfile="$LOG_DIR/odoo.log" &
pids+=($!)
for _ in $(seq 150); do
    curl -sf -o /dev/null "http://127.0.0.1:$ODOO_PORT/web/login" && break
    sleep 0.2
done
cat <<MSG

  Odoo:            http://127.0.0.1:$ODOO_PORT/odoo/action-account.action_move_out_invoice_type
                   login: admin   password: admin   (database: $DB)
  Clover provider: Invoicing > Configuration > Payment Providers > Clover (test mode, emulator)
  Clover emulator: $EMULATOR_URL  (authorize page: $EMULATOR_URL/oauth/v2/authorize)

  What to try (logged in as admin):
$(cat "$TRY_FILE")

  Press Ctrl-C to stop.
MSG
wait -n "${pids[@]}"
