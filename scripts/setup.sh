#!/usr/bin/env bash
# Create ./.venv and install lossbook into it.
#   bash scripts/setup.sh [EXTRAS]      EXTRAS defaults to "notebooks,offline" (see pyproject.toml)
# torch goes in first, on its own: a plain `torch` requirement resolved with the rest may pull a CUDA
# build of several GB. Set LOSSBOOK_TORCH to choose another build (e.g. "torch" on a CUDA machine).
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-notebooks,offline}"
python="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$python" -m venv .venv
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
    .venv/bin/python -m pip install --quiet "${LOSSBOOK_TORCH:-torch==2.13.0}"
fi
.venv/bin/python -m pip install --quiet -e ".[${extras}]"
.venv/bin/python -c "import lossbook, torch; print(f'lossbook {lossbook.__version__} with torch {torch.__version__} in .venv')"
