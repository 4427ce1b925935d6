#!/usr/bin/env bash
# Prepares the GPU device check on a machine with the .NET SDK (no GPU needed):
#   1. publishes NigGen.GpuCheck self-contained for linux-x64 (the GPU machine has no SDK);
#   2. runs the published binary on ILGPU's CPU accelerator at tiny sizes (--cpu-accelerator), so that a broken
#      package is found here and not in a GPU session's few minutes;
#   3. packs it with xz into .gpu-check/niggen-gpu-check.tar.xz (about 30 MiB; it must stay under the 64 MiB a device
#      call carries), a folder this script lists in .git/info/exclude.
# Then, in a session with a GPU: device run `bash scripts/gpu-check.sh` with carry [".gpu-check"] (docs/GPU.md).
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

out=.gpu-check
exclude=$(git rev-parse --git-path info/exclude)
mkdir -p "$(dirname "$exclude")"
grep -qxF "/$out/" "$exclude" 2>/dev/null || echo "/$out/" >> "$exclude"

work=$(mktemp -d "${TMPDIR:-/tmp}/niggen-gpu-package.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "== gpu-package: publish NigGen.GpuCheck (linux-x64, self-contained)"
dotnet publish NigGen.GpuCheck -c Release -r linux-x64 --self-contained -o "$work/niggen-gpu-check" --nologo -v q

echo "== gpu-package: run the published binary on ILGPU's CPU accelerator"
"$work/niggen-gpu-check/NigGen.GpuCheck" --cpu-accelerator

echo "== gpu-package: pack"
rm -rf "$out"
mkdir -p "$out"
tar -cJf "$out/niggen-gpu-check.tar.xz" -C "$work" niggen-gpu-check
bytes=$(stat -c %s "$out/niggen-gpu-check.tar.xz")
if (( bytes >= 60 * 1024 * 1024 )); then
  echo "gpu-package: the package is $((bytes >> 20)) MiB; a device call carries at most 64 MiB in all" >&2
  exit 1
fi

echo "gpu-package: $out/niggen-gpu-check.tar.xz, $((bytes >> 20)) MiB, ready for scripts/gpu-check.sh"
