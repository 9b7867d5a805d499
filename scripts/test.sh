#!/usr/bin/env bash
# Run every test (slow ones included) and every notebook (nbval), offline, twice:
#   1. with the data mirror, when there is one (LOSSBOOK_DATA, else ../shared/data beside the repository);
#   2. with LOSSBOOK_DATA unset: only the sets bundled in data/, as a user who downloads lossbook has.
# Both runs always happen (a failure in the first does not hide the second); the script fails if any
# part failed. Extra arguments go to both pytest runs of tests/.
#   bash scripts/test.sh [extra pytest arguments]
set -uo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false PYTHONDONTWRITEBYTECODE=1
mirror="${LOSSBOOK_DATA:-$(cd .. && pwd)/shared/data}"
unset LOSSBOOK_DATA

failed=()
summary=()
run_part() {  # run_part NAME COMMAND...: run it, remember whether it passed and how long it took
    local name="$1" start status
    shift
    echo
    echo "=== $name"
    start=$(date +%s)
    "$@"
    status=$?
    summary+=("$name: exit $status in $(( $(date +%s) - start )) s")
    # pytest exits 5 when it collected no test: an empty run is a failure too.
    [ "$status" -eq 0 ] || failed+=("$name")
}

run_source() {  # run_source LABEL: the whole suite and every notebook on the data source now in the environment
    run_part "tests ($1)" .venv/bin/python -m pytest --slow -p no:cacheprovider "${extra[@]}" tests
    run_part "notebooks ($1)" .venv/bin/python -m pytest --nbval-lax -p no:cacheprovider -q notebooks
}

extra=("$@")
if [ -d "$mirror" ]; then
    export LOSSBOOK_DATA="$mirror"
    run_source "mirror $mirror"
    unset LOSSBOOK_DATA
else
    echo "note: no data mirror at $mirror; only the bundled data is tested"
fi
run_source "bundled data only, LOSSBOOK_DATA unset"

echo
printf '%s\n' "${summary[@]}"
if [ "${#failed[@]}" -ne 0 ]; then
    echo "FAILED: ${failed[*]}"
    exit 1
fi
echo "all parts passed"
