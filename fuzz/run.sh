#!/usr/bin/env bash
# Runs every fuzz target (or those named) for SECONDS each, JOBS at a time, growing
# fuzz/corpus/<target> from fuzz/seeds/<target>, then minimises each corpus and writes a summary
# table (executions, coverage, corpus, crashes) to fuzz/runs/<date>.md.
#
#   fuzz/run.sh [-t SECONDS] [-j JOBS] [TARGET...]       (defaults: 600 s, 2 at a time, all)
#
# Needs a nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz --locked`). A crash leaves
# its input in fuzz/artifacts/<target>/; copy it to fuzz/regressions/<target>/ once fixed, where
# tests/fuzz_corpus.rs replays it on every `cargo test`.
set -euo pipefail
cd "$(dirname "$0")"
seconds=600
jobs=2
while getopts "t:j:" opt; do
    case $opt in
        t) seconds=$OPTARG ;;
        j) jobs=$OPTARG ;;
        *) exit 2 ;;
    esac
done
shift $((OPTIND - 1))
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(sed -n 's/^name = "\(.*\)"$/\1/p' Cargo.toml | grep -v keysweep-fuzz)
fi
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
python3 seed.py
cargo +nightly fuzz build -O -a -s none
logs=$(mktemp -d)
run_one() {
    local t=$1
    mkdir -p "corpus/$t"
    # -timeout: an input that takes 30 s is a hang, kept as a crash; -rss_limit_mb: memory.
    cargo +nightly fuzz run -O -a -s none "$t" "corpus/$t" "seeds/$t" -- \
        -max_total_time="$seconds" -timeout=30 -rss_limit_mb=4096 -print_final_stats=1 \
        >"$logs/$t.log" 2>&1 || echo "CRASH $t" >>"$logs/$t.log"
}
export -f run_one
export seconds logs
printf '%s\n' "${targets[@]}" | xargs -P "$jobs" -I{} bash -c 'run_one {}'
mkdir -p runs
out=runs/$(date -u +%Y%m%d-%H%M).md
{
    echo "# Fuzz run $(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD)"
    echo
    echo "\`fuzz/run.sh -t $seconds -j $jobs\` on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)),"
    echo "$(rustc +nightly --version). Each target ran ${seconds} s of wall time, $jobs at a time."
    echo
    echo "| target | executions | exec/s | coverage (cov) | features (ft) | corpus before cmin | peak RSS | result |"
    echo "|---|---:|---:|---:|---:|---:|---:|---|"
    for t in "${targets[@]}"; do
        log=$logs/$t.log
        last=$(grep -E '^#[0-9]+' "$log" | tail -1)
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
        rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
        rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
        cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
        ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
        corp=$(sed -n 's/.* corp: \([^ ]*\).*/\1/p' <<<"$last")
        if grep -q '^CRASH' "$log"; then result="CRASH: $(grep -m1 -E 'ERROR|panicked' "$log" | cut -c1-120)"; else result="no crash"; fi
        echo "| $t | ${execs:-?} | ${rate:-?} | ${cov:-?} | ${ft:-?} | ${corp:-?} | ${rss:-?} MB | $result |"
    done
} >"$out"
for t in "${targets[@]}"; do
    cargo +nightly fuzz cmin -O -a -s none "$t" "corpus/$t" >>"$logs/$t.cmin.log" 2>&1 || echo "cmin $t failed (see $logs)"
done
echo "summary: fuzz/$out; logs: $logs"
cat "$out"
