#!/usr/bin/env bash
# SDK-compatibility suite: the official `openai` and `anthropic` Python SDKs against `crux serve`,
# with `crux mock` as every provider. Usage: bash tests/compat/run.sh [extra pytest args]
#
# - venv at target/compat-venv, reinstalled when requirements.txt (or the Python version) changes;
# - builds target/debug/crux (a no-op when CI already built it; CRUX_BIN overrides the binary);
# - starts one mock and two gateways on OS-assigned loopback ports (read back from their
#   "listening on" lines), one with CRUX_MASTER_KEY and one without (loopback mode);
# - exports CRUX_GATEWAY_URL, CRUX_GATEWAY_NOKEY_URL, CRUX_MASTER_KEY, CRUX_MOCK_URL and runs pytest;
# - stops what it started on exit and exits with pytest's status (5, "no tests ran", is a failure too).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
HERE="$ROOT/tests/compat"
PYTHON="${PYTHON:-python3}"
VENV="$ROOT/target/compat-venv"
SUITE_TIMEOUT_S="${CRUX_COMPAT_TIMEOUT_S:-180}"

log() { printf 'compat: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# --- venv -------------------------------------------------------------------------------------
command -v "$PYTHON" >/dev/null || die "$PYTHON not found (Python 3.9+ with the venv module is needed)"
want_stamp="$("$PYTHON" -c 'import sys; print(sys.version)' | head -n1) $(sha256sum "$HERE/requirements.txt" | cut -d' ' -f1)"
stamp_file="$VENV/.compat-stamp"
if [[ ! -x "$VENV/bin/python" || ! -f "$stamp_file" || "$(cat "$stamp_file")" != "$want_stamp" ]]; then
    log "creating $VENV"
    rm -rf "$VENV"
    mkdir -p "$ROOT/target"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --timeout 60 \
        -r "$HERE/requirements.txt"
    printf '%s' "$want_stamp" >"$stamp_file"
fi

# --- binary -----------------------------------------------------------------------------------
if [[ -n "${CRUX_BIN:-}" ]]; then
    BIN="$CRUX_BIN"
else
    build_log="$(mktemp "${TMPDIR:-/tmp}/crux-compat-build.XXXXXX")"
    if ! cargo build -p crux-cli --locked >"$build_log" 2>&1; then
        cat "$build_log" >&2
        rm -f "$build_log"
        die "cargo build -p crux-cli failed"
    fi
    rm -f "$build_log"
    BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/crux"
fi
[[ -x "$BIN" ]] || die "no crux binary at $BIN"

# --- processes --------------------------------------------------------------------------------
WORK="$(mktemp -d "${TMPDIR:-/tmp}/crux-compat.XXXXXX")"
PIDS=()
cleanup() {
    local status=$?
    local pid
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [[ $status -ne 0 && -z "${CRUX_COMPAT_QUIET_LOGS:-}" ]]; then
        local f
        for f in "$WORK"/*.log; do
            [[ -f "$f" ]] || continue
            log "last lines of $(basename "$f"):"
            tail -n 40 "$f" >&2 || true
        done
    fi
    rm -rf "$WORK"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# wait_listening LOGFILE PID WHAT → prints http://HOST:PORT from the "WHAT listening on http://..." line
wait_listening() {
    local file=$1 pid=$2 what=$3 url=""
    for _ in $(seq 200); do
        url="$(grep -o "$what listening on http://[0-9.:]*" "$file" 2>/dev/null | head -n1 | sed 's/.* on //')" || true
        [[ -n "$url" ]] && { printf '%s' "$url"; return 0; }
        kill -0 "$pid" 2>/dev/null || { cat "$file" >&2; die "$what exited during startup"; }
        sleep 0.05
    done
    cat "$file" >&2
    die "$what did not report its address within 10 s"
}

export CRUX_LOG="${CRUX_LOG:-info}" CRUX_LOG_FORMAT=json NO_COLOR=1

"$BIN" mock --listen 127.0.0.1:0 >"$WORK/mock.log" 2>&1 &
PIDS+=($!)
MOCK_URL="$(wait_listening "$WORK/mock.log" "$!" "crux mock")"

# Nothing listens on port 1 of the loopback: connecting there fails at once (the dead fallback target).
DEAD_URL="http://127.0.0.1:1"
cat >"$WORK/crux.toml" <<EOF
max_body_bytes = 100000

[providers.groq]
timeout_ms = { first_byte = 1000, idle = 1000 }

[routes.smart]
targets = ["xai/grok-3-mini", "openai/gpt-4o-mini"]

[routes.smart-anthropic]
targets = ["xai/grok-3-mini", "anthropic/claude-3-5-haiku-latest"]

[resilience]
max_retries = 0
breaker = { failures = 1000000, open_ms = 1000 }
EOF

PROVIDER_KEY="compat-provider-key"
gateway_env=(
    "CRUX_DATABASE_URL=sqlite://$WORK/crux.db"
    "XDG_DATA_HOME=$WORK/data"
    "OPENAI_API_KEY=$PROVIDER_KEY" "OPENAI_BASE_URL=$MOCK_URL/v1"
    "ANTHROPIC_API_KEY=$PROVIDER_KEY" "ANTHROPIC_BASE_URL=$MOCK_URL"
    "GEMINI_API_KEY=$PROVIDER_KEY" "GEMINI_BASE_URL=$MOCK_URL"
    "OLLAMA_HOST=$MOCK_URL"
    "OPENROUTER_API_KEY=$PROVIDER_KEY" "OPENROUTER_BASE_URL=$MOCK_URL/v1"
    "DEEPSEEK_API_KEY=$PROVIDER_KEY" "DEEPSEEK_BASE_URL=$MOCK_URL/v1"
    "XAI_API_KEY=$PROVIDER_KEY" "XAI_BASE_URL=$DEAD_URL/v1"
    "GROQ_API_KEY=$PROVIDER_KEY" "GROQ_BASE_URL=$MOCK_URL/v1"
    "MISTRAL_API_KEY=$PROVIDER_KEY" "MISTRAL_BASE_URL=$MOCK_URL/v1"
)
MASTER_KEY="compat-master-$RANDOM$RANDOM"
mkdir -p "$WORK/data"

env -u CRUX_CONFIG -u CRUX_LISTEN "${gateway_env[@]}" CRUX_MASTER_KEY="$MASTER_KEY" \
    "$BIN" serve --listen 127.0.0.1:0 --config "$WORK/crux.toml" >"$WORK/serve.log" 2>&1 &
PIDS+=($!)
GATEWAY_URL="$(wait_listening "$WORK/serve.log" "$!" "crux serve")"

env -u CRUX_CONFIG -u CRUX_LISTEN -u CRUX_MASTER_KEY "${gateway_env[@]}" \
    CRUX_DATABASE_URL="sqlite://$WORK/crux-nokey.db" \
    "$BIN" serve --listen 127.0.0.1:0 --config "$WORK/crux.toml" >"$WORK/serve-nokey.log" 2>&1 &
PIDS+=($!)
NOKEY_URL="$(wait_listening "$WORK/serve-nokey.log" "$!" "crux serve")"

# The README's quickstart on a bare machine: `crux serve --demo`, no keys, no endpoints, nothing else set.
env -i PATH="$PATH" HOME="$WORK/demo-home" XDG_DATA_HOME="$WORK/demo-data" XDG_CONFIG_HOME="$WORK/demo-config" \
    CRUX_LOG=error "$BIN" serve --demo --listen 127.0.0.1:0 >"$WORK/serve-demo.log" 2>&1 &
PIDS+=($!)
DEMO_URL="$(wait_listening "$WORK/serve-demo.log" "$!" "crux serve")"

log "mock $MOCK_URL · gateway $GATEWAY_URL · loopback-only gateway $NOKEY_URL · demo gateway $DEMO_URL"

# --- tests ------------------------------------------------------------------------------------
export CRUX_GATEWAY_URL="$GATEWAY_URL" CRUX_GATEWAY_NOKEY_URL="$NOKEY_URL" CRUX_GATEWAY_DEMO_URL="$DEMO_URL" \
    CRUX_MASTER_KEY="$MASTER_KEY" CRUX_MOCK_URL="$MOCK_URL" CRUX_PROVIDER_KEY="$PROVIDER_KEY"
export PYTHONDONTWRITEBYTECODE=1
# The whole suite unless the extra arguments name test files or node ids themselves.
targets=("$HERE")
for arg in "$@"; do
    [[ "$arg" != -* && -e "${arg%%::*}" ]] && targets=()
done
status=0
# The SDKs read these from the environment; the tests configure their clients explicitly.
sdk_env_unset=(-u OPENAI_API_KEY -u OPENAI_BASE_URL -u OPENAI_ORG_ID -u OPENAI_PROJECT_ID
    -u ANTHROPIC_API_KEY -u ANTHROPIC_AUTH_TOKEN -u ANTHROPIC_BASE_URL)
timeout --kill-after=10 "$SUITE_TIMEOUT_S" env "${sdk_env_unset[@]}" \
    "$VENV/bin/python" -m pytest -q -p no:cacheprovider "${targets[@]}" "$@" || status=$?
case $status in
    0) ;;
    5) log "pytest collected no tests: that is a failure" ;;
    124) log "the suite exceeded ${SUITE_TIMEOUT_S}s" ;;
esac
exit "$status"
