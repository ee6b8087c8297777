#!/usr/bin/env bash
# Streams a model through `quantscope-cli quantize` and reports how fast its data was read and
# how much private memory the process needed.
#   tests/bench/scale.sh MODEL [quantize options...]     (default: --format fp32 --threads 2)
# The model is read once with cat first, so the run reads from the page cache. Peak private
# memory is the largest "Anonymous" total of /proc/PID/smaps_rollup sampled every 10 ms: heap
# and anonymous mappings, not the file mapping (whose pages belong to the page cache).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cli="${QUANTSCOPE_CLI:-$root/build/app/cli/quantscope-cli}"
model="$1"
shift
[ $# -gt 0 ] || set -- --format fp32 --threads 2
cat "$model" > /dev/null
bytes=$(stat -c %s "$model")
start=$(date +%s.%N)
"$cli" quantize "$model" "$@" --json > /dev/null &
pid=$!
peak=0
while kill -0 "$pid" 2> /dev/null; do
  kb=$(awk '/^Anonymous:/ {print $2}' "/proc/$pid/smaps_rollup" 2> /dev/null || echo 0)
  [ -n "$kb" ] && [ "$kb" -gt "$peak" ] && peak=$kb
  sleep 0.01
done
wait "$pid"
end=$(date +%s.%N)
awk -v b="$bytes" -v s="$start" -v e="$end" -v p="$peak" 'BEGIN {
  t = e - s
  printf "%s bytes in %.2f s: %.2f GB/s; peak private (anonymous) memory %.1f MB\n", b, t, b / t / 1e9, p / 1024
}'
