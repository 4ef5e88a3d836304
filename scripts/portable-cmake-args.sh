#!/usr/bin/env bash
# Print CMake flags for a llama.cpp build that runs on any CPU of this family, not only this one.
# A native build (-DGGML_NATIVE=ON, the default) can use instructions such as AMX that the kernel
# refuses; the server then dies with SIGILL on its first completion. AVX2 is kept where the CPU
# has it (it is most of the speed); AVX-512 and AMX are left out.
set -euo pipefail
ARGS="-DGGML_NATIVE=OFF"
if [[ $(uname -m) == x86_64 ]] && grep -qw avx2 /proc/cpuinfo 2>/dev/null; then
  ARGS="$ARGS -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON"
fi
echo "$ARGS"
