#!/usr/bin/env bash
# Set up, build and run QuantScope on Debian 12.
#   packaging/dev.sh run    install missing packages, build (Release), start the GUI on the example model
#   packaging/dev.sh test   install missing packages, build (Release), run the test suite headless
#   packaging/dev.sh build  install missing packages and build only
#   packaging/dev.sh fuzz [SECONDS]  build the libFuzzer targets with clang and run each one
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$root/build"
jobs="$(nproc 2>/dev/null || echo 2)"

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
    )
    for name in safetensors gguf npy npz onnx torch hdf5 plan; do
      corpus="$fuzz_build/corpus/$name"
      mkdir -p "$corpus" "$root/tests/fuzz/corpus/$name"
      say "fuzzing $name for $seconds s"
      # libhdf5_hl leaks a few bytes per file image it opens (tests/fuzz/corpus/README.md).
      # It also spins on some inputs until the 15 s limit on each HDF5 parse stops it.
      leaks=1 timeout=10
      [ "$name" = hdf5 ] && leaks=0 timeout=30
      # UBSan findings stop the run and leave the input behind, like crashes.
      UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
      "$fuzz_build/tests/fuzz/fuzz_$name" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout="$timeout" \
        -detect_leaks="$leaks" \
        -artifact_prefix="$fuzz_build/crash-$name-" "$corpus" "$root/tests/fuzz/corpus/$name" "${seeds[$name]}" \
        2>&1 | grep -E "Done [0-9]+ runs|ERROR|SUMMARY|crash-" || true
    done
    ;;
  *)
    echo "usage: packaging/dev.sh run|test|build|fuzz [SECONDS]" >&2
    exit 2
    ;;
esac
