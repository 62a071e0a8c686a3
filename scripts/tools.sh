# shellcheck shell=bash
# Sourced by serve.sh and test.sh: installs, idempotently, what building and testing the
# playground needs, from crates.io, npm and Debian only. Nothing is downloaded by trunk.
#
#   ensure_build_tools   wasm32 target, trunk 0.21.14, wasm-bindgen-cli == Cargo.lock's
#                        wasm-bindgen, npm packages (binaryen's wasm-opt, playwright-core),
#                        then `cargo fetch` (trunk runs cargo --offline)
#   ensure_browser       Debian's chromium and chromium-driver
#   ensure_peers         the real programs the companion's tests run beside promplay: Debian's
#                        prometheus, prometheus-alertmanager, prometheus-node-exporter, and a
#                        Python venv (PyPI) with prometheus_client 0.26 and aiosmtpd;
#                        exports PROMPLAY_PYTHON

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TRUNK_VERSION="0.21.14"
export PATH="$REPO_ROOT/node_modules/.bin:$HOME/.cargo/bin:$PATH"

say() { printf '==> %s\n' "$*" >&2; }

# The wasm-bindgen version Cargo.lock pins (the CLI must be exactly this version).
wasm_bindgen_version() {
    awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' \
        "$REPO_ROOT/Cargo.lock"
}

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

ensure_build_tools() {
    command -v cargo >/dev/null || { say "cargo not found: install Rust with rustup first"; return 1; }
    command -v npm >/dev/null || { say "npm not found: apt-get install nodejs npm"; return 1; }

    if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
        say "adding the wasm32-unknown-unknown target"
        rustup target add wasm32-unknown-unknown || return 1
    fi

    if [ "$(trunk --version 2>/dev/null)" != "trunk $TRUNK_VERSION" ]; then
        say "installing trunk $TRUNK_VERSION from crates.io (about 9 minutes on 2 cores)"
        cargo install --locked trunk --version "$TRUNK_VERSION" || return 1
    fi

    local wbv
    wbv="$(wasm_bindgen_version)"
    [ -n "$wbv" ] || { say "no wasm-bindgen in Cargo.lock"; return 1; }
    if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $wbv" ] ||
        ! command -v wasm-bindgen-test-runner >/dev/null; then
        say "installing wasm-bindgen-cli $wbv from crates.io (about 3 minutes)"
        # Not --locked: its lockfile names a webpki-roots release the registry lacks.
        cargo install --force wasm-bindgen-cli --version "$wbv" || return 1
    fi

    if [ ! -x "$REPO_ROOT/node_modules/.bin/wasm-opt" ] ||
        [ ! -d "$REPO_ROOT/node_modules/playwright-core" ] ||
        [ "$(wasm-opt --version 2>/dev/null | awk '{print $3}')" != "132" ]; then
        say "installing npm packages (binaryen 132's wasm-opt, playwright-core)"
        (cd "$REPO_ROOT" && npm ci --no-audit --no-fund) || return 1
    fi

    say "cargo fetch (trunk builds offline)"
    (cd "$REPO_ROOT" && cargo fetch --quiet) || return 1
}

ensure_browser() {
    if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
        say "installing Debian's chromium and chromium-driver"
        as_root apt-get update -qq || return 1
        DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium chromium-driver ||
            return 1
    fi
}

PEERS_VENV="${PROMPLAY_PEERS_VENV:-$REPO_ROOT/target/peers-venv}"

ensure_peers() {
    local missing=()
    command -v prometheus >/dev/null || missing+=(prometheus)
    command -v prometheus-alertmanager >/dev/null || missing+=(prometheus-alertmanager)
    command -v prometheus-node-exporter >/dev/null || missing+=(prometheus-node-exporter)
    command -v python3 >/dev/null || missing+=(python3)
    python3 -m venv --help >/dev/null 2>&1 || missing+=(python3-venv)
    if [ ${#missing[@]} -gt 0 ]; then
        say "installing Debian's ${missing[*]}"
        as_root apt-get update -qq || return 1
        # The packages would start their services where an init system runs: tests use their
        # own ports, so that does no harm, but keep it quiet where policy-rc.d allows.
        DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends \
            "${missing[@]}" || return 1
    fi
    if ! "$PEERS_VENV/bin/python" -c 'import prometheus_client, aiosmtpd' >/dev/null 2>&1; then
        say "creating $PEERS_VENV with prometheus_client 0.26 and aiosmtpd (PyPI)"
        python3 -m venv "$PEERS_VENV" || return 1
        "$PEERS_VENV/bin/pip" install -q 'prometheus_client==0.26.*' aiosmtpd || return 1
    fi
    export PROMPLAY_PYTHON="$PEERS_VENV/bin/python"
}
