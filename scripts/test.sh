#!/usr/bin/env bash
# Runs every test: installs what is missing, builds, runs the unit tests, the same tests under
# ASan+UBSan, bounded libFuzzer runs of every parser, and the integration tests against the real
# Prometheus and node_exporter. FUZZ_SECONDS (default 15) bounds each fuzzer.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh --peers
jobs=$(nproc)
start=$SECONDS
step() { echo; echo "=== $* ($((SECONDS - start))s elapsed) ==="; }

step "build (RelWithDebInfo)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$jobs"

step "unit and integration tests"
(cd build && ctest -j "$jobs" --output-on-failure --timeout 300)

step "sanitizer build (ASan+UBSan) and tests"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DTOCSIN_SANITIZE=ON -DTOCSIN_BENCH=OFF >/dev/null
cmake --build build-asan -j "$jobs"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest -j "$jobs" --output-on-failure --timeout 300 -LE integration)

step "fuzzing (${FUZZ_SECONDS:-15}s per target)"
cmake -S . -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DTOCSIN_FUZZ=ON -DTOCSIN_TESTS=OFF -DTOCSIN_BENCH=OFF >/dev/null
cmake --build build-fuzz -j "$jobs" --target procfs_fuzz expfmt_fuzz probe_config_fuzz xor_chunk_fuzz remote_write_fuzz scrape_config_fuzz promql_fuzz
fuzz_passed=0
for t in procfs expfmt probe_config xor_chunk remote_write scrape_config promql; do
  work=$(mktemp -d)
  cp fuzz/corpus/$t/* "$work/"
  if ! build-fuzz/fuzz/${t}_fuzz -max_total_time="${FUZZ_SECONDS:-15}" -max_len=65536 -print_final_stats=1 \
      "$work" >"build-fuzz/${t}.log" 2>&1; then
    tail -40 "build-fuzz/${t}.log"; echo "fuzz target $t failed"; exit 1
  fi
  echo "fuzz $t: $(grep -o 'stat::number_of_executed_units: [0-9]*' "build-fuzz/${t}.log" || grep -o '#[0-9]* *DONE.*' "build-fuzz/${t}.log" | tail -1)"
  rm -rf "$work"
  fuzz_passed=$((fuzz_passed + 1))
done
echo "fuzz: $fuzz_passed passed, 0 failed"
echo
echo "All tests passed in $((SECONDS - start))s."
