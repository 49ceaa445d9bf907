#!/usr/bin/env bash
# Browser suite: the web console at /ui, driven by Playwright (playwright-core, pinned by package-lock.json) in
# Debian's chromium, headless, against `crux serve` (with a master key) and `crux mock` as every provider.
# Screenshots of each page go to $CRUX_BROWSER_ARTIFACTS (default target/browser-artifacts); with
# CRUX_UPDATE_SCREENSHOTS=1 they are also written to docs/console/ (the ones the README shows).
# Usage: bash tests/browser/run.sh. Needs node ≥ 20, npm (the registry, for `npm ci`) and chromium.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/tests/browser"
cd "$ROOT"
log() { printf 'browser: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

command -v node >/dev/null || die "node not found (Node.js 20+ is needed)"
command -v npm >/dev/null || die "npm not found"
CHROMIUM="${CRUX_CHROMIUM:-$(command -v chromium || true)}"
[[ -x "$CHROMIUM" ]] || die "chromium not found (apt-get install chromium, or set CRUX_CHROMIUM)"
stamp="$HERE/node_modules/.lock-stamp"
want="$(sha256sum "$HERE/package-lock.json" | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    log "npm ci (pinned by package-lock.json)"
    (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error)
    printf '%s' "$want" >"$stamp"
fi

if [[ -n "${CRUX_BIN:-}" ]]; then
    BIN="$CRUX_BIN"
else
    cargo build -p crux-cli --locked >/dev/null 2>&1 || die "cargo build -p crux-cli failed"
    BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/crux"
fi
ARTIFACTS="${CRUX_BROWSER_ARTIFACTS:-${CARGO_TARGET_DIR:-$ROOT/target}/browser-artifacts}"
mkdir -p "$ARTIFACTS"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/crux-browser.XXXXXX")"
PIDS=()
cleanup() {
    local status=$? pid
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [[ $status -ne 0 ]]; then
        for f in "$WORK"/*.log; do [[ -f "$f" ]] && { log "last lines of $(basename "$f"):"; tail -n 30 "$f" >&2; }; done
    fi
    rm -rf "$WORK"
    exit "$status"
}
trap cleanup EXIT

# address FILE PID WHAT → the http://… address WHAT printed on startup.
address() {
    local url=""
    for _ in $(seq 200); do
        url="$(grep -o "$3 listening on http://[0-9.:]*" "$1" 2>/dev/null | head -n1 | sed 's/.* on //')" || true
        [[ -n "$url" ]] && { printf '%s' "$url"; return 0; }
        kill -0 "$2" 2>/dev/null || { cat "$1" >&2; die "$3 exited during startup"; }
        sleep 0.05
    done
    die "$3 did not report its address within 10 s"
}

"$BIN" mock --listen 127.0.0.1:0 >"$WORK/mock.log" 2>&1 &
PIDS+=($!)
MOCK_URL="$(address "$WORK/mock.log" "$!" "crux mock")"

KEY="browser-provider-key"
MASTER="browser-master-key-$RANDOM$RANDOM"
mkdir -p "$WORK/data"
env -i PATH="$PATH" HOME="$WORK" XDG_DATA_HOME="$WORK/data" CRUX_LOG=warn CRUX_MASTER_KEY="$MASTER" \
    CRUX_VAULT_KEY="$(head -c 32 /dev/urandom | base64)" \
    OPENAI_API_KEY="$KEY" OPENAI_BASE_URL="$MOCK_URL/v1" ANTHROPIC_API_KEY="$KEY" ANTHROPIC_BASE_URL="$MOCK_URL" \
    GEMINI_BASE_URL="$MOCK_URL" \
    "$BIN" serve --listen 127.0.0.1:0 >"$WORK/serve.log" 2>&1 &
PIDS+=($!)
GATEWAY_URL="$(address "$WORK/serve.log" "$!" "crux serve")"
log "mock $MOCK_URL · gateway $GATEWAY_URL · chromium $CHROMIUM"

export CRUX_GATEWAY_URL="$GATEWAY_URL" CRUX_MASTER_KEY="$MASTER" CRUX_CHROMIUM="$CHROMIUM" \
    CRUX_BROWSER_ARTIFACTS="$ARTIFACTS" CRUX_DOCS_DIR="$ROOT/docs/console"
timeout --kill-after=10 "${CRUX_BROWSER_TIMEOUT_S:-300}" node --test --test-concurrency=1 "$HERE/console.test.mjs"
log "screenshots in $ARTIFACTS"
