#!/usr/bin/env bash
# End-to-end speed and memory of hsmdiag (default: prefiltered; and --coverage:
# every line typed) against ripgrep counting ten incident signatures, on the
# same generated appliance log, alternating the three in one run.
#
#   bash crates/hsmdiag/benches/compare.sh [MIB] [ROUNDS]     (default 256 MiB, 3 rounds)
#   FLAT=1 bash crates/hsmdiag/benches/compare.sh 256 3       (also peak memory on 100 MiB and 1 GiB,
#                                                              appliance logs and Azure JSON)
#
# Needs: cargo, ripgrep (`apt-get install ripgrep`), GNU time (/usr/bin/time).
set -euo pipefail
cd "$(dirname "$0")/../../.."
MIB=${1:-256}
ROUNDS=${2:-3}
DIR=${BENCH_DIR:-$PWD/target/bench-data}
LOG="$DIR/appliance-${MIB}MiB.log"
mkdir -p "$DIR"

command -v rg >/dev/null || { echo "ripgrep is needed: apt-get install ripgrep" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "GNU time is needed: apt-get install time" >&2; exit 1; }
cargo build --release --quiet
[ -s "$LOG" ] || cargo bench --quiet --bench genlog -- "$LOG" "$MIB"
BYTES=$(stat -c %s "$LOG")

SIGS=(-e 'alert unknown ca' -e 'certificate expired' -e 'RC_SSL_FAILED_HANDSHAKE'
      -e 'HSM Admin Login: incorrect password' -e 'AnotherOperationInProgress'
      -e 'LUNA_RET_SO_LOGIN_FAILURE_THRESHOLD' -e 'CKR_PIN_INCORRECT'
      -e 'Synchronize may fail' -e 'bad certificate' -e 'Unable to find any Luna SA')

measure() { # name, command...
  local name=$1; shift
  # hsmdiag exits 1 when it finds something: that is not a failure here.
  /usr/bin/time -o "$DIR/time.txt" -f '%e %M' "$@" >/dev/null 2>&1 || true
  local out secs kb
  out=$(tail -1 "$DIR/time.txt")
  secs=${out% *}
  kb=${out#* }
  LAST_KB=$kb
  awk -v n="$name" -v s="$secs" -v kb="$kb" -v b="$BYTES" \
    'BEGIN { printf "| %s | %.2f s | %.0f MB/s | %.1f MiB |\n", n, s, (b/1e6)/s, kb/1024 }'
}

# The bound on peak memory whatever the input's size (issue 31): the FLAT
# rows say when a run is over it, and the script then exits 1.
BOUND_MIB=${BOUND_MIB:-64}
OVER=()
bounded() { # name, command...
  measure "$@"
  if [ "$LAST_KB" -gt $((BOUND_MIB * 1024)) ]; then
    OVER+=("$1: $((LAST_KB / 1024)) MiB")
  fi
}

# Startup: a one-line input, the median of five runs.
ONE="$DIR/one-line.log"
echo 'Dec 07 10:00:00 hsm1 NTLS[123]: info : 0 : Incoming connection request... : 10.3.1.4/59415' > "$ONE"
for _ in 1 2 3 4 5; do
  /usr/bin/time -o "$DIR/time.txt" -a -f '%e %M' target/release/hsmdiag "$ONE" >/dev/null 2>&1 || true
done
echo "Startup (one-line input, median of 5): $(tail -5 "$DIR/time.txt" | sort -n | sed -n 3p | awk '{ printf "%.3f s, %.1f MiB", $1, $2/1024 }')"
echo

echo "Input: $LOG ($((BYTES >> 20)) MiB), $(nproc) cores"
echo
echo "| tool | wall | throughput | peak RSS |"
echo "|---|---|---|---|"
for _ in $(seq "$ROUNDS"); do
  measure "hsmdiag --format json" target/release/hsmdiag --format json "$LOG"
  measure "hsmdiag --coverage --format json" target/release/hsmdiag --coverage --format json "$LOG"
  measure "rg -c (10 signatures)" rg -c "${SIGS[@]}" "$LOG"
done

# FLAT=1: is memory flat? Peak memory on 100 MiB and on 1 GiB.
if [ "${FLAT:-0}" = 1 ]; then
  echo
  echo "| input | wall | throughput | peak RSS |"
  echo "|---|---|---|---|"
  for mib in 100 1024; do
    LOG="$DIR/appliance-${mib}MiB.log"
    [ -s "$LOG" ] || cargo bench --quiet --bench genlog -- "$LOG" "$mib"
    BYTES=$(stat -c %s "$LOG")
    bounded "hsmdiag, ${mib} MiB" target/release/hsmdiag --format json "$LOG"
  done
  # Mixed Azure JSON (every Azure sample one after another with fresh ids), from
  # the shared generator when it is there (SHARED_BENCH names its folder).
  MIXED="${SHARED_BENCH:-../shared/bench}/gen-azure-mixed.py"
  if [ -f "$MIXED" ]; then
    for mib in 100 1024; do
      LOG="$DIR/azure-mixed-${mib}MiB.json"
      [ -s "$LOG" ] || python3 "$MIXED" "$LOG" --mb "$mib" >/dev/null
      BYTES=$(stat -c %s "$LOG")
      bounded "hsmdiag, mixed Azure JSON, ${mib} MiB" target/release/hsmdiag --format json "$LOG"
    done
  else
    echo "(mixed Azure JSON skipped: $MIXED not found; set SHARED_BENCH)"
  fi
  # Azure deployment operations as JSON: concatenated documents of 200
  # operations each, and one array export.
  for shape in docs array; do
    for mib in 100 1024; do
      LOG="$DIR/azure-${mib}MiB-${shape}.json"
      [ -s "$LOG" ] || python3 crates/hsmdiag/benches/genazure.py "$LOG" "$mib" "$shape"
      BYTES=$(stat -c %s "$LOG")
      bounded "hsmdiag, Azure JSON ${shape}, ${mib} MiB" target/release/hsmdiag --format json "$LOG"
    done
  done
fi
if [ "${#OVER[@]}" -gt 0 ]; then
  echo
  echo "Over the ${BOUND_MIB} MiB bound:"
  printf '  %s\n' "${OVER[@]}"
  exit 1
fi
