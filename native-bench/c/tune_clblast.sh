#!/usr/bin/env bash
# CLBlast has no tuning data for PoCL on this CPU, and its defaults run SGEMM at ~10 GFLOP/s here.
# To make im2col + CLBlast a fair floor, this tries a few Xgemm parameter sets (CLBlast's own
# tuner is not packaged by Debian), each in its own process with the indirect GEMM forced on, and
# prints each set's im2col + SGEMM times. Usage: native-bench/c/tune_clblast.sh [run.sh options]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
X() { echo "XGEMM_MIN_INDIRECT_SIZE=1,GEMMK=0,KREG=1,KWG=$1,KWI=2,MDIMA=$2,MDIMC=$2,MWG=$3,NDIMB=$4,NDIMC=$4,NWG=$5,SA=$6,SB=$6,STRM=0,STRN=0,VWM=$7,VWN=$8"; }
for set in "$(X 16 8 64 4 64 0 8 16)" "$(X 32 8 64 4 64 0 8 16)" "$(X 16 8 64 4 128 0 8 16)" "$(X 32 4 64 4 64 0 8 16)" \
           "$(X 16 4 32 8 128 0 8 16)" "$(X 16 8 64 4 64 1 8 16)" "$(X 32 8 64 4 128 0 8 16)" "$(X 16 8 64 8 128 0 8 16)"; do
  echo "== $set"
  CLBLAST_PARAMS="$set" "$here/run.sh" -r 5 -s "$@" | grep -E "CLBlast|peak"
done
