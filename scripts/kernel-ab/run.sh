#!/usr/bin/env bash
# A/B of the kernels between two commits on this machine: the benchmarks' MLP and CNN (forward at batch 1 and 64,
# Neuron Integrated Gradients with 50 steps, one thread), each case run ROUNDS times alternating the two builds, best
# call of each run printed. Alternating runs and best calls keep a shared machine's load out of the comparison.
#   bash scripts/kernel-ab/run.sh OLD [NEW] [ROUNDS]    OLD, NEW: commits (NEW: the working tree when omitted)
# Run it again with DOTNET_EnableAVX512=0 DOTNET_PreferredVectorBitWidth=256 for the AVX2 path (docs/BENCHMARKS.md).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
old="$1" new="${2:-}" rounds="${3:-3}"
work="$(mktemp -d /tmp/kernel-ab.XXXXXX)"
trap 'git -C "$root" worktree remove --force "$work/old-tree" >/dev/null 2>&1 || true; [ -d "$work/new-tree" ] && git -C "$root" worktree remove --force "$work/new-tree" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
git -C "$root" worktree add -q --detach "$work/old-tree" "$old"
newRoot="$root"
if [ -n "$new" ]; then
  git -C "$root" worktree add -q --detach "$work/new-tree" "$new"
  newRoot="$work/new-tree"
fi
for side in old new; do
  tree="$work/old-tree"; [ "$side" = new ] && tree="$newRoot"
  mkdir -p "$work/$side"
  cp "$root/scripts/kernel-ab/KernelAb.csproj" "$root/scripts/kernel-ab/Program.cs" "$work/$side/"
  dotnet build "$work/$side/KernelAb.csproj" -c Release -p:NigGenRoot="$tree" -o "$work/$side/bin" --nologo -v quiet >/dev/null
done
echo "old = $old, new = ${new:-working tree}; best call of each run, µs (${DOTNET_EnableAVX512:+DOTNET_EnableAVX512=$DOTNET_EnableAVX512})"
for case in mlp-forward-1 mlp-forward-64 cnn-forward-1 cnn-forward-64 mlp-nig cnn-nig; do
  line="$case:"
  for ((r = 0; r < rounds; r++)); do
    for side in old new; do
      line="$line $side $(dotnet "$work/$side/bin/KernelAb.dll" 2 "$case" | awk '{print $2}')"
    done
  done
  echo "$line"
done
