#!/usr/bin/env bash
# Builds and runs clblast_conv (see clblast_conv.c): convkit's old and new conv2d kernels against
# im2col + CLBlast SGEMM on the first OpenCL device, in one process, rounds interleaved, with an
# FMA-peak kernel between rounds to show how much of the machine the run had.
# Needs gcc, the OpenCL ICD loader headers and CLBlast (Debian: ocl-icd-opencl-dev, libclblast-dev).
#
# CLBlast has no tuning data for PoCL on a CPU; its defaults ran SGEMM at ~10 GFLOP/s here. The
# Xgemm parameters of clblast_params.txt (the best of tune_clblast.sh's sets on this machine, AMD
# EPYC Zen 5, PoCL 3.1) are passed by default; CLBLAST_PARAMS= (empty) keeps CLBlast's own.
# Usage: native-bench/c/run.sh [clblast_conv options], e.g. -r 21 -w W3a_3x3_64_56
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$root/native-bench/target/c"
mkdir -p "$out"
gcc -O2 -Wall -o "$out/clblast_conv" "$here/clblast_conv.c" -lOpenCL -lclblast -lm
tuned="$(grep -v '^#' "$here/clblast_params.txt")"
params="${CLBLAST_PARAMS-$tuned}"
exec "$out/clblast_conv" -k "$root/kernels" ${params:+-B "$params"} "$@"
