#!/usr/bin/env bash
# Gateway load bench: the same wrk load directly against an nginx upstream serving fixed bodies, through "the floor"
# (the thinnest parse-and-forward proxy, built from ../shared/floor when present) and through `crux serve`, at 1 and 64
# connections, non-stream and stream, in several modes (store, exporters, same-wire pass-through, cross-wire
# translation); then a memory phase of BENCH_MEM_REQUESTS requests.
# Prints a Markdown report (also written to $BENCH_OUT if set) and keeps every wrk output in $BENCH_RAW_DIR.
# Everything runs on 127.0.0.1 and is cleaned up on exit.
#
# Knobs (environment):
#   BENCH_DURATION=10        seconds per measured run (direct, floor, crux)
#   BENCH_WARMUP=2           seconds of warm-up before each cell
#   BENCH_QUICK=1            smoke mode: 3 s runs, 1 s warm-up, 20,000-request memory phase
#   BENCH_MODES="sqlite telemetry passthrough translate postgres two-instances"   modes to run (also: cache, keyed,
#                            redis — the response cache's hit path, and rpm limits in memory vs on Redis):
#                              sqlite         OpenAI client -> openai/groq targets (OpenAI upstream), SQLite store
#                              telemetry      sqlite with every exporter on (push, StatsD, OTLP traces+metrics into
#                                             local sinks), to compare with "sqlite" in one run
#                              passthrough    Anthropic client (/v1/messages) -> anthropic/... (same wire), SQLite
#                              translate      OpenAI client (/v1/chat/completions) -> anthropic/... (cross wire), SQLite
#                              postgres, two-instances   the OpenAI load on PostgreSQL (one or two gateways)
#   BENCH_FLOOR_SRC=../shared/floor   the floor's source (copied to BENCH_FLOOR_DIR and built there, never in the repo);
#                            BENCH_NO_FLOOR=1 skips it
#   BENCH_FLOOR_DIR=/tmp/crux-floor   where the floor is copied and built (its own target dir; reused between runs)
#   BENCH_MEM_REQUESTS=200000  requests in the memory phase; BENCH_SKIP_MEM=1 skips it
#   BENCH_PG_URL=postgres://postgres@127.0.0.1:5432/postgres   admin URL used to create/drop the bench database
#   BENCH_REDIS_URL=redis://127.0.0.1:6379/3   the Redis of the redis mode (skipped with a note when it does not answer)
#   BENCH_WRK_THREADS=2      wrk threads at 64 connections (1 at 1 connection)
#   BENCH_OUT=FILE           also write the report there
#   BENCH_RAW_DIR=DIR        where the raw rows go (every wrk output, gateway logs, the report); default
#                            target/bench-runs/<UTC time>
#   BENCH_KEEP=1             keep the temp dir (nginx config, bodies) and print its path
#   BENCH_NO_BUILD=1         use the existing target/release/crux without building
#   BENCH_CRUX=PATH          benchmark this crux binary instead of target/release/crux (implies BENCH_NO_BUILD=1)
#   BENCH_AB_ROUNDS=N        after the modes, N interleaved rounds of same-wire vs translation on ONE gateway per
#                            Anthropic file (each cell: the Anthropic client, then the OpenAI client, DURATION s each);
#                            reports the medians and how many rounds each won (sequential modes drift too much to
#                            compare small differences). 0 (default) skips it
#   BENCH_AB=wire|exporters  what the A/B phase compares: "wire" (default, above) or "exporters": two gateways on
#                            the OpenAI load, every exporter off vs every exporter on (the telemetry mode's sinks),
#                            alternating the same way (issue 13's targets are checked on these medians)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

QUICK=${BENCH_QUICK:-0}
if [[ $QUICK == 1 ]]; then
    DURATION=${BENCH_DURATION:-3}
    WARMUP=${BENCH_WARMUP:-1}
    MEM_REQUESTS=${BENCH_MEM_REQUESTS:-20000}
else
    DURATION=${BENCH_DURATION:-10}
    WARMUP=${BENCH_WARMUP:-2}
    MEM_REQUESTS=${BENCH_MEM_REQUESTS:-200000}
fi
MODES=${BENCH_MODES:-"sqlite telemetry passthrough translate postgres two-instances"}
SKIP_MEM=${BENCH_SKIP_MEM:-0}
PG_ADMIN_URL=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
REDIS_URL=${BENCH_REDIS_URL:-redis://127.0.0.1:6379/3}
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning" # no NOTICE chatter from DROP ... IF EXISTS
WRK_THREADS=${BENCH_WRK_THREADS:-2}
CONNS_LIST=(1 64)
KINDS=(nonstream stream)

log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] error: %s\n' "$*" >&2; exit 1; }

for v in DURATION WARMUP MEM_REQUESTS WRK_THREADS; do
    [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a whole number (got '${!v}')"
done

# ---------------------------------------------------------------------------------------------------------- tools
need_install=()
command -v wrk >/dev/null 2>&1 || need_install+=(wrk)
command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]] || need_install+=(nginx)
command -v curl >/dev/null 2>&1 || need_install+=(curl)
if ((${#need_install[@]})); then
    log "installing ${need_install[*]} from Debian"
    SUDO=""
    [[ $(id -u) == 0 ]] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_install[@]}" >/dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

if [[ -n ${BENCH_CRUX:-} ]]; then
    BENCH_NO_BUILD=1
elif [[ ${BENCH_NO_BUILD:-0} != 1 ]]; then
    log "building: cargo build --release -p crux-cli --locked"
    cargo build --release -p crux-cli --locked >&2
fi
CRUX=${BENCH_CRUX:-"$ROOT/target/release/crux"}
# The commit the binary was built from (taken now: the tree may move while the bench runs).
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null | head -n 1) ]]; then
    COMMIT+=" (with uncommitted changes)"
fi
[[ ${BENCH_NO_BUILD:-0} == 1 ]] && COMMIT+=" (BENCH_NO_BUILD: binary $CRUX built earlier)"
[[ -x $CRUX ]] || die "$CRUX not found (build it with: cargo build --release -p crux-cli --locked)"

# The floor: copied out of the repo and built with its own target dir (reused when the source has not changed).
FLOOR_SRC=${BENCH_FLOOR_SRC:-"$ROOT/../shared/floor"}
FLOOR_DIR=${BENCH_FLOOR_DIR:-/tmp/crux-floor}
FLOOR=""
FLOOR_NOTE=""
if [[ ${BENCH_NO_FLOOR:-0} == 1 ]]; then
    FLOOR_NOTE="skipped (BENCH_NO_FLOOR=1)"
elif [[ ! -f $FLOOR_SRC/Cargo.toml ]]; then
    FLOOR_NOTE="skipped: no floor source at $FLOOR_SRC"
    log "the floor is $FLOOR_NOTE"
else
    mkdir -p "$FLOOR_DIR"
    if ! diff -rq -x target "$FLOOR_SRC" "$FLOOR_DIR/src-copy" >/dev/null 2>&1; then
        rm -rf "$FLOOR_DIR/src-copy"
        cp -r "$FLOOR_SRC" "$FLOOR_DIR/src-copy"
        rm -rf "$FLOOR_DIR/src-copy/target"
    fi
    log "building the floor in $FLOOR_DIR (its own target dir)"
    if (cd "$FLOOR_DIR/src-copy" && CARGO_TARGET_DIR="$FLOOR_DIR/target" cargo build --release -q >&2); then
        FLOOR="$FLOOR_DIR/target/release/floor"
    else
        FLOOR_NOTE="skipped: the floor did not build"
        log "the floor is $FLOOR_NOTE"
    fi
fi

# ------------------------------------------------------------------------------------------------ state and cleanup
TMP=$(mktemp -d "${TMPDIR:-/tmp}/crux-bench.XXXXXX")
mkdir -p "$TMP/logs" "$TMP/nginx/logs" "$TMP/nginx/tmp" "$TMP/run"
PIDS=()          # every background process this script started
PG_DBS=()        # databases this script created
USED_PORTS=()

kill_pid() {
    local pid=$1 i
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local rc=$? pid db
    trap - EXIT INT TERM
    for pid in "${PIDS[@]}"; do
        kill_pid "$pid"
    done
    for db in "${PG_DBS[@]}"; do
        psql "$PG_ADMIN_URL" -qAt -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
    done
    if [[ ${BENCH_KEEP:-0} == 1 ]]; then
        log "kept $TMP"
    else
        rm -rf "$TMP"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Sets PORT to a free 127.0.0.1 port not handed out before (no subshell: USED_PORTS must persist).
free_port() {
    local p i u taken
    for i in $(seq 1 500); do
        p=$(((RANDOM * 7 + i) % 25000 + 30000))
        taken=0
        for u in "${USED_PORTS[@]}"; do [[ $u == "$p" ]] && taken=1; done
        ((taken)) && continue
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            USED_PORTS+=("$p")
            PORT=$p
            return 0
        fi
    done
    die "no free port found"
}

wait_http() { # URL SECONDS
    local url=$1 secs=$2 i
    for i in $(seq 1 $((secs * 10))); do
        curl -fsS -o /dev/null --max-time 1 "$url" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# ------------------------------------------------------------------------------------------ upstream: nginx bodies
# A realistic chat.completion (~650 bytes with usage).
JSON_BODY='{"id":"chatcmpl-bench0000000000000000000001","object":"chat.completion","created":1735689600,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"message":{"role":"assistant","content":"Hello! This is a fixed answer served by nginx for the Crux gateway benchmark. It is about as long as a short real reply, so parsing and re-encoding it costs what a real one would.","refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":38,"total_tokens":47,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"service_tier":"default","system_fingerprint":"fp_bench01"}'

# An SSE stream: a role chunk, 20 content chunks, a finish chunk, a usage chunk (choices: []) and [DONE].
sse_frame() { printf 'data: {"id":"chatcmpl-bench0000000000000000000002","object":"chat.completion.chunk","created":1735689600,"model":"llama-3.3-70b-versatile","system_fingerprint":"fp_bench02","choices":%s}\\n\\n' "$1"; }
SSE_BODY=$(sse_frame '[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]')
for w in Hello '!' ' This' ' is' ' a' ' fixed' ' streamed' ' answer' ' served' ' by' ' nginx' ' for' ' the' ' Crux' ' gateway' ' bench' 'mark' ',' ' chunk' ' by chunk.'; do
    SSE_BODY+=$(sse_frame "[{\"index\":0,\"delta\":{\"content\":\"$w\"},\"logprobs\":null,\"finish_reason\":null}]")
done
SSE_BODY+=$(sse_frame '[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]')
SSE_BODY+='data: {"id":"chatcmpl-bench0000000000000000000002","object":"chat.completion.chunk","created":1735689600,"model":"llama-3.3-70b-versatile","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":20,"total_tokens":29}}\n\ndata: [DONE]\n\n'

# The same answer in Anthropic's Messages shape, and its SSE stream: message_start, a text block of 20 deltas,
# message_delta with the usage, message_stop.
A_JSON_BODY='{"id":"msg_bench00000000000000000001","type":"message","role":"assistant","model":"claude-3-5-haiku-20241022","content":[{"type":"text","text":"Hello! This is a fixed answer served by nginx for the Crux gateway benchmark. It is about as long as a short real reply, so parsing and re-encoding it costs what a real one would."}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":9,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":38,"service_tier":"standard"}}'
a_event() { printf 'event: %s\\ndata: %s\\n\\n' "$1" "$2"; }
A_SSE_BODY=$(a_event message_start '{"type":"message_start","message":{"id":"msg_bench00000000000000000002","type":"message","role":"assistant","model":"claude-3-5-haiku-20241022","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":9,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}}')
A_SSE_BODY+=$(a_event content_block_start '{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}')
for w in Hello '!' ' This' ' is' ' a' ' fixed' ' streamed' ' answer' ' served' ' by' ' nginx' ' for' ' the' ' Crux' ' gateway' ' bench' 'mark' ',' ' chunk' ' by chunk.'; do
    A_SSE_BODY+=$(a_event content_block_delta "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"$w\"}}")
done
A_SSE_BODY+=$(a_event content_block_stop '{"type":"content_block_stop","index":0}')
A_SSE_BODY+=$(a_event message_delta '{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":20}}')
A_SSE_BODY+=$(a_event message_stop '{"type":"message_stop"}')

# The bodies are static files at the request paths (nginx's `return` caps a literal at 4 KiB, the SSE body is larger).
# nginx answers POST to a static file with 405; `error_page 405 =200 $uri` re-serves it as a GET with status 200.
for prefix in json sse ajson asse; do mkdir -p "$TMP/nginx/html/$prefix/v1/chat"; done
printf '%s' "$JSON_BODY" >"$TMP/nginx/html/json/v1/chat/completions"
printf '%b' "$SSE_BODY" >"$TMP/nginx/html/sse/v1/chat/completions"
printf '%s' "$A_JSON_BODY" >"$TMP/nginx/html/ajson/v1/messages"
printf '%b' "$A_SSE_BODY" >"$TMP/nginx/html/asse/v1/messages"
# nginx workers started by root run as nobody: let them reach the bodies (the temp dir is 0700).
chmod 711 "$TMP" "$TMP/nginx"
chmod -R a+rX "$TMP/nginx/html"

free_port
NGINX_PORT=$PORT
cat >"$TMP/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $TMP/nginx/tmp/body;
    proxy_temp_path $TMP/nginx/tmp/proxy;
    fastcgi_temp_path $TMP/nginx/tmp/fastcgi;
    uwsgi_temp_path $TMP/nginx/tmp/uwsgi;
    scgi_temp_path $TMP/nginx/tmp/scgi;
    keepalive_timeout 120s;
    keepalive_requests 100000000;
    sendfile on;
    tcp_nodelay on;
    open_file_cache max=16 inactive=600s;
    open_file_cache_valid 600s;
    etag off;
    types { }
    root $TMP/nginx/html;
    server {
        listen 127.0.0.1:$NGINX_PORT backlog=4096;
        location /json/ {
            default_type application/json;
            error_page 405 =200 \$uri;
        }
        location /ajson/ {
            default_type application/json;
            error_page 405 =200 \$uri;
        }
        location /asse/ {
            default_type text/event-stream;
            add_header Cache-Control no-cache;
            error_page 405 =200 \$uri;
        }
        location /sse/ {
            default_type text/event-stream;
            add_header Cache-Control no-cache;
            error_page 405 =200 \$uri;
        }
        # The exporters' HTTP sink (OTLP and push): answered by nginx, so the receiver costs next to no CPU.
        location /sink/ {
            client_max_body_size 64m;
            return 200;
        }
        location / { return 404; }
    }
}
EOF
"$NGINX" -t -q -p "$TMP/nginx" -e "$TMP/nginx/logs/error.log" -c "$TMP/nginx/nginx.conf" 2>"$TMP/logs/nginx-test.txt" ||
    die "nginx config rejected: $(cat "$TMP/logs/nginx-test.txt")"
"$NGINX" -p "$TMP/nginx" -e "$TMP/nginx/logs/error.log" -c "$TMP/nginx/nginx.conf" -g 'daemon off;' \
    >"$TMP/logs/nginx.out" 2>&1 &
PIDS+=($!)
UP="http://127.0.0.1:$NGINX_PORT"
for i in $(seq 1 50); do
    curl -fsS -o /dev/null --max-time 1 -X POST -d '{}' "$UP/json/v1/chat/completions" 2>/dev/null && break
    sleep 0.1
done
curl -fsS -X POST -d '{}' "$UP/json/v1/chat/completions" >"$TMP/run/probe.json" || die "nginx does not answer POST"
curl -fsS -X POST -d '{}' "$UP/sse/v1/chat/completions" >"$TMP/run/probe.sse" || die "nginx does not answer POST (sse)"
grep -q '^data: \[DONE\]$' "$TMP/run/probe.sse" || die "nginx SSE body is malformed"
curl -fsS -X POST -d '{}' "$UP/ajson/v1/messages" >"$TMP/run/probe.ajson" || die "nginx does not answer POST (anthropic)"
curl -fsS -X POST -d '{}' "$UP/asse/v1/messages" >"$TMP/run/probe.asse" || die "nginx does not answer POST (anthropic sse)"
grep -q '^event: message_stop$' "$TMP/run/probe.asse" || die "nginx Anthropic SSE body is malformed"
log "nginx upstream on $UP (json $(wc -c <"$TMP/run/probe.json") B, sse $(wc -c <"$TMP/run/probe.sse") B, $(grep -c '^data: ' "$TMP/run/probe.sse") frames)"
log "  anthropic: json $(wc -c <"$TMP/run/probe.ajson") B, sse $(wc -c <"$TMP/run/probe.asse") B, $(grep -c '^event: ' "$TMP/run/probe.asse") events"

# --------------------------------------------------------------------------------------------------- wrk scripts
# Client families: "openai" (Chat Completions to openai/groq targets on the OpenAI upstream), "anthropic" (Messages to
# an anthropic target: same wire) and "translate" (Chat Completions to the same anthropic target: cross wire).
declare -A REQ CLIENT_PATH
REQ[openai,nonstream]='{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"hello"}]}'
REQ[openai,stream]='{"model":"groq/llama-3.3-70b-versatile","messages":[{"role":"user","content":"hello"}],"stream":true}'
REQ[anthropic,nonstream]='{"model":"anthropic/claude-3-5-haiku-latest","max_tokens":256,"messages":[{"role":"user","content":"hello"}]}'
REQ[anthropic,stream]='{"model":"anthropic/claude-3-5-haiku-latest","max_tokens":256,"messages":[{"role":"user","content":"hello"}],"stream":true}'
REQ[translate,nonstream]='{"model":"anthropic/claude-3-5-haiku-latest","messages":[{"role":"user","content":"hello"}]}'
REQ[translate,stream]='{"model":"anthropic/claude-3-5-haiku-latest","messages":[{"role":"user","content":"hello"}],"stream":true}'
CLIENT_PATH[openai]=/v1/chat/completions
CLIENT_PATH[anthropic]=/v1/messages
CLIENT_PATH[translate]=/v1/chat/completions
# "keyed": the OpenAI family sent with a virtual key (its lua files are written by the keyed and redis modes).
REQ[keyed,nonstream]=${REQ[openai,nonstream]}
REQ[keyed,stream]=${REQ[openai,stream]}
CLIENT_PATH[keyed]=/v1/chat/completions
write_lua() { # FILE BODY [HEADER VALUE]
    local extra=""
    [[ -n ${3:-} ]] && extra="wrk.headers[\"$3\"] = \"$4\""
    cat >"$1" <<EOF
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
$extra
wrk.body = '$2'
done = function(summary, latency, requests)
    local e = summary.errors
    local secs = summary.duration / 1e6
    io.write(string.format("BENCH p50=%d p99=%d rps=%.2f requests=%d errors=%d\n",
        latency:percentile(50), latency:percentile(99), summary.requests / secs, summary.requests,
        e.connect + e.read + e.write + e.status + e.timeout))
end
EOF
}
for fam in openai anthropic translate; do
    for kind in nonstream stream; do
        if [[ $fam == anthropic ]]; then
            write_lua "$TMP/run/$fam-$kind.lua" "${REQ[$fam,$kind]}" anthropic-version 2023-06-01
        else
            write_lua "$TMP/run/$fam-$kind.lua" "${REQ[$fam,$kind]}"
        fi
    done
done

upstream_url() { # FAMILY KIND: the nginx file the family's target reads
    case $1,$2 in
    openai,stream | keyed,stream) echo "$UP/sse/v1/chat/completions" ;;
    openai,* | keyed,*) echo "$UP/json/v1/chat/completions" ;;
    *,stream) echo "$UP/asse/v1/messages" ;;
    *) echo "$UP/ajson/v1/messages" ;;
    esac
}

# wrk_once NAME URL KIND CONNS THREADS SECONDS: runs wrk and prints its BENCH line (or nothing).
wrk_once() { # KIND names the script: FAMILY-KIND
    local name=$1 url=$2 kind=$3 conns=$4 threads=$5 secs=$6
    timeout $((secs + 30)) wrk -t"$threads" -c"$conns" -d"${secs}s" --timeout 5s --latency \
        -s "$TMP/run/$kind.lua" "$url" >"$TMP/logs/$name.txt" 2>&1 || true
    grep '^BENCH ' "$TMP/logs/$name.txt" | tail -n 1 || true
}

field() { # LINE KEY
    sed -n "s/.*[[:space:]]$2=\([^[:space:]]*\).*/\1/p" <<<" $1"
}

# run_load NAME KIND CONNS SECONDS URL...: one wrk per URL, connections split evenly; prints "p50 p99 rps requests errors".
# Several wrk: req/s, requests and errors are summed, p50 is the request-weighted mean and p99 the max of the parts.
run_load() {
    local name=$1 kind=$2 conns=$3 secs=$4
    shift 4
    local urls=("$@") n=$# i per threads
    per=$((conns / n))
    ((per >= 1)) || per=1
    threads=$WRK_THREADS
    ((n > 1)) && threads=1
    ((threads > per)) && threads=$per
    local pids=()
    for i in "${!urls[@]}"; do
        wrk_once "$name.$i" "${urls[$i]}" "$kind" "$per" "$threads" "$secs" >"$TMP/run/$name.$i.line" &
        pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i" || true; done
    local p50w=0 p99=0 rps=0 reqs=0 errs=0 line ok=1
    for i in "${!urls[@]}"; do
        line=$(cat "$TMP/run/$name.$i.line")
        if [[ -z $line ]]; then ok=0; continue; fi
        read -r p50w p99 rps reqs errs < <(awk -v a="$p50w" -v b="$p99" -v c="$rps" -v d="$reqs" -v e="$errs" \
            -v p50="$(field "$line" p50)" -v q99="$(field "$line" p99)" -v r="$(field "$line" rps)" \
            -v n="$(field "$line" requests)" -v x="$(field "$line" errors)" \
            'BEGIN { printf "%.0f %d %.2f %d %d\n", a + p50 * n, (q99 > b ? q99 : b), c + r, d + n, e + x }')
    done
    if ((ok == 0 || reqs == 0)); then
        echo "NA NA 0 0 NA"
    else
        awk -v a="$p50w" -v n="$reqs" -v b="$p99" -v c="$rps" -v e="$errs" \
            'BEGIN { printf "%d %d %.2f %d %d\n", a / n, b, c, n, e }'
    fi
}

# ------------------------------------------------------------------------------------------------ gateway control
GW_PIDS=()
GW_URLS=()
cpu_ticks() { # PID...: utime+stime of the processes, in clock ticks
    local t=0 p
    for p in "$@"; do
        [[ -r /proc/$p/stat ]] || continue
        t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat")))
    done
    echo "$t"
}
status_kb() { # PID FIELD (VmRSS or VmHWM)
    awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0
}

# start_gateway NAME DATABASE_URL CONFIG FAMILY "KINDS" [ANTHROPIC_PREFIX]: one `crux serve`, checked with one request
# of each of KINDS in FAMILY's shape before any timing. ANTHROPIC_PREFIX (ajson or asse) picks the Anthropic body.
start_gateway() {
    local name=$1 db=$2 config=$3 fam=$4 kinds=$5 aprefix=${6:-ajson} port pid
    free_port
    port=$PORT
    mkdir -p "$TMP/gw-$name"
    (
        cd "$TMP/gw-$name"
        exec env -u CRUX_MASTER_KEY -u CRUX_CONFIG -u CRUX_LISTEN -u PGOPTIONS \
            -u HTTP_PROXY -u HTTPS_PROXY -u ALL_PROXY -u http_proxy -u https_proxy -u all_proxy \
            NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost \
            CRUX_DATABASE_URL="$db" CRUX_LOG=warn CRUX_LOG_FORMAT=text \
            OPENAI_BASE_URL="$UP/json/v1" OPENAI_API_KEY=sk-bench-not-a-real-key \
            GROQ_BASE_URL="$UP/sse/v1" GROQ_API_KEY=gsk-bench-not-a-real-key \
            ANTHROPIC_BASE_URL="$UP/$aprefix" ANTHROPIC_API_KEY=sk-ant-bench-not-a-real-key \
            ${GW_WRAP:-} "$CRUX" ${config:+--config "$config"} serve --listen "127.0.0.1:$port"
    ) >"$TMP/logs/gateway-$name.log" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    if ! wait_http "http://127.0.0.1:$port/health" "${GW_START_SECS:-30}"; then
        cat "$TMP/logs/gateway-$name.log" >&2
        die "gateway $name did not answer /health"
    fi
    local code kind url="http://127.0.0.1:$port${CLIENT_PATH[$fam]}" hdr=(-H 'content-type: application/json')
    [[ $fam == anthropic ]] && hdr+=(-H 'anthropic-version: 2023-06-01')
    for kind in $kinds; do
        code=$(curl -sS -N -o "$TMP/run/check-$name-$kind" -w '%{http_code}' "${hdr[@]}" -d "${REQ[$fam,$kind]}" "$url")
        [[ $code == 200 ]] || die "gateway $name $kind check answered $code: $(head -c 300 "$TMP/run/check-$name-$kind")"
        if [[ $kind == stream ]]; then
            grep -q '^data: \[DONE\]\|^event: message_stop' "$TMP/run/check-$name-$kind" ||
                die "gateway $name stream check: no end of stream in $(head -c 300 "$TMP/run/check-$name-$kind")"
        fi
    done
    GW_PIDS+=("$pid")
    GW_URLS+=("$url")
    log "gateway $name pid $pid on 127.0.0.1:$port (store $db)"
}

family_of() { # MODE -> client family
    case $1 in
    passthrough) echo anthropic ;;
    translate) echo translate ;;
    keyed | redis) echo keyed ;;
    *) echo openai ;;
    esac
}

# telemetry_setup: local sinks (HTTP 200 for OTLP and push, a UDP reader for StatsD), started once, and a config
# with every exporter on; sets TELEMETRY_TOML.
TELEMETRY_TOML=""
telemetry_setup() {
    [[ -n $TELEMETRY_TOML ]] && return 0
    # Sinks: nginx answers OTLP and push (/sink/), a UDP reader takes StatsD.
    free_port; SINK_UDP=$PORT
    python3 - "$SINK_UDP" >"$TMP/logs/sinks.log" 2>&1 <<'PY' &
import socket, sys
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", int(sys.argv[1])))
while True: u.recv(65536)
PY
    PIDS+=($!)
    cat >"$TMP/telemetry.toml" <<TOML
[telemetry]
prometheus = true
push = { url = "$UP/sink", interval_ms = 1000 }
statsd = { addr = "127.0.0.1:$SINK_UDP", flush_ms = 1000 }
otlp = { endpoint = "$UP/sink", interval_ms = 1000 }
TOML
    TELEMETRY_TOML="$TMP/telemetry.toml"
}

# floor_url UPSTREAM_URL MODE: sets FURL to a floor instance forwarding to UPSTREAM_URL (started once, then reused;
# no subshell: PIDS must persist); MODE is "parse" (parse and re-serialize both ways, the issue's floor) or "raw"
# (bytes as they are; used for SSE bodies, which the floor buffers whole).
declare -A FLOOR_URLS
FLOOR_PIDS=()
floor_url() {
    local key="$1 $2"
    if [[ -z ${FLOOR_URLS[$key]:-} ]]; then
        free_port
        "$FLOOR" "127.0.0.1:$PORT" "$1" "$2" >"$TMP/logs/floor-$PORT.log" 2>&1 &
        PIDS+=($!)
        FLOOR_PIDS+=($!)
        FLOOR_URLS[$key]="http://127.0.0.1:$PORT/v1/chat/completions"
        local i
        for i in $(seq 1 50); do
            curl -fsS -o /dev/null --max-time 1 -X POST -d '{}' "${FLOOR_URLS[$key]}" 2>/dev/null && break
            sleep 0.1
        done
    fi
    FURL=${FLOOR_URLS[$key]}
}

stop_gateways() {
    local pid
    for pid in "${GW_PIDS[@]}"; do kill_pid "$pid"; done
    GW_PIDS=()
    GW_URLS=()
}

metrics_count() { # URL of /metrics: sum of crux_requests_total, or empty
    curl -fsS --max-time 2 "$1" 2>/dev/null |
        awk '/^crux_requests_total[{ ]/ { s += $NF; seen = 1 } END { if (seen) printf "%d\n", s }'
}

# Chat logs written to the store, as "N" or a reason.
store_rows() { # MODE DATABASE_URL
    local mode=$1 db=$2 n
    if [[ $db == sqlite://* ]]; then
        local file=${db#sqlite://}
        file=${file%%\?*}
        [[ -f $file ]] || { echo "no (store file never created)"; return; }
        command -v sqlite3 >/dev/null 2>&1 || { echo "unknown (sqlite3 not installed)"; return; }
        n=$(sqlite3 "$file" 'SELECT count(*) FROM chat_logs' 2>/dev/null) || { echo "no (no chat_logs table)"; return; }
    else
        command -v psql >/dev/null 2>&1 || { echo "unknown (psql not installed)"; return; }
        n=$(psql "$db" -qAt -c 'SELECT count(*) FROM chat_logs' 2>/dev/null) || { echo "no (no chat_logs table)"; return; }
    fi
    if [[ $n == 0 ]]; then echo "no (0 rows)"; else echo "yes ($n rows)"; fi
}

pg_create() { # sets DB_URL to a new database (no subshell: PG_DBS must persist for the cleanup)
    local db="crux_bench_$$_$1"
    psql "$PG_ADMIN_URL" -qAt -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
    psql "$PG_ADMIN_URL" -qAt -c "CREATE DATABASE $db" >/dev/null
    PG_DBS+=("$db")
    DB_URL="${PG_ADMIN_URL%/*}/$db"
}

# ------------------------------------------------------------------------------------ instruction counts (callgrind)
# BENCH_CALLGRIND=N: instead of the wrk runs, count the CPU instructions per request (all threads, the store writer
# included) of the gateway in each mode of BENCH_MODES (sqlite, telemetry, passthrough, translate) and of the floor:
# each runs under `valgrind --tool=callgrind`, gets 100 warm-up requests, then N requests from one keep-alive client (`cg_client`, sequential) with
# collection on. Instruction counts do not depend on the machine's load, so they show what a change bought.
if [[ -n ${BENCH_CALLGRIND:-} ]]; then
    [[ $BENCH_CALLGRIND =~ ^[0-9]+$ ]] || die "BENCH_CALLGRIND must be a whole number"
    command -v valgrind >/dev/null 2>&1 || die "BENCH_CALLGRIND needs valgrind (apt-get install valgrind)"
    # cg_client URL BODY_FILE N [HEADER VALUE]: N sequential POSTs on one keep-alive connection, each answer read to
    # its end (also chunked streams, which ab cannot read); prints "Failed requests: F" (non-200 or broken answers).
    cg_client() {
        python3 - "$@" <<'PY'
import http.client, sys, urllib.parse
url, body, n = sys.argv[1], open(sys.argv[2], "rb").read(), int(sys.argv[3])
hdr = {"content-type": "application/json"}
if len(sys.argv) > 5:
    hdr[sys.argv[4]] = sys.argv[5]
u = urllib.parse.urlsplit(url)
c, failed = None, 0
for _ in range(n):
    try:
        c = c or http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        c.request("POST", u.path, body, hdr)
        r = c.getresponse()
        r.read()
        failed += r.status != 200
    except (OSError, http.client.HTTPException):
        failed += 1
        c = None
print(f"Failed requests: {failed}")
PY
    }
    CG_N=$BENCH_CALLGRIND
    declare -A CG
    # callgrind_one NAME PID URL FAMILY KIND: warm up, collect N requests, sets CG[NAME]=instructions per request.
    callgrind_one() {
        local name=$1 pid=$2 url=$3 fam=$4 kind=$5 hdr=()
        printf '%s' "${REQ[$fam,$kind]}" >"$TMP/run/cg-body.json"
        [[ $fam == anthropic ]] && hdr=(anthropic-version 2023-06-01)
        cg_client "$url" "$TMP/run/cg-body.json" 100 "${hdr[@]}" >"$TMP/logs/cg-$name-warm.txt" 2>&1 || true
        callgrind_control -i on "$pid" >/dev/null
        cg_client "$url" "$TMP/run/cg-body.json" "$CG_N" "${hdr[@]}" >"$TMP/logs/cg-$name.txt" 2>&1 || true
        sleep 1 # the chat-log writer flushes its batch
        callgrind_control -d "$pid" >/dev/null
        callgrind_control -i off "$pid" >/dev/null
        local total failed
        total=$(awk '/^(summary|totals):/ { s += $2 } END { printf "%d", s }' "$TMP/cg/$name".out* 2>/dev/null)
        failed=$(awk '/^Failed requests:/ { print $3 }' "$TMP/logs/cg-$name.txt")
        CG[$name]=$(awk -v t="$total" -v n="$CG_N" 'BEGIN { printf "%.0f", t / n }')
        CG[$name,failed]=${failed:-NA}
        log "callgrind $name: ${CG[$name]} instructions per request (failed: ${failed:-NA})"
    }
    mkdir -p "$TMP/cg"
    CG_ROWS=()
    for mode in $MODES; do
        case $mode in
        sqlite | telemetry | passthrough | translate) ;;
        *) log "callgrind: mode $mode skipped (sqlite, telemetry, passthrough, translate)"; continue ;;
        esac
        fam=$(family_of "$mode")
        config=""
        if [[ $mode == telemetry ]]; then
            telemetry_setup
            config=$TELEMETRY_TOML
        fi
        for kind in "${KINDS[@]}"; do
            aprefix=ajson
            [[ $kind == stream ]] && aprefix=asse
            GW_WRAP="valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=$TMP/cg/$mode-$kind.out.%p"
            GW_START_SECS=180
            start_gateway "cg-$mode-$kind" "sqlite://$TMP/cg-$mode-$kind.db" "$config" "$fam" "$kind" "$aprefix"
            unset GW_WRAP GW_START_SECS
            callgrind_one "$mode-$kind" "${GW_PIDS[0]}" "${GW_URLS[0]}" "$fam" "$kind"
            CG_ROWS+=("$mode-$kind")
            stop_gateways
        done
    done
    if [[ -n $FLOOR ]]; then
        free_port
        valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$TMP/cg/floor-nonstream.out.%p" \
            "$FLOOR" "127.0.0.1:$PORT" "$(upstream_url openai nonstream)" parse >"$TMP/logs/cg-floor.log" 2>&1 &
        fpid=$!
        PIDS+=("$fpid")
        for i in $(seq 1 300); do
            curl -fsS -o /dev/null --max-time 1 -X POST -d '{}' "http://127.0.0.1:$PORT/v1/chat/completions" 2>/dev/null && break
            sleep 0.2
        done
        callgrind_one floor-nonstream "$fpid" "http://127.0.0.1:$PORT/v1/chat/completions" openai nonstream
        CG_ROWS+=(floor-nonstream)
        kill_pid "$fpid"
    fi
    {
        echo "## Instructions per request (callgrind) — $(date -u +'%Y-%m-%d %H:%M UTC')"
        echo
        echo "- commit: $COMMIT; $CG_N requests per row after 100 warm-up, one sequential keep-alive client, every thread of the process counted"
        echo "- load (does not change the counts): \`$(uptime)\`"
        echo
        echo "| mode-kind | instructions per request | failed requests |"
        echo "|---|---:|---:|"
        for r in "${CG_ROWS[@]}"; do echo "| $r | ${CG[$r]} | ${CG[$r,failed]} |"; done
    } >"$TMP/logs/callgrind.md"
    cat "$TMP/logs/callgrind.md"
    RAW_DIR=${BENCH_RAW_DIR:-"$ROOT/target/bench-runs/$(date -u +%Y%m%dT%H%M%SZ)-callgrind"}
    mkdir -p "$RAW_DIR"
    cp -r "$TMP/logs/." "$TMP/cg" "$RAW_DIR/"
    log "raw rows and callgrind profiles kept in $RAW_DIR (callgrind_annotate FILE)"
    exit 0
fi

# --------------------------------------------------------------------------------------------------- the runs
START_TS=$(date +%s)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
UPTIME_BEFORE=$(uptime)
busy_procs() { pgrep -c -x 'rustc|cargo|cc1|cc1plus|ld|clang' 2>/dev/null || true; }
BUSY_BEFORE=$(busy_procs)
CLK_TCK=$(getconf CLK_TCK)

sub_or_na() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "NA" || b == "NA" || a == "" || b == "") print "NA"; else printf "%+d", a - b }'; }
cpu_per_req() { # TICKS REQUESTS -> µs of CPU per request
    if [[ ${2:-0} == 0 ]]; then echo NA; return; fi
    awk -v t="$1" -v hz="$CLK_TCK" -v n="$2" 'BEGIN { printf "%.0f", t / hz * 1e6 / n }'
}

# Results: R[mode,conns,kind,direct|through,p50|p99|rps|err], R[mode,conns,kind,cpu], and the floor's cells
# R[floor,UPSTREAM_URL,conns,p50|p99|rps|err|dp50|dp99|cpu] (measured once per upstream body, beside that mode's direct).
declare -A R
declare -A MODE_NOTE
RAN_MODES=()
THROUGH64_RPS=""

pg_ok=1
if ! command -v psql >/dev/null 2>&1 || ! psql "$PG_ADMIN_URL" -qAt -c 'SELECT 1' >/dev/null 2>&1; then
    pg_ok=0
fi

# measure NAME SCRIPT CONNS URL...: a measured run; sets M=(p50 p99 rps requests errors).
measure() {
    local name=$1 script=$2 conns=$3
    shift 3
    read -r -a M < <(run_load "$name" "$script" "$conns" "$DURATION" "$@")
}

for mode in $MODES; do
    case $mode in
    sqlite | telemetry | passthrough | translate | cache | keyed) ;;
    redis)
        if ! redis-cli -u "$REDIS_URL" ping 2>/dev/null | grep -q PONG; then
            log "skipping $mode: Redis not reachable at $REDIS_URL"
            MODE_NOTE[$mode]="skipped: Redis not reachable"
            continue
        fi
        ;;
    postgres | two-instances)
        if ((pg_ok == 0)); then
            log "skipping $mode: PostgreSQL not reachable at $PG_ADMIN_URL"
            MODE_NOTE[$mode]="skipped: PostgreSQL not reachable"
            continue
        fi
        ;;
    *) die "unknown mode '$mode' (sqlite, telemetry, passthrough, translate, cache, keyed, redis, postgres, two-instances)" ;;
    esac
    fam=$(family_of "$mode")
    log "=== mode $mode (client family $fam)"
    declare -A KGW=()   # per-kind gateway URL, for modes with one gateway per upstream body
    DB_URLS=()
    case $mode in
    sqlite)
        DB_URLS=("sqlite://$TMP/crux-sqlite.db")
        start_gateway "$mode" "${DB_URLS[0]}" "" "$fam" "nonstream stream"
        ;;
    telemetry)
        telemetry_setup
        DB_URLS=("sqlite://$TMP/crux-telemetry.db")
        start_gateway "$mode" "${DB_URLS[0]}" "$TELEMETRY_TOML" "$fam" "nonstream stream"
        ;;
    cache)
        # Every wrk request is the same body: after the check requests, every one is a hit.
        printf '[cache]\nttl = "10m"\n' >"$TMP/cache.toml"
        DB_URLS=("sqlite://$TMP/crux-cache.db")
        start_gateway "$mode" "${DB_URLS[0]}" "$TMP/cache.toml" "$fam" "nonstream stream"
        ;;
    keyed | redis)
        # A virtual key with a limit that never bites, so every request pays the rpm check: in memory (keyed) or
        # the atomic script on Redis (redis).
        DB_URLS=("sqlite://$TMP/crux-$mode.db")
        vk=$(CRUX_DATABASE_URL="${DB_URLS[0]}" CRUX_LOG=error "$CRUX" virtual-keys create "bench-$mode" --rpm 4000000000 --json |
            python3 -c 'import json, sys; print(json.load(sys.stdin)["key"])')
        [[ -n $vk ]] || die "could not create the $mode virtual key"
        for kind in nonstream stream; do
            write_lua "$TMP/run/keyed-$kind.lua" "${REQ[keyed,$kind]}" Authorization "Bearer $vk"
        done
        cfg=""
        if [[ $mode == redis ]]; then
            printf '[scale]\nredis_url = "%s"\n' "$REDIS_URL" >"$TMP/redis.toml"
            cfg="$TMP/redis.toml"
        fi
        start_gateway "$mode" "${DB_URLS[0]}" "$cfg" "$fam" "nonstream stream"
        ;;
    passthrough | translate)
        # nginx cannot tell a streamed request from the body, so one gateway reads the JSON file, one the SSE file.
        DB_URLS=("sqlite://$TMP/crux-$mode-json.db" "sqlite://$TMP/crux-$mode-sse.db")
        start_gateway "$mode-json" "${DB_URLS[0]}" "" "$fam" nonstream ajson
        KGW[nonstream]=${GW_URLS[-1]}
        start_gateway "$mode-sse" "${DB_URLS[1]}" "" "$fam" stream asse
        KGW[stream]=${GW_URLS[-1]}
        ;;
    postgres)
        pg_create pg
        DB_URLS=("$DB_URL")
        start_gateway "$mode" "$DB_URL" "" "$fam" "nonstream stream"
        ;;
    two-instances)
        pg_create pg2
        DB_URLS=("$DB_URL")
        start_gateway "$mode-a" "$DB_URL" "" "$fam" "nonstream stream"
        start_gateway "$mode-b" "$DB_URL" "" "$fam" "nonstream stream"
        ;;
    esac
    for conns in "${CONNS_LIST[@]}"; do
        for kind in "${KINDS[@]}"; do
            up=$(upstream_url "$fam" "$kind")
            script="$fam-$kind"
            # Through URLs: every instance at 64 connections, the first one alone at 1 connection.
            if [[ -n ${KGW[$kind]:-} ]]; then
                through=("${KGW[$kind]}")
                direct=("$up")
            elif ((conns == 1)); then
                through=("${GW_URLS[0]}")
                direct=("$up")
            else
                through=("${GW_URLS[@]}")
                direct=()
                for _ in "${GW_URLS[@]}"; do direct+=("$up"); done
            fi
            # The floor, once per upstream body (same-wire and translation share the Anthropic one).
            fkey="$up,$conns"
            floor=()
            if [[ -n $FLOOR && -z ${R[floor,$fkey,rps]:-} ]]; then
                if [[ $kind == stream ]]; then floor_url "$up" raw; else floor_url "$up" parse; fi
                floor=("$FURL")
            fi
            tag="$mode-c$conns-$kind"
            log "$tag: warm-up ${WARMUP}s, then direct${floor:+, floor} and crux ${DURATION}s each"
            if ((WARMUP > 0)); then
                run_load "$tag-warm-direct" "$script" "$conns" 1 "${direct[@]}" >/dev/null
                ((${#floor[@]})) && run_load "$tag-warm-floor" "$script" "$conns" 1 "${floor[@]}" >/dev/null
                run_load "$tag-warm-crux" "$script" "$conns" "$WARMUP" "${through[@]}" >/dev/null
            fi
            measure "$tag-direct" "$script" "$conns" "${direct[@]}"
            R[$mode,$conns,$kind,direct,p50]=${M[0]} R[$mode,$conns,$kind,direct,p99]=${M[1]}
            R[$mode,$conns,$kind,direct,rps]=${M[2]} R[$mode,$conns,$kind,direct,err]=${M[4]}
            if ((${#floor[@]})); then
                t0=$(cpu_ticks "${FLOOR_PIDS[@]}")
                measure "$tag-floor" "$script" "$conns" "${floor[@]}"
                t1=$(cpu_ticks "${FLOOR_PIDS[@]}")
                R[floor,$fkey,p50]=${M[0]} R[floor,$fkey,p99]=${M[1]} R[floor,$fkey,rps]=${M[2]} R[floor,$fkey,err]=${M[4]}
                R[floor,$fkey,dp50]=$(sub_or_na "${M[0]}" "${R[$mode,$conns,$kind,direct,p50]}")
                R[floor,$fkey,dp99]=$(sub_or_na "${M[1]}" "${R[$mode,$conns,$kind,direct,p99]}")
                R[floor,$fkey,cpu]=$(cpu_per_req $((t1 - t0)) "${M[3]}")
                log "$tag: floor p50 ${M[0]}us rps ${M[2]}"
            fi
            t0=$(cpu_ticks "${GW_PIDS[@]}")
            measure "$tag-crux" "$script" "$conns" "${through[@]}"
            t1=$(cpu_ticks "${GW_PIDS[@]}")
            R[$mode,$conns,$kind,through,p50]=${M[0]} R[$mode,$conns,$kind,through,p99]=${M[1]}
            R[$mode,$conns,$kind,through,rps]=${M[2]} R[$mode,$conns,$kind,through,err]=${M[4]}
            R[$mode,$conns,$kind,cpu]=$(cpu_per_req $((t1 - t0)) "${M[3]}")
            R[$mode,$conns,$kind,fkey]=$fkey
            log "$tag: direct p50 ${R[$mode,$conns,$kind,direct,p50]}us rps ${R[$mode,$conns,$kind,direct,rps]} | crux p50 ${M[0]} us p99 ${M[1]} us rps ${M[2]}"
            if [[ $mode == sqlite && $conns == 64 && $kind == nonstream ]]; then THROUGH64_RPS=${M[2]}; fi
        done
    done
    hwm=0 rss=0
    for pid in "${GW_PIDS[@]}"; do
        h=$(status_kb "$pid" VmHWM) r=$(status_kb "$pid" VmRSS)
        ((h > hwm)) && hwm=$h
        ((r > rss)) && rss=$r
    done
    R[$mode,hwm]=$hwm R[$mode,rss]=$rss
    sleep 2 # let a write queue flush before counting rows
    rows=()
    for db in "${DB_URLS[@]}"; do rows+=("$(store_rows "$mode" "$db")"); done
    R[$mode,store]=$(IFS=';'; echo "${rows[*]}" | sed 's/;/; /g')
    stop_gateways
    unset KGW
    RAN_MODES+=("$mode")
done

# ------------------------------------------------------------------------------------------ interleaved A/B phase
AB_ROUNDS=${BENCH_AB_ROUNDS:-0}
[[ $AB_ROUNDS =~ ^[0-9]+$ ]] || die "BENCH_AB_ROUNDS must be a whole number (got '$AB_ROUNDS')"
AB_KIND=${BENCH_AB:-wire}
case $AB_KIND in
wire) AB_A=same-wire AB_B=translation ;;
exporters) AB_A=off AB_B=on ;;
*) die "BENCH_AB must be wire or exporters (got '$AB_KIND')" ;;
esac
AB_REPORT=""
if ((AB_ROUNDS > 0)); then
    declare -A ABGW=()
    if [[ $AB_KIND == wire ]]; then
        log "=== interleaved A/B: $AB_ROUNDS rounds of same-wire vs translation on one gateway per Anthropic file"
        start_gateway ab-json "sqlite://$TMP/crux-ab-json.db" "" anthropic nonstream ajson
        ABGW[a,nonstream]=${GW_URLS[-1]} ABGW[b,nonstream]=${GW_URLS[-1]%/v1/messages}/v1/chat/completions
        start_gateway ab-sse "sqlite://$TMP/crux-ab-sse.db" "" anthropic stream asse
        ABGW[a,stream]=${GW_URLS[-1]} ABGW[b,stream]=${GW_URLS[-1]%/v1/messages}/v1/chat/completions
    else
        log "=== interleaved A/B: $AB_ROUNDS rounds of every exporter off vs on (two gateways, the OpenAI load)"
        telemetry_setup
        start_gateway ab-off "sqlite://$TMP/crux-ab-off.db" "" openai "nonstream stream"
        ABGW[a,nonstream]=${GW_URLS[-1]} ABGW[a,stream]=${GW_URLS[-1]}
        start_gateway ab-on "sqlite://$TMP/crux-ab-on.db" "$TELEMETRY_TOML" openai "nonstream stream"
        ABGW[b,nonstream]=${GW_URLS[-1]} ABGW[b,stream]=${GW_URLS[-1]}
    fi
    for round in $(seq 1 "$AB_ROUNDS"); do
        for conns in "${CONNS_LIST[@]}"; do
            for kind in "${KINDS[@]}"; do
                for side in a b; do
                    if [[ $AB_KIND == exporters ]]; then script=openai-$kind
                    elif [[ $side == a ]]; then script=anthropic-$kind
                    else script=translate-$kind; fi
                    read -r p50 p99 rps _ err < <(run_load "ab-r$round-c$conns-$kind-$side" "$script" "$conns" "$DURATION" "${ABGW[$side,$kind]}")
                    echo "$conns $kind $side $round $p50 $rps $err" >>"$TMP/logs/ab-rows.txt"
                done
            done
        done
        log "A/B round $round of $AB_ROUNDS done"
    done
    stop_gateways
    # Medians per (conns, kind, side), their ratio and difference, and the rounds in which A served at least as many
    # req/s as B.
    AB_REPORT=$(awk -v la="$AB_A" -v lb="$AB_B" '
        function median(list,   n, a, i, j, t) {
            n = split(list, a, " ")
            for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
            return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
        }
        { k = $1 " " $2; p[k, $3] = p[k, $3] " " $5; r[k, $3] = r[k, $3] " " $6; rr[k, $3, $4] = $6; e[k] += $7
          if (!(k in seen)) { seen[k] = 1; keys[++nk] = k } if ($4 > rounds) rounds = $4 }
        END {
            printf "| conns | kind | %s p50 µs | %s p50 µs | %s − %s p50 µs | %s req/s | %s req/s | %s / %s req/s | rounds %s ≥ %s (req/s) | errors |\n", la, lb, lb, la, la, lb, lb, la, la, lb
            print "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"
            for (i = 1; i <= nk; i++) {
                k = keys[i]; split(k, kk, " "); won = 0
                for (x = 1; x <= rounds; x++) if (rr[k, "a", x] + 0 >= rr[k, "b", x] + 0) won++
                pa = median(p[k, "a"]); pb = median(p[k, "b"]); ra = median(r[k, "a"]); rb = median(r[k, "b"])
                printf "| %s | %s | %.0f | %.0f | %.0f | %.0f | %.0f | %.3f | %d of %d | %d |\n", kk[1], kk[2], pa, pb, pb - pa,
                    ra, rb, (ra > 0 ? rb / ra : 0), won, rounds, e[k]
                if (kk[1] == 1 && kk[2] == "nonstream") printf "AB_DP50 %.0f\n", pb - pa > "/dev/stderr"
                if (kk[1] == 64 && kk[2] == "nonstream") printf "AB_RATIO %.3f\n", (ra > 0 ? rb / ra : 0) > "/dev/stderr"
            }
        }' "$TMP/logs/ab-rows.txt" 2>"$TMP/logs/ab-verdict.txt")
    AB_DP50=$(awk '$1 == "AB_DP50" { print $2 }' "$TMP/logs/ab-verdict.txt")
    AB_RATIO=$(awk '$1 == "AB_RATIO" { print $2 }' "$TMP/logs/ab-verdict.txt")
fi

# ------------------------------------------------------------------------------------------------- memory phase
MEM_DONE=0
if [[ $SKIP_MEM != 1 ]] && ((MEM_REQUESTS > 0)); then
    log "=== memory phase: $MEM_REQUESTS requests at 64 connections (non-stream and stream, alternating 5 s chunks), SQLite store"
    MEM_DB="sqlite://$TMP/crux-mem.db"
    start_gateway mem "$MEM_DB" "" openai "nonstream stream"
    gw=${GW_PIDS[0]}
    murl=${GW_URLS[0]%/v1/chat/completions}/metrics
    rate=${THROUGH64_RPS:-2000}
    deadline=$(($(date +%s) + $(awk -v n="$MEM_REQUESTS" -v r="$rate" 'BEGIN { d = 4 * n / (r > 100 ? r : 100) + 60; if (d > 1800) d = 1800; printf "%d", d }')))
    half=$((MEM_REQUESTS / 2))
    MEM_RSS_START=$(status_kb "$gw" VmRSS)
    MEM_RSS_HALF="" MEM_RSS_END="" MEM_AT_HALF="" MEM_AT_END=""
    chunk=0 wrk_pid="" wrk_total=0 count=0
    while (($(date +%s) < deadline)); do
        if [[ -z $wrk_pid ]] || ! kill -0 "$wrk_pid" 2>/dev/null; then
            if [[ -n $wrk_pid ]]; then
                wait "$wrk_pid" 2>/dev/null || true
                n=$(field "$(grep '^BENCH ' "$TMP/logs/mem-$chunk.txt" | tail -n 1 || true)" requests)
                wrk_total=$((wrk_total + ${n:-0}))
                chunk=$((chunk + 1))
            fi
            kind=nonstream
            ((chunk % 2)) && kind=stream
            timeout 40 wrk -t"$WRK_THREADS" -c64 -d5s --timeout 5s -s "$TMP/run/openai-$kind.lua" "${GW_URLS[0]}" \
                >"$TMP/logs/mem-$chunk.txt" 2>&1 &
            wrk_pid=$!
            PIDS+=("$wrk_pid")
        fi
        sleep 0.25
        count=$(metrics_count "$murl")
        [[ -n $count ]] || count=$wrk_total
        if [[ -z $MEM_RSS_HALF ]] && ((count >= half)); then
            MEM_RSS_HALF=$(status_kb "$gw" VmRSS) MEM_AT_HALF=$count
            log "memory: $count requests, VmRSS $MEM_RSS_HALF kB"
        fi
        if ((count >= MEM_REQUESTS)); then
            kill_pid "$wrk_pid"
            sleep 0.5
            MEM_RSS_END=$(status_kb "$gw" VmRSS) MEM_AT_END=$(metrics_count "$murl")
            MEM_AT_END=${MEM_AT_END:-$count}
            log "memory: $MEM_AT_END requests, VmRSS $MEM_RSS_END kB"
            break
        fi
    done
    [[ -n $wrk_pid ]] && kill_pid "$wrk_pid"
    MEM_HWM=$(status_kb "$gw" VmHWM)
    sleep 1
    MEM_STORE=$(store_rows sqlite "$MEM_DB")
    stop_gateways
    MEM_DONE=1
fi

END_TS=$(date +%s)
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
UPTIME_AFTER=$(uptime)
BUSY_AFTER=$(busy_procs)

# ---------------------------------------------------------------------------------------------------------- report
mb() { awk -v k="$1" 'BEGIN { if (k == "" || k == "NA") print "NA"; else printf "%.1f", k / 1024 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "NA"; else printf "%.1f%%", 100 * a / b }'; }
check_le() { # VALUE LIMIT -> ✅/❌ (NA, in either, counts as ❌: no floor measured is no pass)
    awk -v v="$1" -v l="$2" 'BEGIN { if (v == "NA" || v == "" || l == "NA" || l == "") print "❌"; else if (v + 0 <= l + 0) print "✅"; else print "❌" }'
}
check_ge() {
    awk -v v="$1" -v l="$2" 'BEGIN { if (v == "NA" || v == "" || l == "NA" || l == "") print "❌"; else if (v + 0 >= l + 0) print "✅"; else print "❌" }'
}
kind_label() { if [[ $1 == stream ]]; then echo stream; else echo non-stream; fi; }

CPU_MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)

mode_label() {
    case $1 in
    passthrough) echo "passthrough (Anthropic → anthropic, same wire)" ;;
    translate) echo "translate (OpenAI → anthropic, cross wire)" ;;
    telemetry) echo "telemetry (sqlite, every exporter on)" ;;
    cache) echo "cache (sqlite, [cache] on: every request a hit)" ;;
    keyed) echo "keyed (sqlite, a virtual key with rpm, limits in memory)" ;;
    redis) echo "redis (as keyed, [scale] redis_url: rpm on Redis)" ;;
    *) echo "$1" ;;
    esac
}
# Δ of crux minus Δ of the floor for one cell ("NA" without a floor).
fl() { # MODE CONNS KIND FIELD
    local k=${R[$1,$2,$3,fkey]:-}
    if [[ -n $k && -n ${R[floor,$k,$4]:-} ]]; then echo "${R[floor,$k,$4]}"; else echo NA; fi
}
num_ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "NA" || b == "NA" || b + 0 == 0) print "NA"; else printf "%.2f", a / b }'; }

# compare_modes A B TITLE NAME_A NAME_B: the two modes' overheads and throughput side by side, cell by cell.
compare_modes() {
    local ma=$1 mb=$2 a b conns kind
    echo
    echo "### $3"
    echo
    echo "| conns | kind | $4 Δp50 | $5 Δp50 | $5 − $4 | $4 req/s | $5 req/s | $5/$4 req/s | CPU µs/req $4 / $5 |"
    echo "|---:|---|---:|---:|---:|---:|---:|---:|---:|"
    for conns in "${CONNS_LIST[@]}"; do
        for kind in "${KINDS[@]}"; do
            a=$(sub_or_na "${R[$ma,$conns,$kind,through,p50]}" "${R[$ma,$conns,$kind,direct,p50]}")
            b=$(sub_or_na "${R[$mb,$conns,$kind,through,p50]}" "${R[$mb,$conns,$kind,direct,p50]}")
            echo "| $conns | $(kind_label "$kind") | $a | $b | $(sub_or_na "$b" "$a") | ${R[$ma,$conns,$kind,through,rps]} | ${R[$mb,$conns,$kind,through,rps]} | $(ratio "${R[$mb,$conns,$kind,through,rps]}" "${R[$ma,$conns,$kind,through,rps]}") | ${R[$ma,$conns,$kind,cpu]} / ${R[$mb,$conns,$kind,cpu]} |"
        done
    done
}

report() {
    echo "## Gateway load bench — $(date -u +'%Y-%m-%d %H:%M UTC')"
    echo
    echo "- machine: $(nproc) cores, ${CPU_MODEL:-unknown CPU}, $(uname -sr), $(awk '/MemTotal/ { printf "%.0f GiB RAM", $2 / 1048576 }' /proc/meminfo)"
    echo "- commit: $COMMIT; wrk $(wrk -v 2>&1 | awk 'NR == 1 { print $2 }'), nginx $("$NGINX" -v 2>&1 | sed 's|.*nginx/||')"
    echo "- runs: ${DURATION} s each (direct, then the floor, then crux), ${WARMUP} s warm-up per cell; wrk threads: 1 at 1 connection, ${WRK_THREADS} at 64$([[ $QUICK == 1 ]] && echo '; QUICK smoke mode')"
    echo "- the floor: ${FLOOR:+$FLOOR_SRC built in $FLOOR_DIR (parse mode for JSON bodies, raw mode for SSE, which it buffers whole)}${FLOOR_NOTE}"
    echo "- load: \`uptime\` before: \`${UPTIME_BEFORE# }\`; after: \`${UPTIME_AFTER# }\`; compiler/linker processes running before: ${BUSY_BEFORE:-0}, after: ${BUSY_AFTER:-0}; wall time $((END_TS - START_TS)) s"
    echo "- upstream: nginx (1 worker, access log off): OpenAI $(wc -c <"$TMP/run/probe.json")-byte chat.completion and $(wc -c <"$TMP/run/probe.sse")-byte SSE of $(grep -c '^data: ' "$TMP/run/probe.sse") frames; Anthropic $(wc -c <"$TMP/run/probe.ajson")-byte message and $(wc -c <"$TMP/run/probe.asse")-byte SSE of $(grep -c '^event: ' "$TMP/run/probe.asse") events"
    echo "- raw rows (every wrk output, gateway logs): ${RAW_DIR}"
    echo
    echo "Latencies in µs (wrk, whole response). Δ = proxy − direct (same cell). CPU = the proxy's CPU time per request."
    echo
    echo "| mode | conns | kind | direct p50 | direct p99 | direct req/s | floor Δp50 | floor Δp99 | floor req/s | crux Δp50 | crux Δp99 | crux req/s | crux/floor req/s | crux/direct req/s | CPU µs/req crux (floor) | errors d/f/c |"
    echo "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    local mode conns kind k
    for mode in "${RAN_MODES[@]}"; do
        for conns in "${CONNS_LIST[@]}"; do
            for kind in "${KINDS[@]}"; do
                k="$mode,$conns,$kind"
                printf '| %s | %s | %s | %s | %s | %.0f | %s | %s | %s | %s | %s | %.0f | %s | %s | %s (%s) | %s/%s/%s |\n' \
                    "$mode" "$conns" "$(kind_label "$kind")" \
                    "${R[$k,direct,p50]}" "${R[$k,direct,p99]}" "${R[$k,direct,rps]}" \
                    "$(fl "$mode" "$conns" "$kind" dp50)" "$(fl "$mode" "$conns" "$kind" dp99)" \
                    "$(fl "$mode" "$conns" "$kind" rps | awk '{ if ($1 == "NA") print "NA"; else printf "%.0f", $1 }')" \
                    "$(sub_or_na "${R[$k,through,p50]}" "${R[$k,direct,p50]}")" \
                    "$(sub_or_na "${R[$k,through,p99]}" "${R[$k,direct,p99]}")" "${R[$k,through,rps]}" \
                    "$(ratio "${R[$k,through,rps]}" "$(fl "$mode" "$conns" "$kind" rps)")" \
                    "$(ratio "${R[$k,through,rps]}" "${R[$k,direct,rps]}")" "${R[$k,cpu]}" "$(fl "$mode" "$conns" "$kind" cpu)" \
                    "${R[$k,direct,err]}" "$(fl "$mode" "$conns" "$kind" err)" "${R[$k,through,err]}"
            done
        done
    done
    for mode in $MODES; do
        [[ -n ${MODE_NOTE[$mode]:-} ]] && echo "| $mode | — | ${MODE_NOTE[$mode]} | | | | | | | | | | | | | |"
    done
    echo
    echo "Floor cells are measured once per upstream body (the first mode using it) and repeated for the modes sharing it;"
    echo "crux/floor compares crux with that measurement."
    echo
    echo "| mode | gateway peak RSS (VmHWM) | RSS at end | chat logs written to the store |"
    echo "|---|---:|---:|---|"
    for mode in "${RAN_MODES[@]}"; do
        echo "| $(mode_label "$mode") | $(mb "${R[$mode,hwm]}") MB | $(mb "${R[$mode,rss]}") MB | ${R[$mode,store]} |"
    done
    local have_pt=0 have_tr=0 have_sq=0 have_te=0 m
    for m in "${RAN_MODES[@]}"; do
        [[ $m == passthrough ]] && have_pt=1
        [[ $m == translate ]] && have_tr=1
        [[ $m == sqlite ]] && have_sq=1
        [[ $m == telemetry ]] && have_te=1
    done
    if ((have_pt && have_tr)); then
        compare_modes passthrough translate "Same-wire pass-through vs cross-wire translation (same Anthropic upstream, same run)" same-wire translation
    fi
    if ((have_sq && have_te)); then
        compare_modes sqlite telemetry "Exporters on (telemetry) vs off (sqlite), same run" off on
    fi
    local have_ca=0 have_ke=0 have_re=0
    for m in "${RAN_MODES[@]}"; do
        [[ $m == cache ]] && have_ca=1
        [[ $m == keyed ]] && have_ke=1
        [[ $m == redis ]] && have_re=1
    done
    if ((have_sq && have_ca)); then
        compare_modes sqlite cache "Response cache hits (cache) vs no cache (sqlite), same run" upstream hit
    fi
    if ((have_ke && have_re)); then
        compare_modes keyed redis "Redis rpm limits (redis) vs in-memory limits (keyed), same run" memory redis
    fi
    if [[ -n $AB_REPORT && $AB_KIND == wire ]]; then
        echo
        echo "### Same-wire vs translation, interleaved on one gateway ($AB_ROUNDS rounds, ${DURATION} s per run; medians)"
        echo
        echo "Each cell sends the Anthropic client (same wire) and then the OpenAI client (translated) to the same gateway"
        echo "and the same Anthropic nginx file, round after round; p50 is wrk's whole-response latency."
        echo
        echo "$AB_REPORT"
    elif [[ -n $AB_REPORT ]]; then
        echo
        echo "### Every exporter off vs on, interleaved ($AB_ROUNDS rounds, ${DURATION} s per run; medians)"
        echo
        echo "Two gateways on the same OpenAI nginx files, one with no exporter and one with Prometheus, push, StatsD"
        echo "and OTLP traces and metrics into local sinks; each cell measures one and then the other, round after round."
        echo "The difference of the p50s is the difference of the overheads (the direct path is the same)."
        echo
        echo "$AB_REPORT"
    fi
    if ((MEM_DONE)); then
        echo
        echo "Memory phase (fresh gateway, SQLite store, 64 connections, alternating 5 s non-stream/stream chunks):"
        echo "VmRSS $(mb "$MEM_RSS_START") MB at start, $(mb "$MEM_RSS_HALF") MB after ${MEM_AT_HALF:-NA} requests," \
            "$(mb "$MEM_RSS_END") MB after ${MEM_AT_END:-NA} requests; peak (VmHWM) $(mb "$MEM_HWM") MB; chat logs: $MEM_STORE."
    fi
    echo
    echo "### Targets (issue 15; the bench reports them, no test asserts them)"
    echo
    local hdr="| target |" sep="|---|"
    for mode in "${RAN_MODES[@]}"; do hdr+=" $mode |"; sep+="---|"; done
    echo "$hdr"
    echo "$sep"
    local row v f
    row="| c=1 non-stream Δp50 ≤ 60 µs and ≤ the floor's |"
    for mode in "${RAN_MODES[@]}"; do
        v=$(sub_or_na "${R[$mode,1,nonstream,through,p50]}" "${R[$mode,1,nonstream,direct,p50]}")
        f=$(fl "$mode" 1 nonstream dp50)
        [[ $f == NA ]] && f=60
        row+=" $(check_le "$v" "$(awk -v f="$f" 'BEGIN { print (f < 60 ? f : 60) }')") $v µs |"
    done
    echo "$row"
    row="| c=1 non-stream Δp99 ≤ the floor's |"
    for mode in "${RAN_MODES[@]}"; do
        v=$(sub_or_na "${R[$mode,1,nonstream,through,p99]}" "${R[$mode,1,nonstream,direct,p99]}")
        f=$(fl "$mode" 1 nonstream dp99)
        row+=" $(check_le "$v" "$f") $v vs $f µs |"
    done
    echo "$row"
    row="| req/s at 64 (non-stream) ≥ the floor's |"
    for mode in "${RAN_MODES[@]}"; do
        v=$(num_ratio "${R[$mode,64,nonstream,through,rps]}" "$(fl "$mode" 64 nonstream rps)")
        row+=" $(check_ge "$v" 1) ×$v |"
    done
    echo "$row"
    row="| c=1 stream Δp50 ≤ 80 µs |"
    for mode in "${RAN_MODES[@]}"; do
        v=$(sub_or_na "${R[$mode,1,stream,through,p50]}" "${R[$mode,1,stream,direct,p50]}")
        row+=" $(check_le "$v" 80) $v µs |"
    done
    echo "$row"
    row="| stream req/s at 64 ≥ 80% of non-stream |"
    for mode in "${RAN_MODES[@]}"; do
        v=$(awk -v a="${R[$mode,64,stream,through,rps]}" -v b="${R[$mode,64,nonstream,through,rps]}" 'BEGIN { if (b + 0 == 0) print "NA"; else printf "%.1f", 100 * a / b }')
        row+=" $(check_ge "$v" 80) $v% |"
    done
    echo "$row"
    if ((have_pt && have_tr)); then
        v=$(sub_or_na "$(sub_or_na "${R[translate,1,nonstream,through,p50]}" "${R[translate,1,nonstream,direct,p50]}")" \
            "$(sub_or_na "${R[passthrough,1,nonstream,through,p50]}" "${R[passthrough,1,nonstream,direct,p50]}")")
        echo
        echo "- translation adds ≤ 15 µs p50 over same-wire (c=1 non-stream): $(check_le "$v" 15) $v µs"
    fi
    if ((have_sq && have_te)); then
        v=$(num_ratio "${R[telemetry,64,nonstream,through,rps]}" "${R[sqlite,64,nonstream,through,rps]}")
        echo "- exporters on: req/s at 64 within 10% of off (issue 13): $(check_ge "$v" 0.9) ×$v"
        v=$(sub_or_na "$(sub_or_na "${R[telemetry,1,nonstream,through,p50]}" "${R[telemetry,1,nonstream,direct,p50]}")" \
            "$(sub_or_na "${R[sqlite,1,nonstream,through,p50]}" "${R[sqlite,1,nonstream,direct,p50]}")")
        echo "- exporters on: c=1 p50 overhead within 10 µs of off (issue 13): $(check_le "$v" 10) $v µs"
    fi
    if [[ -n $AB_REPORT && $AB_KIND == exporters ]]; then
        echo "- exporters on, interleaved medians: req/s at 64 within 10% of off (issue 13): $(check_ge "${AB_RATIO:-NA}" 0.9) ×${AB_RATIO:-NA}"
        echo "- exporters on, interleaved medians: c=1 p50 within 10 µs of off (issue 13): $(check_le "${AB_DP50:-NA}" 10) ${AB_DP50:-NA} µs"
    fi
    if ((MEM_DONE)); then
        local hwm_mb grow
        hwm_mb=$(mb "$MEM_HWM")
        echo
        echo "| memory target | result |"
        echo "|---|---|"
        echo "| peak RSS ≤ 50 MB after ${MEM_AT_END:-NA} requests | $(check_le "$hwm_mb" 50) $hwm_mb MB (VmHWM) |"
        if [[ -n $MEM_RSS_HALF && -n $MEM_RSS_END ]]; then
            grow=$(awk -v a="$MEM_RSS_END" -v b="$MEM_RSS_HALF" 'BEGIN { printf "%+.1f", (a - b) / 1024 }')
            # "No growth" allows 1 MB of allocator noise.
            echo "| no RSS growth between $MEM_AT_HALF and $MEM_AT_END requests (±1 MB) | $(check_le "$grow" 1) $(mb "$MEM_RSS_HALF") → $(mb "$MEM_RSS_END") MB ($grow MB) |"
        else
            echo "| no RSS growth between $half and $MEM_REQUESTS requests | ❌ not reached within the time bound |"
        fi
    fi
}

RAW_DIR=${BENCH_RAW_DIR:-"$ROOT/target/bench-runs/$(date -u +%Y%m%dT%H%M%SZ)"}
REPORT=$(report)
printf '%s\n' "$REPORT"
mkdir -p "$RAW_DIR"
cp -r "$TMP/logs/." "$RAW_DIR/"
printf '%s\n' "$REPORT" >"$RAW_DIR/report.md"
log "raw rows and the report kept in $RAW_DIR"
if [[ -n ${BENCH_OUT:-} ]]; then
    printf '%s\n' "$REPORT" >"$BENCH_OUT"
    log "report written to $BENCH_OUT"
fi
