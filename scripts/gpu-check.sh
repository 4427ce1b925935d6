#!/usr/bin/env bash
# The GPU device check, on a machine with an NVIDIA GPU and no .NET SDK: unpacks the self-contained NigGen.GpuCheck
# that scripts/gpu-package.sh packed into .gpu-check/, then runs it: correctness against the CPU path on the reference
# networks (MLP 784-256-256-10 and the CNN), then throughput (NIG on the CNN's 128-neuron layer, 51 points: batch 1
# latency, batch 64 and 512 samples/s; Forward samples/s), with the card's name. About a minute on an H100.
# Arguments go to the program (--cpu-accelerator runs it on ILGPU's CPU simulator instead, at tiny sizes).
# The report is printed and, where $OUT is set (a device call), also written to $OUT/gpu-check.md.
# Exit code: 0 every check agreed, 1 a check failed, 2 no CUDA device.
set -euo pipefail
cd "$(dirname "$0")/.."

package=.gpu-check/niggen-gpu-check.tar.xz
if [[ ! -f $package ]]; then
  echo "gpu-check: no $package; run scripts/gpu-package.sh on a machine with the .NET SDK first (docs/GPU.md)" >&2
  exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/niggen-gpu-check.XXXXXX")
trap 'rm -rf "$work"' EXIT
tar -xJf "$package" -C "$work"

# ILGPU loads the driver's libcuda; make the folders drivers usually live in visible to the loader.
for dir in /usr/local/nvidia/lib64 /usr/local/nvidia/lib /usr/lib/x86_64-linux-gnu /usr/lib64; do
  if [[ -d $dir ]]; then LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$dir"; fi
done
export LD_LIBRARY_PATH DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_gcServer=0
if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
fi

report="${OUT:-$work}/gpu-check.md"
set +e
"$work/niggen-gpu-check/NigGen.GpuCheck" "$@" | tee "$report"
status=${PIPESTATUS[0]}
set -e
exit "$status"
