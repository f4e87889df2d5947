#!/usr/bin/env bash
# Builds and runs clblast_conv (see clblast_conv.c): convkit's old and new conv2d kernels against
# im2col + CLBlast SGEMM on the first OpenCL device, in one process, rounds interleaved, with an
# FMA-peak kernel between rounds to show how much of the machine the run had.
# Needs gcc, the OpenCL ICD loader headers and CLBlast (Debian: ocl-icd-opencl-dev, libclblast-dev).
#
# CLBlast has no tuning data for PoCL on a CPU; its defaults ran SGEMM at ~10 GFLOP/s here. The
# Xgemm parameters below were the best of tune_clblast.sh's sets on this machine (AMD EPYC Zen 5,
# PoCL 3.1) and are passed by default; CLBLAST_PARAMS= (empty) keeps CLBlast's own.
# Usage: native-bench/c/run.sh [clblast_conv options], e.g. -r 21 -w W3a_3x3_64_56
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$root/native-bench/target/c"
mkdir -p "$out"
gcc -O2 -Wall -o "$out/clblast_conv" "$here/clblast_conv.c" -lOpenCL -lclblast -lm
tuned="XGEMM_MIN_INDIRECT_SIZE=1,GEMMK=0,KREG=1,KWG=16,KWI=2,MDIMA=8,MDIMC=8,MWG=64,NDIMB=4,NDIMC=4,NWG=64,SA=0,SB=0,STRM=0,STRN=0,VWM=8,VWN=16"
params="${CLBLAST_PARAMS-$tuned}"
exec "$out/clblast_conv" -k "$root/kernels" ${params:+-B "$params"} "$@"
