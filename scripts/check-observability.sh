#!/usr/bin/env bash
# Operator-kit check: starts `crux mock` and `crux serve` (a fallback route onto a dead provider, a small breaker, a
# push exporter aimed at a closed port so exporter failures show), Debian's `prometheus` scraping the gateway every
# second, and a short load (chat, streams, errors, retries, fallbacks, 404s). Then it requires, through the Prometheus
# HTTP API, data for every panel query of deploy/grafana/crux-gateway.json and every alert expression of
# deploy/prometheus/crux-alerts.yml (evaluated without its threshold), and runs `promtool check rules` and
# `promtool check metrics` on a live scrape. Everything listens on 127.0.0.1 and is stopped on exit.
#
#   CRUX=path/to/crux (default: $CARGO_TARGET_DIR/debug/crux, else target/debug/crux)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
CRUX=${CRUX:-${CARGO_TARGET_DIR:-$ROOT/target}/debug/crux}
[[ -x $CRUX ]] || { echo "check-observability: $CRUX not built" >&2; exit 1; }
for b in prometheus promtool curl python3; do
  command -v "$b" >/dev/null || { echo "check-observability: $b missing (apt-get install prometheus curl python3)" >&2; exit 1; }
done
TMP=$(mktemp -d "${TMPDIR:-/tmp}/crux-obs.XXXXXX")
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { for _ in $(seq 300); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.1; done; echo "no answer from $1" >&2; return 1; }

MOCK=$(port); GW=$(port); PROM=$(port); DEAD=$(port)
"$CRUX" mock --listen "127.0.0.1:$MOCK" >"$TMP/mock.log" 2>&1 & PIDS+=($!)
cat >"$TMP/crux.toml" <<TOML
[providers.openai]
base_url = "http://127.0.0.1:$MOCK/v1"
[providers.deepseek]
base_url = "http://127.0.0.1:$DEAD/v1"
[routes.smart]
targets = ["deepseek/deepseek-chat", "openai/gpt-4o-mini"]
[resilience]
max_retries = 1
breaker = { failures = 2, open_ms = 1500 }
[telemetry]
prometheus = true
push = { url = "http://127.0.0.1:$DEAD", interval_ms = 500, job = "crux-ci" }
TOML
HOME="$TMP" XDG_DATA_HOME="$TMP/data" OPENAI_API_KEY=ci DEEPSEEK_API_KEY=ci CRUX_LOG_FORMAT=json \
  "$CRUX" --config "$TMP/crux.toml" serve --listen "127.0.0.1:$GW" >"$TMP/serve.log" 2>&1 & PIDS+=($!)
for _ in $(seq 300); do curl -sS -o /dev/null "http://127.0.0.1:$MOCK/" 2>/dev/null && break; sleep 0.1; done
wait_http "http://127.0.0.1:$GW/health"
cat >"$TMP/prometheus.yml" <<YML
global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: ["$ROOT/deploy/prometheus/crux-alerts.yml"]
scrape_configs:
  - job_name: crux
    static_configs: [{targets: ["127.0.0.1:$GW"]}]
YML
prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/tsdb" \
  --web.listen-address="127.0.0.1:$PROM" >"$TMP/prometheus.log" 2>&1 & PIDS+=($!)
wait_http "http://127.0.0.1:$PROM/-/ready"

post() { curl -sS -o /dev/null -H 'content-type: application/json' "http://127.0.0.1:$GW$1" -d "$2" || true; }
echo "load: 20 s of chat, streams, errors, retries, fallbacks and 404s"
end=$((SECONDS + 20)); i=0
while ((SECONDS < end)); do
  i=$((i + 1))
  post /v1/chat/completions '{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"hello"}]}'
  post /v1/chat/completions '{"model":"openai/gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"stream a longer answer please"}]}'
  post /v1/chat/completions "{\"model\":\"openai/gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"retry [[mock status=500 times=1 key=r$i]]\"}]}"
  post /v1/chat/completions '{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"fail [[mock status=500]]"}]}'
  post /v1/chat/completions '{"model":"smart","messages":[{"role":"user","content":"fall back"}]}'
  curl -s -o /dev/null "http://127.0.0.1:$GW/nope" || true
  sleep 0.2
done
sleep 3
curl -fsS "http://127.0.0.1:$GW/metrics" >"$TMP/metrics.txt"
promtool check metrics <"$TMP/metrics.txt"
promtool check rules deploy/prometheus/crux-alerts.yml
lines=$(grep -c '"target":"crux::access"' "$TMP/serve.log" || true)
echo "access log lines: $lines"
((lines >= i * 6)) || { echo "expected at least $((i * 6)) access lines" >&2; exit 1; }

python3 - "$PROM" "$ROOT" <<'PY'
import json, re, sys, urllib.parse, urllib.request
prom, root = sys.argv[1], sys.argv[2]
def query(expr):
    url = f"http://127.0.0.1:{prom}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=10) as r:
        body = json.load(r)
    if body.get("status") != "success":
        raise SystemExit(f"query failed: {expr}: {body}")
    return body["data"]["result"]
exprs = []
dash = json.load(open(f"{root}/deploy/grafana/crux-gateway.json"))
for p in dash["panels"]:
    for t in p.get("targets", []):
        exprs.append((f"panel '{p['title']}'", t["expr"]))
for line in open(f"{root}/deploy/prometheus/crux-alerts.yml"):
    m = re.match(r"\s+expr:\s*(.+)$", line)
    if m:
        expr = re.sub(r"\s*(==|!=|>=|<=|>|<)\s*[0-9.e+-]+\s*$", "", m.group(1).strip())
        exprs.append(("alert", expr))
missing = []
for what, expr in exprs:
    result = query(expr)
    ok = any(r["value"][1] not in ("NaN",) for r in result)
    print(f"{'ok  ' if ok else 'NONE'} {what}: {expr}")
    if not ok:
        missing.append(expr)
if missing:
    raise SystemExit(f"{len(missing)} of {len(exprs)} queries returned no data")
print(f"all {len(exprs)} dashboard and alert queries returned data")
PY
