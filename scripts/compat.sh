#!/usr/bin/env bash
# The compatibility run (make compat): the wheel `python -m build` makes from this tree, installed
# into fresh virtualenvs the way users install it, each generating the same small dataset:
#   py3.12, py3.13  every extra, at constraints.txt's versions (CI's)
#   lowest          every extra, at the lowest release each range in pyproject.toml allows
#                   (pyspark 4.1.0, numpy 2.1.0, pandas 2.2.2, ...: the wheel's own floors, pinned)
#   core            no extra: generate, validate and check each say which extra they need
#   spark           the spark extra alone (pyspark, delta-spark): generate works
# Every environment's tables must have the checksums this venv's run gives. verify, check and
# validate run where their extras are installed. Prints a line per step with its time.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
SCALE=${SCALE:-0.05}
PYTHONS=${PYTHONS-"python3.12 python3.13"}  # interpreters on PATH, or their paths (empty: none)
PYTHON=${PYTHON:-python3.11}  # the lowest and core environments
WORK=${WORK:-$(mktemp -d "${TMPDIR:-/tmp}/synth-spark-compat.XXXXXX")}
VENV=${BIN%/bin}
# each environment's own Python runs its workers and imports its own synth_spark
unset PYSPARK_PYTHON PYSPARK_DRIVER_PYTHON SPARK_REMOTE PYTHONPATH

step() {  # step NAME COMMAND...: runs it, prints its time, stops the run on failure
    local name=$1 start=$SECONDS
    shift
    if ! "$@" > "$WORK/$name.log" 2>&1; then
        echo "FAILED $name ($((SECONDS - start)) s): see $WORK/$name.log"; tail -20 "$WORK/$name.log"; exit 1
    fi
    echo "ok     $name ($((SECONDS - start)) s)"
}

checksums() {  # the tables' checksums a dataset's manifest records, one line
    "$BIN/python" -c 'import json, sys
m = json.load(open(sys.argv[1] + "/_manifest.json"))
print(" ".join(f"{t}={e[\"checksum\"]}" for t, e in sorted(m["tables"].items())))' "$1"
}

generate() {  # generate ENV OUT FORMATS
    "$1/bin/synth-spark" generate "$2" --scale "$SCALE" --seed 42 --partitions 2 --format "$3" --quiet
}

same_tables() {  # same_tables OUT: its checksums are the reference's
    [ "$(checksums "$1")" = "$(checksums "$WORK/reference")" ] || {
        echo "checksums differ from this venv's run:"; diff <(checksums "$WORK/reference" | tr ' ' '\n') <(checksums "$1" | tr ' ' '\n'); return 1; }
}

refused_without() {  # refused_without ENV COMMAND EXTRA DATASET: exit 3 and the line naming the extra
    local done=0
    "$1/bin/synth-spark" "$2" "$4" > "$WORK/core-$2.out" 2>&1 || done=$?
    [ "$done" = 3 ] && grep -q "pip install 'synth-spark\[$3\]'" "$WORK/core-$2.out" || { cat "$WORK/core-$2.out"; return 1; }
}

echo "compatibility run in $WORK"
step wheel "$BIN/python" -m build --wheel --outdir "$WORK/dist" .
wheel=$(ls "$WORK"/dist/synth_spark-*.whl)
step reference generate "$VENV" "$WORK/reference" parquet

floors() {  # the lowest version every requirement of the wheel (extras included) allows, as constraints
    "$BIN/python" - "$wheel" <<'EOF'
import sys, zipfile
from packaging.requirements import Requirement
with zipfile.ZipFile(sys.argv[1]) as z:
    metadata = z.read(next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))).decode()
for line in metadata.splitlines():
    if line.startswith("Requires-Dist:"):
        req = Requirement(line.split(":", 1)[1].strip())
        low = [s.version for s in req.specifier if s.operator in (">=", "==")]
        if low:
            print(f"{req.name}=={low[0]}")
EOF
}

env_with() {  # env_with NAME PYTHON SPEC CONSTRAINTS: a fresh virtualenv with SPEC installed
    local name=$1 python=$2 spec=$3 constraints=$4
    "$python" -m venv "$WORK/$name" || return 1
    "$WORK/$name/bin/pip" install --quiet -c "$constraints" "$spec" || return 1
    "$WORK/$name/bin/python" -m pip freeze > "$WORK/$name.freeze"
}

full_run() {  # full_run NAME: generate (Parquet, Delta) equal to the reference; verify, check, validate
    local env=$WORK/$1
    step "$1-generate" generate "$env" "$WORK/$1-out" parquet,delta
    step "$1-same-checksums" same_tables "$WORK/$1-out"
    step "$1-verify" "$env/bin/synth-spark" verify "$WORK/$1-out"
    step "$1-check" "$env/bin/synth-spark" check "$WORK/$1-out" --format delta
    local code=0
    "$env/bin/synth-spark" validate "$WORK/$1-out" --quiet > "$WORK/$1-validate.log" 2>&1 || code=$?
    [ "$code" -le 1 ] || { echo "FAILED $1-validate (exit $code)"; tail -20 "$WORK/$1-validate.log"; exit 1; }
    echo "ok     $1-validate: $(tail -1 "$WORK/$1-validate.log")"
}

for python in $PYTHONS; do
    name=$("$python" -c 'import sys; print("py%d.%d" % sys.version_info[:2])')
    step "$name-install" env_with "$name" "$python" "$wheel[all]" constraints.txt
    full_run "$name"
done

floors > "$WORK/floors.txt"
step lowest-install env_with lowest "$PYTHON" "$wheel[all]" "$WORK/floors.txt"
echo "       lowest: $(grep -iE '^(pyspark|delta-spark|numpy|pyarrow|pandas|pydantic|dbt-core|duckdb|matplotlib)==' "$WORK/lowest.freeze" | tr '\n' ' ')"
full_run lowest

step core-install env_with core "$PYTHON" "$wheel" constraints.txt
step core-generate-refused refused_without "$WORK/core" generate spark "$WORK/core-out"
[ ! -e "$WORK/core-out" ] || { echo "FAILED core-generate-refused: it left $WORK/core-out"; exit 1; }
step core-validate-refused refused_without "$WORK/core" validate spark "$WORK/reference"   # Spark first
step core-check-refused refused_without "$WORK/core" check check "$WORK/reference"
step spark-install env_with spark "$PYTHON" "$wheel[spark]" constraints.txt
step spark-generate generate "$WORK/spark" "$WORK/spark-out" parquet
step spark-same-checksums same_tables "$WORK/spark-out"
echo "compatibility run passed ($SECONDS s); its folders are in $WORK"
