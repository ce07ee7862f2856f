#!/usr/bin/env bash
# Runs every fuzz target of fuzz/ for a bounded time, seeded with the project's fixtures.
#   tools/fuzz.sh [SECONDS_PER_TARGET] [TARGET ...]      (default 600 s, all targets)
# FUZZ_TIMEOUT (default 20 s) is the time one input may take: run_model wants 60 under the
# sanitizer, where a model looping to the interpreter's 1,000,000-iteration limit takes ~25 s.
# Needs the nightly toolchain (rustup toolchain install nightly) and cargo-fuzz (installed here
# from crates.io when missing). Crashes land in fuzz/artifacts/TARGET/; each becomes a
# regression test under tests/ before it is fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-600}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(import_graphdef read_mlmodel rules run_model convert)
fi
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
seed() { # seed TARGET FILES...
  local dir="fuzz/corpus/$1"; shift
  mkdir -p "$dir"
  for f in "$@"; do [ -f "$f" ] && cp -n "$f" "$dir/" ; done
}
seed import_graphdef tests/fixtures/*.pb tests/fixtures/ops/*.pb examples/*.pb
seed convert tests/fixtures/*.pb examples/*.pb
seed read_mlmodel tests/fixtures/layers/*.mlmodel
seed rules rules/*.rules rules/examples/*.rules tests/fixtures/rules/fail/*.rules
# run_model reads a 2-byte little-endian model length, the model, then input values.
mkdir -p fuzz/corpus/run_model
python3 - <<'PY'
import glob, os, random
random.seed(0)
for m in sorted(glob.glob("tests/fixtures/layers/*.mlmodel")):
    data = open(m, "rb").read()
    out = f"fuzz/corpus/run_model/{os.path.basename(m)}.seed"
    if len(data) < 65536 and not os.path.exists(out):
        open(out, "wb").write(len(data).to_bytes(2, "little") + data + bytes(random.randrange(256) for _ in range(256)))
PY
# Every target runs even when an earlier one crashed; the exit status says whether any did.
failed=0
mkdir -p fuzz/artifacts
for t in "${targets[@]}"; do
  echo "== $t ($secs s)"
  log="fuzz/artifacts/$t.log"
  if cargo +nightly fuzz run "$t" "fuzz/corpus/$t" -- -max_total_time="$secs" -rss_limit_mb=4096 -timeout="${FUZZ_TIMEOUT:-20}" >"$log" 2>&1; then
    status="no crash"
  else
    status="CRASHED (log: $log)"
    failed=1
  fi
  grep -E "^#[0-9]+.*DONE|Done [0-9]+ runs" "$log" | tail -2 || true
  grep -E "panicked at|SUMMARY|Test unit written" "$log" | head -3 || true
  echo "   corpus: $(ls "fuzz/corpus/$t" | wc -l) inputs; $status"
done
exit "$failed"
