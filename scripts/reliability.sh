#!/usr/bin/env bash
# Rerun the reliability probes (docs/reliability.md) against a release build, loopback only, each bounded:
#   bash scripts/reliability.sh            # the full durations the issue asks for (about 20 minutes)
#   bash scripts/reliability.sh --short    # a short version (about 4 minutes)
# Reports (JSON) go to ${OUT:-/tmp/crux-reliability}/<probe>.json.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-/tmp/crux-reliability}"
mkdir -p "$OUT"
[[ -x "${CARGO_TARGET_DIR:-target}/release/crux" ]] || cargo build --release -p crux-cli --locked
run() { local name=$1; shift; echo "==> $name: $*"; timeout 40m python3 scripts/reliability.py "$@" | tee "$OUT/$name.json"; }
if [[ "${1:-}" == --short ]]; then
  run soak soak --minutes 1
  run flood flood --count 8
  run kill kill --seconds 5
  run slowloris slowloris --conns 1000 --seconds 12
  run pg-outage pg-outage --outage 10 --before 3 --after 5
else
  run soak soak --minutes 10
  run flood flood --count 40
  run kill kill --seconds 20
  run slowloris slowloris --conns 3000 --seconds 30
  run pg-outage pg-outage --outage 30 --outage 120
fi
