#!/usr/bin/env bash
# Runs the cargo-fuzz targets for a fixed time each and fails when one of them crashes.
#
# Usage: fuzz/run.sh [SECONDS] [TARGET...]     (default: 60 seconds each for module, project
#                                              and config; run from anywhere)
#
# Targets (fuzz/fuzz_targets/, harnesses in src/dev/fuzzing/):
#   module   arbitrary bytes as one Python file: decode, parse, facts, every rule
#   project  a small multi-module project generated from the bytes: whole-program audit from
#            disk and from memory (they must agree), every report format rendered
#   config   arbitrary bytes as perfaudit.toml / pyproject.toml: the loader must return Ok or
#            Err, and a configuration that loads is used for an audit
#
# Toolchain and sanitizer: a nightly toolchain is used when rustup has one installed, the stable
# one otherwise; both build with `--sanitizer none` by default. libFuzzer's coverage
# instrumentation (`-Cpasses=sancov-module`, `-Cllvm-args=...`) needs only stable `-C` flags, so
# no RUSTC_BOOTSTRAP is needed, and panics, stack overflows, timeouts and out-of-memory (what
# safe Rust fails with) are caught without a sanitizer. cargo-fuzz's own default,
# AddressSanitizer, needs `-Zsanitizer` (nightly) and ran these targets 5 to 10 times slower on
# a 2-core machine (execs/s with ASan / without: module 36 / 313, project 4 / 40); use it for
# a run that should also check the unsafe code of dependencies: FUZZ_SANITIZER=address.
# FUZZ_TOOLCHAIN (`nightly`, `stable`) overrides the choice of toolchain.
#
# Each target fuzzes into its own working corpus (fuzz/corpus-work/TARGET, not committed),
# starting from the committed seeds in fuzz/corpus/TARGET and the regression inputs in
# tests/fixtures/fuzz/TARGET. A crash is saved by cargo-fuzz under fuzz/artifacts/TARGET/;
# minimise it with `cargo fuzz tmin --fuzz-dir fuzz TARGET FILE`, fix it, and add the minimised
# input to tests/fixtures/fuzz/TARGET/ (tests/fuzz_regressions.rs replays that directory).
# Logs go to fuzz/target/TOOLCHAIN-SANITIZER/logs/TARGET.log.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

seconds="${1:-60}"
shift || true
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
    targets=(module project config)
fi

# cargo-fuzz 0.13.2 builds with the stable toolchain this project pins.
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz" >&2
    cargo install --locked cargo-fuzz --version 0.13.2
fi

toolchain="${FUZZ_TOOLCHAIN:-}"
if [ -z "$toolchain" ]; then
    if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
        toolchain=nightly
    else
        toolchain=stable
    fi
fi
sanitizer="${FUZZ_SANITIZER:-none}"

# One build directory per toolchain and sanitizer, so that switching does not rebuild.
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$repo/fuzz/target}/$toolchain-$sanitizer"
logs="$CARGO_TARGET_DIR/logs"
mkdir -p "$logs"

# Per target: the largest input, in bytes. A module is up to 64 KiB of source; a project
# generator reads at most a few KiB; configuration files are small.
max_len() {
    case "$1" in
        module) echo 65536 ;;
        project) echo 8192 ;;
        config) echo 16384 ;;
        *) echo 4096 ;;
    esac
}

echo "fuzz: toolchain $toolchain, sanitizer $sanitizer, ${seconds}s per target: ${targets[*]}"
for t in "${targets[@]}"; do
    cargo "+$toolchain" fuzz build --fuzz-dir fuzz --sanitizer "$sanitizer" "$t"
done

failed=()
for t in "${targets[@]}"; do
    work="fuzz/corpus-work/$t"
    artifacts="fuzz/artifacts/$t"
    mkdir -p "$work" "$artifacts" "fuzz/corpus/$t" "tests/fixtures/fuzz/$t"
    before="$(ls "$artifacts" | sort)"
    status=0
    # -timeout: seconds one input may take; -rss_limit_mb: memory cap (out-of-memory is a
    # crash); leaks are not looked for (a finished audit frees everything; LeakSanitizer
    # would only report the worker threads' lazily torn-down state).
    cargo "+$toolchain" fuzz run --fuzz-dir fuzz --sanitizer "$sanitizer" "$t" \
        "$work" "fuzz/corpus/$t" "tests/fixtures/fuzz/$t" -- \
        -max_total_time="$seconds" -max_len="$(max_len "$t")" -timeout=10 \
        -rss_limit_mb=2048 -detect_leaks=0 -print_final_stats=1 \
        >"$logs/$t.log" 2>&1 || status=$?
    execs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$logs/$t.log" | grep -o '[0-9]*$' || true)"
    rate="$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$logs/$t.log" | grep -o '[0-9]*$' || true)"
    cov="$(grep -o 'cov: [0-9]* ft: [0-9]*' "$logs/$t.log" | tail -n 1 || true)"
    echo "fuzz: $t: exit $status, ${execs:-?} execs, ${rate:-?} execs/s, ${cov:-no coverage line}"
    new="$(comm -13 <(echo "$before") <(ls "$artifacts" | sort) || true)"
    if [ "$status" -ne 0 ] || [ -n "$new" ]; then
        failed+=("$t")
        grep -m 1 -E 'panicked|ERROR: libFuzzer|SUMMARY' "$logs/$t.log" >&2 || true
        for f in $new; do echo "fuzz: $t: crash saved as $artifacts/$f" >&2; done
        echo "fuzz: $t: full log in $logs/$t.log" >&2
    fi
done

if [ "${#failed[@]}" -ne 0 ]; then
    echo "fuzz: crashes in: ${failed[*]}" >&2
    exit 1
fi
echo "fuzz: no crashes"
