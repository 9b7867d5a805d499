#!/usr/bin/env bash
# The GPU checks in one run (at most ~8 minutes on one CUDA GPU), results written to one file:
#   1. training speed, lossbook (bf16 autocast, "auto") vs sentence-transformers: the brief run and batch 32;
#   2. CachedMNRL's step memory at batch 4,096 (mini-batch 64) against MNRL at growing batches (the largest
#      that fits is the last one that did not fail);
#   3. encode throughput, fp32 and bf16;
#   4. one tutorial top to bottom (notebook 07, Matryoshka; its GPU settings train longer), through nbval, or
#      bench/run_notebook.py where there is no Jupyter.
#
#   bash bench/gpu.sh [--out FILE]     # on a machine with a CUDA GPU, after scripts/setup.sh test,offline
#   bash bench/gpu.sh --smoke          # the same commands on the CPU with the tiny model and tiny sizes (tests)
#
# Each part has its own time limit and a failure does not stop the others; the exit status says whether
# any part failed. Uses .venv/bin/python when there is one.
set -u
cd "$(dirname "$0")/.."
SMOKE=0
OUT="bench/gpu_results.txt"
while [ $# -gt 0 ]; do
    case "$1" in
        --smoke) SMOKE=1 ;;
        --out) OUT="$2"; shift ;;
        *) echo "unknown argument: $1 (use --smoke, --out FILE)" >&2; exit 2 ;;
    esac
    shift
done
PY="${PYTHON:-}"  # PYTHON=... picks the interpreter; else the venv's, else python3
[ -z "$PY" ] && [ -x .venv/bin/python ] && PY=.venv/bin/python
[ -z "$PY" ] && PY=python3
export HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1
: > "$OUT"
FAILED=0

part() {  # part NAME SECONDS COMMAND...: run with a time limit, append everything to $OUT
    local name="$1" limit="$2"
    shift 2
    echo "== $name ($(date -u +%H:%M:%S), limit ${limit}s): $*" | tee -a "$OUT"
    timeout "$limit" "$@" >>"$OUT" 2>&1
    local status=$?
    echo "== $name: exit $status" | tee -a "$OUT"
    [ "$status" -eq 0 ] || FAILED=1
}

{ echo "lossbook GPU checks, $(date -u)"; command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total --format=csv,noheader; } >>"$OUT"

if [ "$SMOKE" -eq 1 ]; then
    part "training speed (smoke)" 300 $PY bench/train_speed.py --tiny --device cpu --steps 4 --warmup 1 --rounds 1 \
        --rows 64 --losses CoSENT --mixed-precision auto
    part "cached memory (smoke)" 300 $PY bench/cached_memory.py --tiny --device cpu --batch-sizes 8,16 \
        --mini-batch-size 4 --max-seq-length 32 --libraries lossbook
    part "encode (smoke)" 120 $PY bench/encode_speed.py --tiny --device cpu --texts 64 --rounds 1 --mixed-precision auto
else
    # The limits add up to ~8.5 minutes; a lent GPU machine gives 10 per command.
    part "training speed, brief run" 110 $PY bench/train_speed.py --device cuda --brief --rounds 2 --mixed-precision auto
    part "training speed, batch 32" 80 $PY bench/train_speed.py --device cuda --steps 30 --rounds 2 --losses MNRL,CoSENT \
        --mixed-precision auto
    part "cached memory" 120 $PY bench/cached_memory.py --device cuda --batch-sizes 256,1024,4096,8192 \
        --mini-batch-size 64 --libraries lossbook
    part "encode fp32" 40 $PY bench/encode_speed.py --device cuda --texts 4000 --batch-size 128
    part "encode bf16" 40 $PY bench/encode_speed.py --device cuda --texts 4000 --batch-size 128 --mixed-precision bf16
    TUTORIAL=notebooks/07_matryoshka_and_adaptive_layers.ipynb
    if $PY -c "import nbval" 2>/dev/null; then
        part "tutorial 07" 110 $PY -m pytest -q -p no:cacheprovider --nbval-lax "$TUTORIAL"
    else  # no Jupyter there: the code cells in one process (bench/run_notebook.py)
        part "tutorial 07 (no Jupyter: cells in one process)" 110 $PY bench/run_notebook.py "$TUTORIAL"
    fi
fi
echo "results: $OUT (any part failed: $FAILED)"
exit "$FAILED"
