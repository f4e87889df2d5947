#!/usr/bin/env bash
# convkit GPU check: runs convkit's CUDA checks on a machine with an NVIDIA GPU and no Java, from
# the folder `./convkit gpu-check-package` builds (its own Java runtime, jars and test data).
#
#   ./run.sh [--out DIR] [--devices LIST] [--no-cuda] [--budget SECONDS]
#
#   --out DIR        where the results go (default: $OUT if set, else ./gpu-check-results)
#   --devices LIST   the devices of the test sweeps, CONVKIT_TEST_DEVICES (default cuda:0)
#   --no-cuda        a dry run without a GPU: the CUDA-only parts are skipped and the command-line
#                    steps use the first device of --devices (which must then be given)
#   --budget SECONDS time for all steps (default 420); a step that would not fit is cut short
#
# Steps, each with its output in DIR:
#   environment  nvidia-smi, the runtime's version              env.txt
#   devices      convkit devices (module path, as the launcher)  devices.txt
#   tests        the consistency sweeps, ConformanceTest and the device contract, execution-mode,
#                seed, SE-block and CUDA tests on LIST, through the JUnit console launcher
#                                                                tests.log, junit/*.xml
#   footprint    CudaFootprintTest: the allocator's bytes against cuMemGetInfo before and after
#                                                                footprint.log, footprint.txt, junit-footprint/
#   plan         convkit plan --json at batch 1 and 50 (1 and 4 with --no-cuda, where the
#                CPU measures), measured on the device           plan-b*.json
#   demo         the seed network on the device and the CPU, agreement checked
#                                                                demo.txt
#   jmh          Conv2dBench and two Pool2dBench workloads, short runs
#                                                                jmh.txt, jmh-*.json
# and last the table of results (summary.txt). Exit status: 0 when every step passed.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
JAVA="$HERE/runtime/bin/java"
OUT_DIR="${OUT:-$PWD/gpu-check-results}"
DEVICES=""
CUDA=1
BUDGET=420

usage() { sed -n '2,/^set -uo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT_DIR="$2"; shift 2 ;;
    --devices) DEVICES="$2"; shift 2 ;;
    --no-cuda) CUDA=0; shift ;;
    --budget) BUDGET="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
if [ "$CUDA" = 1 ]; then
  DEVICES="${DEVICES:-cuda:0}"
  DEVICE=cuda:0
elif [ -z "$DEVICES" ]; then
  echo "run.sh: --no-cuda needs --devices (e.g. cpu,opencl:0)" >&2
  exit 2
else
  DEVICE="${DEVICES%%,*}"
fi

mkdir -p "$OUT_DIR"
OUT_DIR="$(cd "$OUT_DIR" && pwd)"
START=$(date +%s)
DEADLINE=$((START + BUDGET))
# The flags every JVM running convkit needs: on the class path (tests, JMH), on the module path (the command).
CP_FLAGS=(--enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector)
MP_FLAGS=(--enable-native-access=org.convkit,jocl,jcuda --add-modules jdk.incubator.vector)
TEST_CP="$HERE/test/*:$HERE/lib/*"
ROWS=()
FAILED=0

# Seconds for a step: what it asks for, or what is left of the budget if that is less.
limit() {
  local want=$1 left=$((DEADLINE - $(date +%s)))
  [ "$left" -lt "$want" ] && want=$left
  [ "$want" -lt 5 ] && want=0
  echo "$want"
}

# row NAME RESULT SECONDS DETAIL: one line of the closing table.
row() {
  ROWS+=("$(printf '%-12s %-7s %5ss  %s' "$1" "$2" "$3" "$4")")
  case "$2" in FAIL|TIMEOUT) FAILED=1 ;; esac
  printf 'run.sh: %-12s %-7s %5ss  %s\n' "$1" "$2" "$3" "$4" >&2
}

# run NAME BUDGET LOG COMMAND...: runs a step with a time limit; sets RC and SECS.
run() {
  local name=$1 budget log=$3 t0
  budget=$(limit "$2")
  shift 3
  if [ "$budget" = 0 ]; then
    RC=skip; SECS=0
    echo "skipped: out of time" > "$log"
    return
  fi
  echo "run.sh: $name (up to ${budget}s)..." >&2
  t0=$(date +%s)
  timeout --kill-after=10 "$budget" "$@" > "$log" 2>&1
  RC=$?
  SECS=$(( $(date +%s) - t0 ))
  [ "$RC" = 124 ] || [ "$RC" = 137 ] && RC=timeout
}

result() {
  case "$RC" in
    0) echo PASS ;;
    skip) echo SKIPPED ;;
    timeout) echo TIMEOUT ;;
    *) echo FAIL ;;
  esac
}

# The console launcher's summary count of tests of a kind ("found", "started", "successful", "failed", "skipped", "aborted").
count() {
  sed -n "s/^\[ *\([0-9][0-9]*\) tests $1 .*/\1/p" "$2" | head -n 1
}

# --- environment -----------------------------------------------------------------------------
t0=$(date +%s)
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "host: $(uname -a)"
  echo "cpus: $(nproc)"
  echo "package: $(head -n 2 "$HERE/MANIFEST.txt" 2>/dev/null | tail -n 1)"
  "$JAVA" -version 2>&1
  if command -v nvidia-smi >/dev/null 2>&1; then
    nvidia-smi --query-gpu=name,driver_version,memory.total,memory.used --format=csv 2>&1
    nvidia-smi 2>&1
  else
    echo "nvidia-smi: not found"
  fi
} > "$OUT_DIR/env.txt" 2>&1
if "$JAVA" -version >/dev/null 2>&1; then
  gpu=$(command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null \
      | head -n 1)
  row environment PASS $(( $(date +%s) - t0 )) "$("$JAVA" -version 2>&1 | head -n 1); ${gpu:-no nvidia-smi}"
else
  row environment FAIL $(( $(date +%s) - t0 )) "the bundled runtime does not start (see env.txt)"
fi

# --- devices ---------------------------------------------------------------------------------
run devices 60 "$OUT_DIR/devices.txt" "$JAVA" "${MP_FLAGS[@]}" -p "$HERE/lib" -m org.convkit/org.convkit.cli.Main devices
if [ "$CUDA" = 1 ] && ! grep -q '^cuda:0 ' "$OUT_DIR/devices.txt"; then
  RC=1
fi
row devices "$(result)" "$SECS" "$(grep -E '^(cuda|opencl|cpu)' "$OUT_DIR/devices.txt" | awk '{print $1}' | paste -sd, -)$(
    grep -E '^  cuda:' "$OUT_DIR/devices.txt" | head -n 1 | sed 's/^ */; /')"

# --- tests -----------------------------------------------------------------------------------
SELECTION='.*(ConsistencyTest|ConformanceTest|DeviceContractTest|ExecutionModesTest|SeedNetTest|ResidualSeBlockTest|BatchNormFoldTest|Cuda.*Test)$'
REQUIRE=()
[ "$CUDA" = 1 ] && REQUIRE=(CONVKIT_REQUIRE_CUDA=1)
run tests 270 "$OUT_DIR/tests.log" env CONVKIT_TEST_DEVICES="$DEVICES" CI=true ${REQUIRE[@]+"${REQUIRE[@]}"} \
    "$JAVA" "${CP_FLAGS[@]}" -Xss4m -Dconvkit.shared.dir="$HERE/shared" -cp "$TEST_CP" \
    org.junit.platform.console.ConsoleLauncher execute --disable-banner --disable-ansi-colors --details=summary \
    --fail-if-no-tests --scan-class-path "$HERE/test/convkit-tests.jar" --include-classname "$SELECTION" \
    --reports-dir "$OUT_DIR/junit"
log="$OUT_DIR/tests.log"
found=$(count found "$log")
started=$(count started "$log")
row tests "$(result)" "$SECS" "on $DEVICES: ${found:-?} found, $(count successful "$log") passed, $(count failed "$log") \
failed, $(( ${found:-0} - ${started:-0} + $(count skipped "$log") + $(count aborted "$log") )) not run \
($(sed -n 's/^\[ *\([0-9][0-9]*\) containers aborted .*/\1/p' "$log") classes aborted, e.g. without CUDA or OpenCL)"

# --- footprint -------------------------------------------------------------------------------
if [ "$CUDA" = 1 ]; then
  run footprint 60 "$OUT_DIR/footprint.log" env CONVKIT_REQUIRE_CUDA=1 "$JAVA" "${CP_FLAGS[@]}" -cp "$TEST_CP" \
      org.junit.platform.console.ConsoleLauncher execute --disable-banner --disable-ansi-colors --details=summary \
      --fail-if-no-tests --select-class org.convkit.backend.cuda.CudaFootprintTest \
      --reports-dir "$OUT_DIR/junit-footprint"
  grep '^\[footprint\]' "$OUT_DIR/footprint.log" | sed 's/^\[footprint\] //' > "$OUT_DIR/footprint.txt"
  b1=$(awk '$1 == 1 && $2 == "planned" {print "batch 1: allocator " $4 " B, driver +" $5 " B"}' "$OUT_DIR/footprint.txt")
  b50=$(awk '$1 == 50 && $2 == "planned" {print "batch 50: allocator " $4 " B, driver +" $5 " B"}' "$OUT_DIR/footprint.txt")
  row footprint "$(result)" "$SECS" "${b1:-no batch 1 line}; ${b50:-no batch 50 line}"
else
  row footprint SKIPPED 0 "--no-cuda: the driver counter is CUDA's"
fi

# --- plan ------------------------------------------------------------------------------------
plan_rc=0
plan_secs=0
details=()
BATCHES="1 50"
[ "$CUDA" = 0 ] && BATCHES="1 4"
for batch in $BATCHES; do
  run "plan b$batch" 60 "$OUT_DIR/plan-b$batch.json" "$JAVA" "${MP_FLAGS[@]}" -p "$HERE/lib" \
      -m org.convkit/org.convkit.cli.Main plan --batch "$batch" --device "$DEVICE" --json
  plan_secs=$((plan_secs + SECS))
  [ "$RC" = 0 ] || plan_rc=$RC
  planned=$(tr -d ' \n' < "$OUT_DIR/plan-b$batch.json" | sed -n 's/.*"inference":{[^}]*"planned":\([0-9]*\).*/\1/p')
  measured=$(tr -d ' \n' < "$OUT_DIR/plan-b$batch.json" | sed -n 's/.*"inference":{[^}]*"measured":\([0-9]*\).*/\1/p')
  details+=("b$batch planned ${planned:-?} measured ${measured:-?}")
  if [ "$RC" = 0 ] && { [ -z "$planned" ] || [ "$planned" != "$measured" ]; }; then
    plan_rc=1
  fi
done
RC=$plan_rc
row plan "$(result)" "$plan_secs" "on $DEVICE: ${details[*]}"

# --- demo ------------------------------------------------------------------------------------
DEMO_DEVICES="$DEVICE,cpu"
[ "$DEVICE" = cpu ] && DEMO_DEVICES="$DEVICES"
run demo 60 "$OUT_DIR/demo.txt" "$JAVA" "${MP_FLAGS[@]}" -p "$HERE/lib" -m org.convkit/org.convkit.cli.Main \
    demo --device "$DEMO_DEVICES" --runs 5
# "device NAME: ..." lines name the columns of the "total" line's times (after the parameter count).
times=$(awk '/^device [^ ]*:/ {name[n++] = substr($2, 1, length($2) - 1)}
    $1 == "total" {for (i = 3; i <= NF && i - 3 < n; i++) printf "%s%s %s ms", (i > 3 ? ", " : ""), name[i - 3], $i}' \
    "$OUT_DIR/demo.txt")
agree=$(grep -E '^devices (agree|disagree)' "$OUT_DIR/demo.txt" | head -n 1)
row demo "$(result)" "$SECS" "seed network, ${times:-no times}; ${agree:-no agreement line}"

# --- jmh -------------------------------------------------------------------------------------
JMH_ARGS=(-p "device=$DEVICE" -f 1 -wi 2 -w 1s -i 3 -r 1s)
: > "$OUT_DIR/jmh.txt"
jmh_rc=0
jmh_secs=0
for bench in 'Conv2dBench -p workload=seed_conv1,seed_conv2,seed_conv3,W3a' \
    'Pool2dBench -p workload=resnet50_maxpool,resnet50_globalavg'; do
  name=${bench%% *}
  # shellcheck disable=SC2086 # the workload option is two words on purpose
  run "jmh $name" 90 "$OUT_DIR/jmh-$name.log" "$JAVA" "${CP_FLAGS[@]}" -cp "$HERE/bench/*:$HERE/lib/*" \
      org.convkit.bench.BenchMain "\\.$name\\." ${bench#* } "${JMH_ARGS[@]}" -rf json -rff "$OUT_DIR/jmh-$name.json"
  jmh_secs=$((jmh_secs + SECS))
  [ "$RC" = 0 ] || jmh_rc=$RC
  cat "$OUT_DIR/jmh-$name.log" >> "$OUT_DIR/jmh.txt"
done
RC=$jmh_rc
best=$(awk 'FNR == 1 {on = 0} /^convkit summary/ {on = 1; next}
    on && NF >= 8 && $1 != "benchmark" {printf "%s%s %s ms (%s GFLOP/s)", (k++ ? ", " : ""), $3, $4, $7}' \
    "$OUT_DIR"/jmh-*.log)
row jmh "$(result)" "$jmh_secs" "median on $DEVICE: ${best:-none}"

# --- summary ---------------------------------------------------------------------------------
{
  echo "convkit GPU check on $(hostname), $(( $(date +%s) - START ))s; results in $OUT_DIR"
  printf '%-12s %-7s %6s  %s\n' step result time detail
  printf '%s\n' "${ROWS[@]}"
} > "$OUT_DIR/summary.txt"
echo
cat "$OUT_DIR/summary.txt"
exit "$FAILED"
