#!/usr/bin/env bash
# Real-client suite: the OpenAI and Anthropic Node SDKs, the Vercel AI SDK, Claude Code (`claude -p`) and Codex CLI
# (`codex exec`), pinned in package-lock.json, against `crux serve` with `crux mock` as every provider, on loopback.
# Each case asserts what the client printed and what reached the mock (GET <mock>/_mock/requests).
# Usage: bash tests/clients/run.sh [node --test args]. Needs node ≥ 20 and npm (the registry, for `npm ci`).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/tests/clients"
cd "$ROOT"
log() { printf 'clients: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

command -v node >/dev/null || die "node not found (Node.js 20+ is needed)"
command -v npm >/dev/null || die "npm not found"
# Installed from the lockfile only when it changed.
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

WORK="$(mktemp -d "${TMPDIR:-/tmp}/crux-clients.XXXXXX")"
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

wait_listening() {
    local file=$1 pid=$2 what=$3 url=""
    for _ in $(seq 200); do
        url="$(grep -o "$what listening on http://[0-9.:]*" "$file" 2>/dev/null | head -n1 | sed 's/.* on //')" || true
        [[ -n "$url" ]] && { printf '%s' "$url"; return 0; }
        kill -0 "$pid" 2>/dev/null || { cat "$file" >&2; die "$what exited during startup"; }
        sleep 0.05
    done
    die "$what did not report its address within 10 s"
}

"$BIN" mock --listen 127.0.0.1:0 >"$WORK/mock.log" 2>&1 &
PIDS+=($!)
MOCK_URL="$(wait_listening "$WORK/mock.log" "$!" "crux mock")"

KEY="clients-provider-key"
mkdir -p "$WORK/data"
env -i PATH="$PATH" HOME="$WORK" XDG_DATA_HOME="$WORK/data" CRUX_LOG=warn \
    OPENAI_API_KEY="$KEY" OPENAI_BASE_URL="$MOCK_URL/v1" ANTHROPIC_API_KEY="$KEY" ANTHROPIC_BASE_URL="$MOCK_URL" \
    GEMINI_API_KEY="$KEY" GEMINI_BASE_URL="$MOCK_URL" \
    "$BIN" serve --listen 127.0.0.1:0 >"$WORK/serve.log" 2>&1 &
PIDS+=($!)
GATEWAY_URL="$(wait_listening "$WORK/serve.log" "$!" "crux serve")"
log "mock $MOCK_URL · gateway $GATEWAY_URL"

export CRUX_GATEWAY_URL="$GATEWAY_URL" CRUX_MOCK_URL="$MOCK_URL" CRUX_CLIENTS_WORK="$WORK" NO_COLOR=1
timeout --kill-after=10 "${CRUX_CLIENTS_TIMEOUT_S:-600}" \
    node --test --test-concurrency=1 "${@:-$HERE/cases}"
