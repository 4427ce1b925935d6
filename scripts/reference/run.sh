#!/usr/bin/env bash
# Remakes the PyTorch/Captum reference data of NigGen.Tests/Reference/ and checks the NigGen declarations against it.
#
#   bash scripts/reference/run.sh            # reference data + declaration check (about 10 s)
#   bash scripts/reference/run.sh timing     # Captum LayerConductance timings of the benchmark networks (minutes)
#
# Needs Debian's PyTorch (apt-get install python3-torch libopenblas0-pthread python3-numpy) and Captum 0.8's source:
# CAPTUM_SRC (default /tmp/captum-0.8) is a folder holding the `captum` package, or set CAPTUM_GIT to a clone of
# github.com/pytorch/captum and this script extracts tag v0.8.0 into CAPTUM_SRC. An installed `captum` works too.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${PYTHON:-/usr/bin/python3}"
captum_src="${CAPTUM_SRC:-/tmp/captum-0.8}"

if ! "$python" -c 'import torch' 2>/dev/null; then
  echo "run.sh: $python cannot import torch; install Debian's python3-torch (or set PYTHON)" >&2
  exit 1
fi
if [ ! -d "$captum_src/captum" ] && [ -n "${CAPTUM_GIT:-}" ]; then
  mkdir -p "$captum_src"
  git --git-dir="$CAPTUM_GIT" archive refs/tags/v0.8.0 captum | tar -x -C "$captum_src"
fi
export PYTHONPATH="$captum_src${PYTHONPATH:+:$PYTHONPATH}"
version="$("$python" -c 'import captum; print(captum.__version__)' 2>/dev/null || true)"
if [ "$version" != "0.8.0" ]; then
  echo "run.sh: Captum 0.8.0 not importable (found '${version:-none}'); set CAPTUM_SRC or CAPTUM_GIT (see the header)" >&2
  exit 1
fi

cd "$here"
if [ "${1:-}" = "timing" ]; then
  exec "$python" captum_timing.py "${@:2}"
fi
"$python" make_reference.py
"$python" make_training_reference.py
"$python" check_declarations.py
