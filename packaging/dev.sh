#!/usr/bin/env bash
# Set up, build and run QuantScope on Debian 12.
#   packaging/dev.sh run    install missing packages, build (Release), start the GUI on the example model
#   packaging/dev.sh test   install missing packages, build (Release), run the test suite headless
#   packaging/dev.sh build  install missing packages and build only
#   packaging/dev.sh fuzz [SECONDS]  build the libFuzzer targets with clang and run each one
#   packaging/dev.sh sanitize asan|tsan  build with AddressSanitizer+UBSan (the whole suite) or
#                           ThreadSanitizer (the jobs layer) and run those tests; see tests/sanitizers
#   packaging/dev.sh package  install missing packages, build, write build/quantscope_VERSION_ARCH.deb
# QS_BUILD_DIR overrides the build directory (default: build/), QS_JOBS the number of parallel
# compile jobs (default: all cores).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${QS_BUILD_DIR:-$root/build}"
jobs="${QS_JOBS:-$(nproc 2>/dev/null || echo 2)}"

# Everything the build and the tests need, all from Debian 12's archive.
packages=(
  build-essential cmake ninja-build pkg-config
  qt6-base-dev libqcustomplot-dev libeigen3-dev libhdf5-dev nlohmann-json3-dev libzip-dev libonnx-dev libprotobuf-dev
  dataset-fashion-mnist
)

say() { printf 'dev.sh: %s\n' "$*"; }

install_missing() {
  local missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    say "all required Debian packages are installed"
    return
  fi
  say "installing missing Debian packages: ${missing[*]}"
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

configure_and_build() {
  say "configuring (Release) in $build"
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  say "building with $jobs jobs"
  cmake --build "$build" --parallel "$jobs"
}

case "${1:-}" in
  run)
    shift
    install_missing
    configure_and_build
    if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ] && [ -z "${QT_QPA_PLATFORM:-}" ]; then
      say "no display found (DISPLAY and WAYLAND_DISPLAY are unset); start it from a desktop session"
      exit 1
    fi
    say "starting QuantScope"
    exec "$build/app/gui/quantscope" "$@"
    ;;
  test)
    install_missing
    configure_and_build
    # The GGUF export test reads files back with an independent reader (@huggingface/gguf) when
    # node and the npm registry are available; without them that check is skipped.
    if command -v npm >/dev/null 2>&1; then
      say "installing the npm test dependencies in tests/export"
      npm ci --prefix "$root/tests/export" --no-audit --no-fund --loglevel=error ||
        say "npm ci failed: the independent GGUF reader check will be skipped"
    fi
    say "running the tests headless (QT_QPA_PLATFORM=offscreen)"
    cd "$build"
    QT_QPA_PLATFORM=offscreen ctest --output-on-failure --timeout 900
    ;;
  build)
    install_missing
    configure_and_build
    ;;
  fuzz)
    seconds="${2:-60}"
    packages+=(clang libclang-rt-14-dev)
    install_missing
    fuzz_build="$root/build-fuzz"
    say "configuring the fuzz targets (clang, ASan+UBSan) in $fuzz_build"
    CC=clang CXX=clang++ cmake -S "$root" -B "$fuzz_build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DQUANTSCOPE_FUZZ=ON -DQS_BUILD_GUI=OFF -DQS_BUILD_TESTS=OFF >/dev/null
    cmake --build "$fuzz_build" --parallel "$jobs"
    # Each target grows its own corpus under build-fuzz/corpus, seeded from the committed
    # corpus (tests/fuzz/corpus) and the test fixtures of its format.
    declare -A seeds=(
      [safetensors]="$root/tests/data/torch" [gguf]="$root/tests/data/gguf"
      [npy]="$root/tests/data/numpy" [npz]="$root/tests/data/numpy"
      [onnx]="$root/tests/data/onnx" [torch]="$root/tests/data/torch_ckpt"
      [hdf5]="$root/tests/data/hdf5" [plan]="$root/tests/fuzz/corpus/plan"
      [session]="$root/tests/fuzz/corpus/session" [imatrix_dat]="$root/tests/data/imatrix"
      [imatrix_gguf]="$root/tests/data/imatrix" [idx]="$root/tests/data/nn/idx"
      [keras_model]="$root/tests/data/nn" [keras_config]="$root/tests/fuzz/corpus/keras_config"
      [safetensors_index]="$root/tests/fuzz/corpus/safetensors_index"
    )
    for name in safetensors gguf npy npz onnx torch hdf5 plan session imatrix_dat imatrix_gguf \
      idx keras_model keras_config safetensors_index; do
      corpus="$fuzz_build/corpus/$name"
      mkdir -p "$corpus" "$root/tests/fuzz/corpus/$name"
      say "fuzzing $name for $seconds s"
      # libhdf5_hl leaks a few bytes per file image it opens (tests/fuzz/corpus/README.md).
      # It also spins on some inputs until the 15 s limit on each HDF5 parse stops it, and
      # allocates what a damaged variable-length string declares (up to 4 GiB) when it reads one.
      leaks=1 timeout=10 rss=2048 probe=
      case "$name" in hdf5 | session | keras_model) leaks=0 timeout=30 rss=4608 probe="$fuzz_build/probe-$name" ;; esac
      # UBSan findings stop the run and leave the input behind, like crashes. A fault in the
      # child process that parses HDF5 first becomes an error, not a crash: such inputs are
      # kept in probe-<name> for triage (tests/fuzz/fuzz_util.h).
      [ -z "$probe" ] || mkdir -p "$probe"
      # (ASAN_OPTIONS as well as -detect_leaks: LeakSanitizer also checks when the run ends.)
      QS_FUZZ_PROBE_DIR="$probe" ASAN_OPTIONS=detect_leaks="$leaks" \
      UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
      "$fuzz_build/tests/fuzz/fuzz_$name" -max_total_time="$seconds" -rss_limit_mb="$rss" -timeout="$timeout" \
        -detect_leaks="$leaks" \
        -artifact_prefix="$fuzz_build/crash-$name-" "$corpus" "$root/tests/fuzz/corpus/$name" "${seeds[$name]}" \
        2>&1 | grep -E "Done [0-9]+ runs|ERROR|SUMMARY|crash-" || true
    done
    ;;
  sanitize)
    kind="${2:-asan}"
    install_missing
    sbuild="$root/build-$kind"
    supp="$root/tests/sanitizers"
    say "configuring the $kind preset in $sbuild"
    (cd "$root" && cmake --preset "$kind" >/dev/null)
    cd "$sbuild"
    case "$kind" in
      asan)
        say "building with $jobs jobs"
        cmake --build "$sbuild" --parallel "$jobs"
        say "running the test suite under AddressSanitizer, LeakSanitizer and UBSan"
        # Suites too slow to run instrumented, each with its reason, in asan-skip.txt.
        skip="$(grep -v '^#' "$supp/asan-skip.txt" | grep . | paste -sd'|' || true)"
        exclude=()
        [ -n "$skip" ] && exclude=(-E "$skip")
        # Any report fails its test: UBSan stops at the first finding, ASan always does, and
        # LeakSanitizer's exit code fails the test; suppressions only for upstream libraries.
        # QS_SKIP_HUGE: the 10^9-element case reads 4 GB, minutes under ASan (run plainly by `test`).
        ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=0 \
        LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0" \
        UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$supp/ubsan.supp" \
        QT_QPA_PLATFORM=offscreen QS_SKIP_HUGE=1 ctest --output-on-failure --timeout 1800 \
          --parallel "$jobs" "${exclude[@]}"
        ;;
      tsan)
        # The jobs layer is where QuantScope's threads meet: the app/core suites.
        targets=(tst_jobs tst_exportjob tst_tensorviewjob tst_plans tst_allocatejob tst_evaluatejob
          tst_cancelanywhere)
        say "building ${targets[*]} with $jobs jobs"
        cmake --build "$sbuild" --parallel "$jobs" --target "${targets[@]}"
        say "running the jobs layer's tests under ThreadSanitizer"
        # Any report fails its test (halt_on_error, exit code 66); why Qt's own accesses are
        # ignored is explained in tests/sanitizers/tsan.supp.
        TSAN_OPTIONS="suppressions=$supp/tsan.supp:ignore_noninstrumented_modules=1:halt_on_error=1:second_deadlock_stack=1:report_signal_unsafe=0" \
        QT_QPA_PLATFORM=offscreen ctest --output-on-failure --timeout 1800 -R "^($(IFS='|'; echo "${targets[*]}"))\$"
        ;;
      *)
        echo "usage: packaging/dev.sh sanitize asan|tsan" >&2
        exit 2
        ;;
    esac
    ;;
  package)
    # dpkg-shlibdeps (dpkg-dev, which calls file) turns the libraries the executables link into
    # the package's Depends.
    packages+=(dpkg-dev file)
    install_missing
    configure_and_build
    version="$(sed -n 's/^project(QuantScope VERSION \([0-9.]*\).*/\1/p' "$root/CMakeLists.txt")"
    deb="$build/quantscope_${version}_$(dpkg --print-architecture).deb"
    rm -f "$deb"
    say "packaging with CPack in $build"
    cpack -G DEB --config "$build/CPackConfig.cmake" -B "$build"
    [ -f "$deb" ] || { say "CPack did not write $deb"; exit 1; }
    say "package: $deb"
    exit 0 # stop reading: this script may be edited while a long build runs
    ;;
  *)
    echo "usage: packaging/dev.sh run|test|build|package|sanitize asan|tsan|fuzz [SECONDS]" >&2
    exit 2
    ;;
esac
