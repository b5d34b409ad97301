# Shared by tools/demo.sh and tools/test.sh: find Odoo 19, prepare the venv and PostgreSQL.
# Sourced, not run. Everything here is idempotent: a second run reuses what the first made.

set -euo pipefail

REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ODOO_SRC=${FUSION_CLOVER_ODOO:-/opt/odoo19}
STATE_DIR=${FUSION_CLOVER_HOME:-$HOME/.local/share/fusion_clover}
VENV=${FUSION_CLOVER_VENV:-$STATE_DIR/venv}
PY=$VENV/bin/python
DEBIAN_PACKAGES=(postgresql chromium libpq-dev libldap2-dev libsasl2-dev python3-dev build-essential wkhtmltopdf poppler-utils)

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

require_odoo() {
    if [ ! -f "$ODOO_SRC/odoo-bin" ] || ! grep -q 'version_info = (19,' "$ODOO_SRC/odoo/release.py" 2>/dev/null; then
        die "Odoo 19 source not found at $ODOO_SRC. Put the official Odoo 19.0 source there (git clone -b 19.0 --depth 1 https://github.com/odoo/odoo $ODOO_SRC) or set FUSION_CLOVER_ODOO to where it is."
    fi
}

install_debian_packages() {
    local missing=()
    for package in "${DEBIAN_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
    done
    # Node.js may come from elsewhere than Debian (and bring its own npm): only add Debian's if absent.
    command -v npm >/dev/null || missing+=(nodejs npm)
    [ ${#missing[@]} -eq 0 ] && return
    say "Installing Debian packages: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

# The venv holds Odoo's requirements and the project's; it is rebuilt only when either changes.
prepare_venv() {
    local stamp="$VENV/.fusion_clover_stamp" wanted
    wanted=$(cat "$ODOO_SRC/requirements.txt" "$REPO_DIR/requirements.txt" | sha256sum | cut -c1-16)
    if [ -x "$PY" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$wanted" ]; then
        return
    fi
    say "Preparing the Python virtual environment in $VENV (a few minutes the first time)"
    mkdir -p "$STATE_DIR"
    [ -x "$PY" ] || python3 -m venv "$VENV"
    "$PY" -m pip install -q --disable-pip-version-check -r "$ODOO_SRC/requirements.txt" -r "$REPO_DIR/requirements.txt"
    echo "$wanted" > "$stamp"
}

# Starts the Debian cluster if needed and gives the current user a superuser role.
start_postgres() {
    local version cluster
    version=$(ls /usr/lib/postgresql | sort -n | tail -1)
    cluster=$(pg_lsclusters -h | awk -v v="$version" '$1 == v {print $2; exit}')
    if [ -z "$cluster" ]; then
        cluster=main
        pg_createcluster "$version" "$cluster" >/dev/null
    fi
    if ! pg_lsclusters -h | awk -v v="$version" -v c="$cluster" '$1 == v && $2 == c {print $4}' | grep -q online; then
        say "Starting PostgreSQL $version"
        pg_ctlcluster "$version" "$cluster" start
    fi
    local user
    user=$(id -un)
    if ! psql -d postgres -tAc 'select 1' >/dev/null 2>&1; then
        su postgres -c "createuser -s '$user'" 2>/dev/null || sudo -u postgres createuser -s "$user"
    fi
}

# Odoo finds an addon by its folder name, and a checkout may be named anything: link it.
prepare_addons_path() {
    local link_dir="$STATE_DIR/addons-$(echo "$REPO_DIR" | sha256sum | cut -c1-8)"
    mkdir -p "$link_dir"
    ln -sfn "$REPO_DIR" "$link_dir/fusion_clover"
    ADDONS_PATH="$link_dir,$ODOO_SRC/addons,$ODOO_SRC/odoo/addons"
}

# A free TCP port on the loopback interface.
free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

prepare_all() {
    require_odoo
    install_debian_packages
    prepare_venv
    start_postgres
    prepare_addons_path
}
