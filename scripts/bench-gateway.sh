#!/usr/bin/env bash
# Gateway load bench: the same wrk load directly against an nginx upstream serving fixed OpenAI bodies and through
# `crux serve`, at 1 and 64 connections, non-stream and stream, with the SQLite store, with PostgreSQL, and with two
# gateway instances sharing one PostgreSQL; then a memory phase of BENCH_MEM_REQUESTS requests.
# Prints a Markdown report (also written to $BENCH_OUT if set). Everything runs on 127.0.0.1 and is cleaned up on exit.
#
# Knobs (environment):
#   BENCH_DURATION=10        seconds per measured run (direct and through)
#   BENCH_WARMUP=2           seconds of warm-up before each pair of runs
#   BENCH_QUICK=1            smoke mode: 3 s runs, 1 s warm-up, 20,000-request memory phase
#   BENCH_MODES="sqlite postgres two-instances"   store modes to run; "telemetry" is sqlite with every exporter on
#                            (push, StatsD, OTLP traces+metrics into local sinks), to compare with "sqlite" in one run
#   BENCH_MEM_REQUESTS=200000  requests in the memory phase; BENCH_SKIP_MEM=1 skips it
#   BENCH_PG_URL=postgres://postgres@127.0.0.1:5432/postgres   admin URL used to create/drop the bench database
#   BENCH_WRK_THREADS=2      wrk threads at 64 connections (1 at 1 connection)
#   BENCH_OUT=FILE           also write the report there
#   BENCH_KEEP=1             keep the temp dir (wrk outputs, nginx and gateway logs) and print its path
#   BENCH_NO_BUILD=1         use the existing target/release/crux without building
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
MODES=${BENCH_MODES:-"sqlite postgres two-instances"}
SKIP_MEM=${BENCH_SKIP_MEM:-0}
PG_ADMIN_URL=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
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

if [[ ${BENCH_NO_BUILD:-0} != 1 ]]; then
    log "building: cargo build --release -p crux-cli --locked"
    cargo build --release -p crux-cli --locked >&2
fi
CRUX="$ROOT/target/release/crux"
# The commit the binary was built from (taken now: the tree may move while the bench runs).
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null | head -n 1) ]]; then
    COMMIT+=" (with uncommitted changes)"
fi
[[ ${BENCH_NO_BUILD:-0} == 1 ]] && COMMIT+=" (BENCH_NO_BUILD: binary built earlier)"
[[ -x $CRUX ]] || die "$CRUX not found (build it with: cargo build --release -p crux-cli --locked)"

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

# The bodies are static files at the request paths (nginx's `return` caps a literal at 4 KiB, the SSE body is larger).
# nginx answers POST to a static file with 405; `error_page 405 =200 $uri` re-serves it as a GET with status 200.
for prefix in json sse; do mkdir -p "$TMP/nginx/html/$prefix/v1/chat"; done
printf '%s' "$JSON_BODY" >"$TMP/nginx/html/json/v1/chat/completions"
printf '%b' "$SSE_BODY" >"$TMP/nginx/html/sse/v1/chat/completions"
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
        location /sse/ {
            default_type text/event-stream;
            add_header Cache-Control no-cache;
            error_page 405 =200 \$uri;
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
log "nginx upstream on $UP (json $(wc -c <"$TMP/run/probe.json") B, sse $(wc -c <"$TMP/run/probe.sse") B, $(grep -c '^data: ' "$TMP/run/probe.sse") frames)"

# --------------------------------------------------------------------------------------------------- wrk scripts
REQ_NONSTREAM='{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"hello"}]}'
REQ_STREAM='{"model":"groq/llama-3.3-70b-versatile","messages":[{"role":"user","content":"hello"}],"stream":true}'
write_lua() { # FILE BODY
    cat >"$1" <<EOF
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
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
write_lua "$TMP/run/nonstream.lua" "$REQ_NONSTREAM"
write_lua "$TMP/run/stream.lua" "$REQ_STREAM"

upstream_url() { # KIND
    if [[ $1 == stream ]]; then echo "$UP/sse/v1/chat/completions"; else echo "$UP/json/v1/chat/completions"; fi
}

# wrk_once NAME URL KIND CONNS THREADS SECONDS: runs wrk and prints its BENCH line (or nothing).
wrk_once() {
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

start_gateway() { # NAME DATABASE_URL [CONFIG]
    local name=$1 db=$2 config=${3:-} port pid
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
            "$CRUX" ${config:+--config "$config"} serve --listen "127.0.0.1:$port"
    ) >"$TMP/logs/gateway-$name.log" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    if ! wait_http "http://127.0.0.1:$port/health" 30; then
        cat "$TMP/logs/gateway-$name.log" >&2
        die "gateway $name did not answer /health"
    fi
    # One request of each kind proves the wiring before any timing.
    local code
    code=$(curl -sS -o "$TMP/run/check-$name.json" -w '%{http_code}' -H 'content-type: application/json' \
        -d "$REQ_NONSTREAM" "http://127.0.0.1:$port/v1/chat/completions")
    [[ $code == 200 ]] || die "gateway $name non-stream check answered $code: $(head -c 300 "$TMP/run/check-$name.json")"
    code=$(curl -sS -N -o "$TMP/run/check-$name.sse" -w '%{http_code}' -H 'content-type: application/json' \
        -d "$REQ_STREAM" "http://127.0.0.1:$port/v1/chat/completions")
    [[ $code == 200 ]] && grep -q '^data: \[DONE\]' "$TMP/run/check-$name.sse" ||
        die "gateway $name stream check answered $code: $(head -c 300 "$TMP/run/check-$name.sse")"
    GW_PIDS+=("$pid")
    GW_URLS+=("http://127.0.0.1:$port/v1/chat/completions")
    log "gateway $name pid $pid on 127.0.0.1:$port (store $db)"
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
    if [[ $mode == sqlite || $mode == telemetry ]]; then
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

# --------------------------------------------------------------------------------------------------- the runs
START_TS=$(date +%s)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
busy_procs() { pgrep -c -x 'rustc|cargo|cc1|cc1plus|ld|clang' 2>/dev/null || true; }
BUSY_BEFORE=$(busy_procs)
CLK_TCK=$(getconf CLK_TCK)

declare -A R        # results: R[mode,conns,kind,direct|through,p50|p99|rps|req|err] and more
declare -A MODE_NOTE
RAN_MODES=()
THROUGH64_RPS=""

pg_ok=1
if ! command -v psql >/dev/null 2>&1 || ! psql "$PG_ADMIN_URL" -qAt -c 'SELECT 1' >/dev/null 2>&1; then
    pg_ok=0
fi

for mode in $MODES; do
    case $mode in
    sqlite | telemetry) ;;
    postgres | two-instances)
        if ((pg_ok == 0)); then
            log "skipping $mode: PostgreSQL not reachable at $PG_ADMIN_URL"
            MODE_NOTE[$mode]="skipped: PostgreSQL not reachable"
            continue
        fi
        ;;
    *) die "unknown mode '$mode' (sqlite, telemetry, postgres, two-instances)" ;;
    esac
    log "=== mode $mode"
    case $mode in
    sqlite)
        DB_URL="sqlite://$TMP/crux-sqlite.db"
        start_gateway "$mode" "$DB_URL"
        ;;
    telemetry)
        # Local sinks: HTTP 200 for OTLP and push, a UDP reader for StatsD.
        free_port; SINK_HTTP=$PORT; free_port; SINK_UDP=$PORT
        python3 - "$SINK_HTTP" "$SINK_UDP" >"$TMP/logs/sinks.log" 2>&1 <<'PY' &
import http.server, socket, sys, threading
class H(http.server.BaseHTTPRequestHandler):
    def _ok(self):
        self.rfile.read(int(self.headers.get("content-length") or 0)); self.send_response(200)
        self.send_header("content-length", "0"); self.end_headers()
    do_POST = do_PUT = _ok
    def log_message(self, *a): pass
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", int(sys.argv[2])))
threading.Thread(target=lambda: [u.recv(65536) for _ in iter(int, 1)], daemon=True).start()
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
        PIDS+=($!)
        cat >"$TMP/telemetry.toml" <<TOML
[telemetry]
prometheus = true
push = { url = "http://127.0.0.1:$SINK_HTTP", interval_ms = 1000 }
statsd = { addr = "127.0.0.1:$SINK_UDP", flush_ms = 1000 }
otlp = { endpoint = "http://127.0.0.1:$SINK_HTTP", interval_ms = 1000 }
TOML
        DB_URL="sqlite://$TMP/crux-telemetry.db"
        start_gateway "$mode" "$DB_URL" "$TMP/telemetry.toml"
        ;;
    postgres)
        pg_create pg
        start_gateway "$mode" "$DB_URL"
        ;;
    two-instances)
        pg_create pg2
        start_gateway "$mode-a" "$DB_URL"
        start_gateway "$mode-b" "$DB_URL"
        ;;
    esac
    for conns in "${CONNS_LIST[@]}"; do
        for kind in "${KINDS[@]}"; do
            up=$(upstream_url "$kind")
            # Through URLs: every instance at 64 connections, the first one alone at 1 connection.
            if ((conns == 1)); then
                through=("${GW_URLS[0]}")
                direct=("$up")
            else
                through=("${GW_URLS[@]}")
                direct=()
                for _ in "${GW_URLS[@]}"; do direct+=("$up"); done
            fi
            tag="$mode-c$conns-$kind"
            log "$tag: warm-up ${WARMUP}s, then direct ${DURATION}s and through ${DURATION}s"
            if ((WARMUP > 0)); then
                run_load "$tag-warm-direct" "$kind" "$conns" 1 "${direct[@]}" >/dev/null
                run_load "$tag-warm-through" "$kind" "$conns" "$WARMUP" "${through[@]}" >/dev/null
            fi
            read -r a b c d e < <(run_load "$tag-direct" "$kind" "$conns" "$DURATION" "${direct[@]}")
            R[$mode,$conns,$kind,direct,p50]=$a R[$mode,$conns,$kind,direct,p99]=$b
            R[$mode,$conns,$kind,direct,rps]=$c R[$mode,$conns,$kind,direct,err]=$e
            t0=$(cpu_ticks "${GW_PIDS[@]}")
            read -r a b c d e < <(run_load "$tag-through" "$kind" "$conns" "$DURATION" "${through[@]}")
            t1=$(cpu_ticks "${GW_PIDS[@]}")
            R[$mode,$conns,$kind,through,p50]=$a R[$mode,$conns,$kind,through,p99]=$b
            R[$mode,$conns,$kind,through,rps]=$c R[$mode,$conns,$kind,through,err]=$e
            if [[ $d != 0 ]]; then
                R[$mode,$conns,$kind,cpu]=$(awk -v t=$((t1 - t0)) -v hz="$CLK_TCK" -v n="$d" 'BEGIN { printf "%.0f", t / hz * 1e6 / n }')
            else
                R[$mode,$conns,$kind,cpu]=NA
            fi
            log "$tag: direct p50 ${R[$mode,$conns,$kind,direct,p50]}us rps ${R[$mode,$conns,$kind,direct,rps]} | through p50 $a us p99 $b us rps $c"
            if [[ $mode == sqlite && $conns == 64 && $kind == nonstream ]]; then THROUGH64_RPS=$c; fi
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
    R[$mode,store]=$(store_rows "$mode" "$DB_URL")
    stop_gateways
    RAN_MODES+=("$mode")
done

# ------------------------------------------------------------------------------------------------- memory phase
MEM_DONE=0
if [[ $SKIP_MEM != 1 ]] && ((MEM_REQUESTS > 0)); then
    log "=== memory phase: $MEM_REQUESTS requests at 64 connections (non-stream and stream, alternating 5 s chunks), SQLite store"
    MEM_DB="sqlite://$TMP/crux-mem.db"
    start_gateway mem "$MEM_DB"
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
            timeout 40 wrk -t"$WRK_THREADS" -c64 -d5s --timeout 5s -s "$TMP/run/$kind.lua" "${GW_URLS[0]}" \
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
BUSY_AFTER=$(busy_procs)

# ---------------------------------------------------------------------------------------------------------- report
mb() { awk -v k="$1" 'BEGIN { if (k == "" || k == "NA") print "NA"; else printf "%.1f", k / 1024 }'; }
sub_or_na() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "NA" || b == "NA") print "NA"; else printf "%+d", a - b }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "NA"; else printf "%.1f%%", 100 * a / b }'; }
check_le() { # VALUE LIMIT -> ✅/❌ (NA counts as ❌)
    awk -v v="$1" -v l="$2" 'BEGIN { if (v == "NA" || v == "") print "❌"; else if (v + 0 <= l + 0) print "✅"; else print "❌" }'
}
check_ge() {
    awk -v v="$1" -v l="$2" 'BEGIN { if (v == "NA" || v == "") print "❌"; else if (v + 0 >= l + 0) print "✅"; else print "❌" }'
}
kind_label() { if [[ $1 == stream ]]; then echo stream; else echo non-stream; fi; }

CPU_MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)

report() {
    echo "## Gateway load bench — $(date -u +'%Y-%m-%d %H:%M UTC')"
    echo
    echo "- machine: $(nproc) cores, ${CPU_MODEL:-unknown CPU}, $(uname -sr), $(awk '/MemTotal/ { printf "%.0f GiB RAM", $2 / 1048576 }' /proc/meminfo)"
    echo "- commit: $COMMIT; wrk $(wrk -v 2>&1 | awk 'NR == 1 { print $2 }'), nginx $("$NGINX" -v 2>&1 | sed 's|.*nginx/||')"
    echo "- runs: ${DURATION} s each (direct, then through), ${WARMUP} s warm-up per pair; wrk threads: 1 at 1 connection, ${WRK_THREADS} at 64$([[ $QUICK == 1 ]] && echo '; QUICK smoke mode')"
    echo "- load average before: $LOAD_BEFORE, after: $LOAD_AFTER; compiler/linker processes running before: ${BUSY_BEFORE:-0}, after: ${BUSY_AFTER:-0}; wall time $((END_TS - START_TS)) s"
    echo "- upstream: nginx (1 worker, access log off) returning a fixed $(wc -c <"$TMP/run/probe.json")-byte chat.completion and a $(wc -c <"$TMP/run/probe.sse")-byte SSE stream of $(grep -c '^data: ' "$TMP/run/probe.sse") frames"
    echo
    echo "Latencies in µs (wrk, whole response). Δ = through − direct. CPU = gateway CPU time per request through it."
    echo
    echo "| store | conns | kind | direct p50 | direct p99 | direct req/s | through p50 | through p99 | through req/s | Δp50 | Δp99 | through/direct | gw CPU µs/req | errors d/t |"
    echo "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    local mode conns kind k
    for mode in "${RAN_MODES[@]}"; do
        for conns in "${CONNS_LIST[@]}"; do
            for kind in "${KINDS[@]}"; do
                k="$mode,$conns,$kind"
                printf '| %s | %s | %s | %s | %s | %.0f | %s | %s | %.0f | %s | %s | %s | %s | %s/%s |\n' \
                    "$mode" "$conns" "$(kind_label "$kind")" \
                    "${R[$k,direct,p50]}" "${R[$k,direct,p99]}" "${R[$k,direct,rps]}" \
                    "${R[$k,through,p50]}" "${R[$k,through,p99]}" "${R[$k,through,rps]}" \
                    "$(sub_or_na "${R[$k,through,p50]}" "${R[$k,direct,p50]}")" \
                    "$(sub_or_na "${R[$k,through,p99]}" "${R[$k,direct,p99]}")" \
                    "$(ratio "${R[$k,through,rps]}" "${R[$k,direct,rps]}")" "${R[$k,cpu]}" \
                    "${R[$k,direct,err]}" "${R[$k,through,err]}"
            done
        done
    done
    for mode in $MODES; do
        [[ -n ${MODE_NOTE[$mode]:-} ]] && echo "| $mode | — | ${MODE_NOTE[$mode]} | | | | | | | | | | | |"
    done
    echo
    echo "| store | gateway peak RSS (VmHWM) | RSS at end | chat logs written to the store |"
    echo "|---|---:|---:|---|"
    for mode in "${RAN_MODES[@]}"; do
        echo "| $mode | $(mb "${R[$mode,hwm]}") MB | $(mb "${R[$mode,rss]}") MB | ${R[$mode,store]} |"
    done
    if ((MEM_DONE)); then
        echo
        echo "Memory phase (fresh gateway, SQLite store, 64 connections, alternating 5 s non-stream/stream chunks):"
        echo "VmRSS $(mb "$MEM_RSS_START") MB at start, $(mb "$MEM_RSS_HALF") MB after ${MEM_AT_HALF:-NA} requests," \
            "$(mb "$MEM_RSS_END") MB after ${MEM_AT_END:-NA} requests; peak (VmHWM) $(mb "$MEM_HWM") MB; chat logs: $MEM_STORE."
    fi
    echo
    echo "### Targets"
    echo
    local hdr="| target |" sep="|---|"
    for mode in "${RAN_MODES[@]}"; do hdr+=" $mode |"; sep+="---|"; done
    echo "$hdr"
    echo "$sep"
    local row v
    row="| added p50 ≤ 70 µs (1 conn, non-stream) |"
    for mode in "${RAN_MODES[@]}"; do
        v=$(sub_or_na "${R[$mode,1,nonstream,through,p50]}" "${R[$mode,1,nonstream,direct,p50]}")
        row+=" $(check_le "$v" 70) $v µs |"
    done
    echo "$row"
    row="| added p99 ≤ 600 µs (1 conn, non-stream) |"
    for mode in "${RAN_MODES[@]}"; do
        v=$(sub_or_na "${R[$mode,1,nonstream,through,p99]}" "${R[$mode,1,nonstream,direct,p99]}")
        row+=" $(check_le "$v" 600) $v µs |"
    done
    echo "$row"
    row="| added whole-stream p50 ≤ 150 µs (1 conn) |"
    for mode in "${RAN_MODES[@]}"; do
        v=$(sub_or_na "${R[$mode,1,stream,through,p50]}" "${R[$mode,1,stream,direct,p50]}")
        row+=" $(check_le "$v" 150) $v µs |"
    done
    echo "$row"
    for kind in nonstream stream; do
        row="| throughput ≥ 28% of direct (64 conns, $(kind_label $kind)) |"
        for mode in "${RAN_MODES[@]}"; do
            v=$(awk -v a="${R[$mode,64,$kind,through,rps]}" -v b="${R[$mode,64,$kind,direct,rps]}" 'BEGIN { if (b + 0 == 0) print "NA"; else printf "%.1f", 100 * a / b }')
            row+=" $(check_ge "$v" 28) $v% |"
        done
        echo "$row"
    done
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

REPORT=$(report)
printf '%s\n' "$REPORT"
if [[ -n ${BENCH_OUT:-} ]]; then
    printf '%s\n' "$REPORT" >"$BENCH_OUT"
    log "report written to $BENCH_OUT"
fi
