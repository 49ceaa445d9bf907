#!/usr/bin/env bash
# Property-based fuzzing of the decoders and inbound parsers (crates/crux-llm/tests/fuzz_*_props.rs), each target
# for MINUTES minutes (default 10): the target's test runs again and again with PROPTEST_CASES cases and a fresh
# random seed each time, until its time is up. A failure stops the script; proptest has then written the shrunk input
# to crates/crux-llm/tests/<file>.proptest-regressions — commit it, so every later run (CI too) replays it first.
#   bash scripts/fuzz.sh [MINUTES] [TARGET...]      e.g. bash scripts/fuzz.sh 1 sse_decoder_never_panics
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES="${1:-10}"; shift || true
CASES="${PROPTEST_CASES:-20000}"
declare -A FILE=(
  [sse_decoder_never_panics]=fuzz_decoders_props [ndjson_decoder_never_panics]=fuzz_decoders_props
  [response_decoders_never_panic]=fuzz_wire_props [stream_decoders_never_panic]=fuzz_wire_props
  [openai_inbound_never_panics]=fuzz_inbound_props [anthropic_inbound_never_panics]=fuzz_inbound_props
  [native_inbound_never_panics]=fuzz_inbound_props [responses_inbound_never_panics]=fuzz_inbound_props
)
TARGETS=("$@")
[[ ${#TARGETS[@]} -gt 0 ]] || TARGETS=("${!FILE[@]}")
cargo test -p crux-llm --release --locked --no-run --test fuzz_decoders_props --test fuzz_wire_props --test fuzz_inbound_props
for t in "${TARGETS[@]}"; do
  file="${FILE[$t]:?unknown target $t}"
  end=$((SECONDS + MINUTES * 60)); runs=0
  while (( SECONDS < end )); do
    PROPTEST_CASES="$CASES" cargo test -q -p crux-llm --release --locked --test "$file" -- --exact "$t" >/tmp/crux-fuzz-$t.log 2>&1 \
      || { cat /tmp/crux-fuzz-$t.log; echo "fuzz: $t FAILED (regression file written beside the test)"; exit 1; }
    runs=$((runs + 1))
  done
  echo "fuzz: $t ok: $runs runs x $CASES cases in ${MINUTES} min"
done
