#!/usr/bin/env bash
# Builds and runs clblast_conv (see clblast_conv.c): convkit's old and new conv2d kernels against
# im2col + CLBlast SGEMM on the first OpenCL device, in one process, rounds interleaved.
# Needs gcc, the OpenCL ICD loader headers and CLBlast (Debian: libclblast-dev, ocl-icd-opencl-dev).
# Usage: native-bench/c/run.sh [clblast_conv options], e.g. -r 21 -w W3a_3x3_64_56
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$root/native-bench/target/c"
mkdir -p "$out"
gcc -O2 -Wall -o "$out/clblast_conv" "$here/clblast_conv.c" -lOpenCL -lclblast -lm
exec "$out/clblast_conv" -k "$root/kernels" "$@"
