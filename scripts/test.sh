#!/usr/bin/env bash
# Installs what is missing, then runs every test of the repository:
#   1. native    cargo test --workspace --no-fail-fast (every crate, conformance suites included)
#   2. wasm      the wasm-bindgen tests of the app, in headless Chromium (chromedriver)
#   3. build     trunk build --release (dist/)
#   4. e2e       Playwright (playwright-core) on Debian's chromium against dist/
# Every step runs even when an earlier one failed; the last line is the summary and the exit
# status is non-zero if any step failed.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/tools.sh"
cd "$REPO_ROOT"

results=()
failed=0
started=$SECONDS

step() {
    local name="$1"
    shift
    local t0=$SECONDS
    say "[$name] $*"
    "$@"
    local rc=$?
    local dt=$((SECONDS - t0))
    if [ $rc -eq 0 ]; then
        results+=("$name ok ${dt}s")
    else
        results+=("$name FAILED(rc=$rc) ${dt}s")
        failed=1
    fi
    return $rc
}

summary() {
    local verdict=PASS
    [ $failed -eq 0 ] || verdict=FAIL
    local joined
    joined="$(printf '%s, ' "${results[@]}")"
    printf 'test.sh summary: %s in %ss (%s)\n' "$verdict" "$((SECONDS - started))" "${joined%, }"
}

if ! step tools bash -c 'source scripts/tools.sh && ensure_build_tools && ensure_browser && ensure_peers'; then
    summary
    exit 1
fi
# ensure_peers ran in a child shell: export what it exported here too.
export PROMPLAY_PYTHON="$PEERS_VENV/bin/python"

step native cargo test --workspace --no-fail-fast

step wasm env CHROMEDRIVER=/usr/bin/chromedriver \
    cargo test --target wasm32-unknown-unknown -p promplay-web --test web --test determinism

if step build trunk build --release; then
    step e2e node --test tests/e2e/
else
    results+=("e2e skipped(no dist)")
    failed=1
fi

summary
exit $failed
