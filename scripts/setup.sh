#!/usr/bin/env bash
# Create ./.venv and install lossbook into it.
#   bash scripts/setup.sh [EXTRAS]      EXTRAS defaults to "notebooks,offline" (see pyproject.toml)
#
# torch goes in first, on its own, chosen for the machine (a plain `torch` requirement resolved with the rest
# would take PyPI's Linux build: CUDA, several GB, even on a machine without a GPU):
#   - no NVIDIA GPU: the CPU-only build from PyTorch's own CPU wheel index (about 200 MB); if that index
#     cannot be reached, a plain `pip install` of the same version instead;
#   - an NVIDIA GPU (nvidia-smi lists one): the default build, which carries CUDA;
#   - LOSSBOOK_TORCH="REQUIREMENT [pip options]" overrides both (e.g. LOSSBOOK_TORCH="torch==2.5.1").
# A torch that is already installed in .venv is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-notebooks,offline}"
python="${PYTHON:-python3}"
torch_version="${LOSSBOOK_TORCH_VERSION:-2.13.0}"
cpu_index="https://download.pytorch.org/whl/cpu"
[ -x .venv/bin/python ] || "$python" -m venv .venv
pip=(.venv/bin/python -m pip install --quiet)

has_nvidia_gpu() {
    command -v nvidia-smi > /dev/null 2>&1 && nvidia-smi -L 2> /dev/null | grep -q "^GPU"
}

if ! .venv/bin/python -c "import torch" 2> /dev/null; then
    if [ -n "${LOSSBOOK_TORCH:-}" ]; then
        echo "torch: installing LOSSBOOK_TORCH=$LOSSBOOK_TORCH"
        # shellcheck disable=SC2086  # the variable may carry pip options after the requirement
        "${pip[@]}" $LOSSBOOK_TORCH
    elif has_nvidia_gpu; then
        echo "torch: an NVIDIA GPU is present; installing the default (CUDA) build of torch==$torch_version"
        "${pip[@]}" "torch==$torch_version"
    elif "${pip[@]}" --retries 1 --timeout 30 --index-url "$cpu_index" "torch==$torch_version" 2> /dev/null; then
        echo "torch: no NVIDIA GPU; installed torch==$torch_version looking in $cpu_index (CPU-only builds) instead of PyPI"
    else
        echo "torch: no NVIDIA GPU and $cpu_index cannot be reached; installing torch==$torch_version with plain pip"
        "${pip[@]}" "torch==$torch_version"
    fi
fi
"${pip[@]}" -e ".[${extras}]"
.venv/bin/python - <<'EOF'
import torch

import lossbook

build = f"CUDA {torch.version.cuda}" if torch.version.cuda else "CPU-only"
print(f"lossbook {lossbook.__version__} with torch {torch.__version__} ({build} build) in .venv")
print("Activate it with `source .venv/bin/activate` to have the `lossbook` command, or run .venv/bin/lossbook.")
EOF
