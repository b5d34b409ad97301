# Shared by tools/demo.sh and tools/test.sh: find Odoo 19, prepare the venv and PostgreSQL.
# Sourced, not run. Everything here is idempotent: a second run reuses what the first made.

set -euo pipefail

REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ODOO_SRC=${FUSION_CLOVER_ODOO:-/opt/odoo19}
# Where the commands get Odoo 19 when ODOO_SRC has none; FUSION_CLOVER_ODOO_FETCH=0 turns that off.
ODOO_REPO=${FUSION_CLOVER_ODOO_REPO:-https://github.com/odoo/odoo.git}
ODOO_BRANCH=${FUSION_CLOVER_ODOO_BRANCH:-19.0}
ODOO_FETCH=${FUSION_CLOVER_ODOO_FETCH:-1}
STATE_DIR=${FUSION_CLOVER_HOME:-$HOME/.local/share/fusion_clover}
VENV=${FUSION_CLOVER_VENV:-$STATE_DIR/venv}
PY=$VENV/bin/python
DEBIAN_PACKAGES=(postgresql chromium libpq-dev libldap2-dev libsasl2-dev python3-dev build-essential git)

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# True when the folder holds an Odoo 19 source tree.
is_odoo19() {
    [ -f "$1/odoo-bin" ] && grep -q '^version_info = (19,' "$1/odoo/release.py" 2>/dev/null
}

# The version line of whatever Odoo tree a folder holds, for messages.
odoo_version_line() {
    grep -m1 '^version_info' "$1/odoo/release.py" 2>/dev/null || echo "no odoo/release.py"
}

require_odoo() {
    is_odoo19 "$ODOO_SRC" && return
    if [ -e "$ODOO_SRC/odoo-bin" ] || [ -e "$ODOO_SRC/odoo/release.py" ]; then
        die "$ODOO_SRC holds an Odoo source tree that is not Odoo 19 ($(odoo_version_line "$ODOO_SRC")). It is left as it is: set FUSION_CLOVER_ODOO to an Odoo 19 tree, or to an empty folder to download one."
    fi
    if [ "$ODOO_FETCH" = 0 ]; then
        die "Odoo 19 source not found at $ODOO_SRC (downloading it is off: FUSION_CLOVER_ODOO_FETCH=0). Put the official Odoo 19.0 source there (git clone -b $ODOO_BRANCH --depth 1 $ODOO_REPO $ODOO_SRC) or set FUSION_CLOVER_ODOO to where it is."
    fi
    if [ -d "$ODOO_SRC" ] && [ -n "$(ls -A "$ODOO_SRC")" ]; then
        die "Odoo 19 source not found at $ODOO_SRC, and the folder is not empty, so nothing is downloaded into it. Empty it, or set FUSION_CLOVER_ODOO to an Odoo 19 tree or to a new folder."
    fi
    fetch_odoo
}

# A shallow clone of one branch into a folder beside the target, checked, then moved into place:
# an interrupted or wrong download never leaves a half tree where the commands look for Odoo.
fetch_odoo() {
    local parent partial log
    parent=$(dirname "$ODOO_SRC")
    mkdir -p "$parent" 2>/dev/null && [ -w "$parent" ] \
        || die "Odoo 19 source not found at $ODOO_SRC, and $parent is not writable to download it there. Set FUSION_CLOVER_ODOO to a folder you can write (e.g. \$HOME/odoo19), or put the Odoo 19.0 source at $ODOO_SRC."
    command -v git >/dev/null || install_debian_packages
    partial="$ODOO_SRC.partial-$$"
    log="$parent/.$(basename "$ODOO_SRC").clone-$$.log"
    say "Odoo 19 not found at $ODOO_SRC: downloading the Odoo source, branch $ODOO_BRANCH of $ODOO_REPO (a shallow clone: about 400 MB to download, 1.3 GB on disk; a few minutes)"
    if ! GIT_TERMINAL_PROMPT=0 git -c http.lowSpeedLimit=1000 -c http.lowSpeedTime=60 \
            clone --quiet --depth 1 --single-branch --branch "$ODOO_BRANCH" "$ODOO_REPO" "$partial" 2> "$log"; then
        local reason
        reason=$(grep -v '^\s*$' "$log" | tail -1)
        rm -rf "$partial" "$log"
        die "could not download Odoo from $ODOO_REPO (branch $ODOO_BRANCH): ${reason:-git clone failed}. Check the network (or set FUSION_CLOVER_ODOO_REPO to a reachable copy of the official repository), or put the Odoo 19.0 source at $ODOO_SRC yourself."
    fi
    rm -f "$log"
    if ! is_odoo19 "$partial"; then
        local found
        found=$(odoo_version_line "$partial")
        rm -rf "$partial"
        die "the download of $ODOO_REPO (branch $ODOO_BRANCH) is not Odoo 19 ($found); nothing was installed at $ODOO_SRC. Set FUSION_CLOVER_ODOO_BRANCH to Odoo's 19.0 branch."
    fi
    [ -d "$ODOO_SRC" ] && rmdir "$ODOO_SRC"
    mv "$partial" "$ODOO_SRC"
    say "Odoo 19 is at $ODOO_SRC ($(du -sh "$ODOO_SRC" | cut -f1) on disk)"
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

# The dispatcher's npm packages, from its lockfile; reinstalled only when the lockfile changes.
prepare_dispatcher_packages() {
    local lock_hash
    lock_hash=$(sha256sum "$REPO_DIR/dispatcher/package-lock.json" | cut -c1-16)
    [ "$(cat "$REPO_DIR/dispatcher/node_modules/.fusion_clover_stamp" 2>/dev/null)" = "$lock_hash" ] && return
    say "Installing the dispatcher's npm packages from its lockfile"
    (cd "$REPO_DIR/dispatcher" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$lock_hash" > "$REPO_DIR/dispatcher/node_modules/.fusion_clover_stamp"
}

# A free TCP port on the loopback interface.
free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

prepare_all() {
    install_debian_packages
    require_odoo
    prepare_venv
    start_postgres
    prepare_addons_path
}
