#!/usr/bin/env bash
# Builds the GPU check: a self-contained folder (and a .tar.gz of it) that runs convkit's CUDA
# checks on a machine with an NVIDIA GPU and no Java. Run it through the launcher:
#
#   ./convkit gpu-check-package [DIR]      (default DIR: native-bench/target/gpu-check)
#
# DIR/convkit-gpu-check/ then holds:
#   run.sh       the check (see its header): tests on cuda:0, footprint against the driver, benchmarks
#   runtime/     a jlink'ed Java runtime (java.base, jdk.incubator.vector, jdk.unsupported,
#                java.logging, java.management, java.xml, and jdk.zipfs for JUnit's jar scanning)
#   lib/         convkit.jar and its runtime jars (the module path of the convkit command); the
#                jcuda-natives jar keeps only JCuda's driver library, the one convkit uses
#   test/        convkit's test classes and the JUnit Platform Console Standalone (Maven Central)
#   bench/       the JMH benchmarks and JMH
#   shared/      the ONNX node tests and the six light models (../shared/conformance/onnx/{node,light})
#                that ConformanceTest and OnnxImportTest read
#   MANIFEST.txt what was packaged from which commit
# and DIR/convkit-gpu-check.tar.gz the same, which must stay under 64 MiB.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DIR="${1:-$ROOT/native-bench/target/gpu-check}"
mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"
PKG="$DIR/convkit-gpu-check"
LIMIT=$((64 * 1024 * 1024))
# jdk.zipfs: the JUnit console launcher scans the test jar through the zip file system.
MODULES=java.base,jdk.incubator.vector,jdk.unsupported,java.logging,java.management,java.xml,jdk.zipfs
JDK="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
SHARED_NODE="$ROOT/../shared/conformance/onnx/node"

say() { printf 'gpu-check-package: %s\n' "$*" >&2; }

[ -x "$JDK/bin/jlink" ] || { say "no jlink in $JDK (set JAVA_HOME to a JDK 25)"; exit 1; }
[ -d "$SHARED_NODE" ] || { say "ONNX node tests not found at $SHARED_NODE"; exit 1; }
# JUnit 5.x.y runs on JUnit Platform 1.x.y.
JUNIT=$(sed -n 's:.*<junit.version>5\.\([0-9.]*\)</junit.version>.*:\1:p' "$ROOT/pom.xml")
[ -n "$JUNIT" ] || { say "junit.version (5.x.y) not found in pom.xml"; exit 1; }
PLATFORM="1.$JUNIT"

say "building (tests compiled, not run) and collecting runtime dependencies..."
rm -rf "$PKG" "$DIR/deps"
(cd "$ROOT" && mvn -q -B -DskipTests package dependency:copy-dependencies -DincludeScope=runtime \
    -DexcludeGroupIds=org.convkit -DoutputDirectory="$DIR/deps")
mkdir -p "$PKG/lib" "$PKG/test" "$PKG/bench" "$PKG/shared/conformance/onnx"

cp "$ROOT/java/target/convkit.jar" "$PKG/lib/"
for jar in "$DIR"/deps/*.jar; do
  case "$(basename "$jar")" in
    jocl-*|jcuda-[0-9]*) cp "$jar" "$PKG/lib/" ;;
    jcuda-natives-*)
      # Only JCuda's driver binding: convkit uses the driver API alone (the runtime, NVRTC and
      # PTX compiler bindings are 25 MB). Same file name, so the same automatic module name.
      rm -rf "$DIR/natives" && mkdir -p "$DIR/natives"
      (cd "$DIR/natives" && "$JDK/bin/jar" xf "$jar" && find lib -type f ! -name 'libJCudaDriver-*' -delete)
      "$JDK/bin/jar" --create --file "$PKG/lib/$(basename "$jar")" -C "$DIR/natives" lib ;;
    # ONNX Runtime (55 MB) is a peer of the CPU benchmarks only; the GPU check does not run them.
    onnxruntime-*) ;;
    *) cp "$jar" "$PKG/bench/" ;;
  esac
done
cp "$ROOT"/native-bench/target/convkit-native-bench-*.jar "$PKG/bench/"
"$JDK/bin/jar" --create --file "$PKG/test/convkit-tests.jar" -C "$ROOT/java/target/test-classes" .
say "fetching junit-platform-console-standalone $PLATFORM..."
(cd "$ROOT" && mvn -q -B dependency:copy -Dartifact="org.junit.platform:junit-platform-console-standalone:$PLATFORM" \
    -DoutputDirectory="$PKG/test")

say "jlink: $MODULES from $JDK..."
"$JDK/bin/jlink" --add-modules "$MODULES" --strip-debug --no-header-files --no-man-pages --compress=zip-6 \
    --output "$PKG/runtime" > "$DIR/jlink.log" 2>&1 || { cat "$DIR/jlink.log" >&2; exit 1; }

cp -r "$SHARED_NODE" "$PKG/shared/conformance/onnx/node"
cp -r "$SHARED_NODE/../light" "$PKG/shared/conformance/onnx/light"
cp "$ROOT/native-bench/gpu-check/run.sh" "$PKG/run.sh"
chmod +x "$PKG/run.sh"

{
  echo "convkit GPU check, packaged $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "commit $(git -C "$ROOT" rev-parse HEAD)$(git -C "$ROOT" diff --quiet HEAD -- 2>/dev/null || echo ' (with uncommitted changes)')"
  echo "runtime: $("$PKG/runtime/bin/java" -version 2>&1 | head -n 1), modules $MODULES"
  echo
  (cd "$PKG" && find lib test bench -type f | sort | xargs du -k | awk '{printf "%8d KiB  %s\n", $1, $2}')
  printf '%8d KiB  runtime/\n' "$(du -sk "$PKG/runtime" | cut -f1)"
  printf '%8d KiB  shared/conformance/onnx/{node,light}/ (%d node tests)\n' "$(du -sk "$PKG/shared" | cut -f1)" \
      "$(find "$PKG/shared/conformance/onnx/node" -mindepth 1 -maxdepth 1 -type d | wc -l)"
} > "$PKG/MANIFEST.txt"
rm -rf "$DIR/deps" "$DIR/natives" "$DIR/jlink.log"

tar -C "$DIR" -czf "$DIR/convkit-gpu-check.tar.gz" convkit-gpu-check
folder=$(du -sb "$PKG" | cut -f1)
tarball=$(stat -c %s "$DIR/convkit-gpu-check.tar.gz")
awk -v f="$folder" -v t="$tarball" -v p="$PKG" 'BEGIN {
  printf "%s/\n  %d bytes (%.1f MiB) unpacked\n%s.tar.gz\n  %d bytes (%.1f MiB)\n", p, f, f / 1048576, p, t, t / 1048576 }'
if [ "$tarball" -ge "$LIMIT" ]; then
  say "the tarball is over 64 MiB"
  exit 1
fi
