#!/usr/bin/env bash
# Cluster smoke test: the same dataset from a real Spark standalone cluster and from local mode.
#
#   scripts/cluster-smoke.sh            # PYTHON=.venv/bin/python, SCALE=0.05
#   SCALE=10 PARTITIONS="8 64" CLUSTER_FORMAT=parquet scripts/cluster-smoke.sh
#                                       # reproducibility at scale: the cluster against local[2]
#                                       # runs with --partitions 8 and --partitions 64 (make reproducibility)
#
# 1. starts a standalone master and two workers (1 core, 2 GiB each) on 127.0.0.1 with the classes
#    that ship with pyspark; every port is picked by the OS (port 0), the master's REST server is
#    off, work dirs, local dirs and logs live in a temporary folder;
# 2. spark-submit jobs/generate.py to that master (client mode) with the package as --py-files and
#    the cached Delta jars as --jars (no network): --format parquet,delta;
# 3. synth-spark generate --master local[2] with the same seed and scale: --format parquet, once
#    with the default partitions, or once per value of PARTITIONS (--partitions N);
# 4. compares the rows and checksum of every table of the cluster's _manifest.json with each local one;
# 5. writes three days of change batches (jobs/changes.py) on the cluster and in local[2] with another
#    --partitions, and compares the rows and checksum of every table's batch of every day.
# Exit 0 only when both runs succeed and every table matches. Whatever it started (drivers, workers,
# master, executors and their Python workers) is stopped on exit, by PID, even on failure or Ctrl-C.
# The temporary folder is removed on success and kept (with the logs) on failure; KEEP=1 keeps it.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
SCALE=${SCALE:-0.05}
PARTITIONS=${PARTITIONS:-}          # space-separated --partitions of the local runs; empty: one default run
CLUSTER_FORMAT=${CLUSTER_FORMAT:-parquet,delta}
STEP_TIMEOUT=${STEP_TIMEOUT:-600}   # seconds for each generate run
START_TIMEOUT=60                    # seconds for the master and the workers to come up

say() { printf '[cluster-smoke %4ds] %s\n' "$SECONDS" "$*"; }
die() { say "FAILED: $*" >&2; exit 1; }

[[ -x $PYTHON ]] || die "no Python at $PYTHON (run 'make setup' or set PYTHON=/path/to/venv/bin/python)"
command -v java >/dev/null || die "java not found (Java 17 is required)"
PYSPARK_DIR=$("$PYTHON" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))')
SPARK_CLASS=$PYSPARK_DIR/bin/spark-class
SPARK_SUBMIT=$PYSPARK_DIR/bin/spark-submit
[[ -x $SPARK_CLASS && -x $SPARK_SUBMIT ]] || die "spark-class or spark-submit not found under $PYSPARK_DIR/bin"
JARS=$(cd "$ROOT" && "$PYTHON" -c 'from synth_spark.job.session import cached_delta_jars; print(",".join(cached_delta_jars() or []))')
[[ -n $JARS ]] || die "Delta jars not cached; run '$PYTHON scripts/fetch_delta_jars.py' (make setup) once"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/synth-cluster-smoke.XXXXXX")
LOGS=$WORK/logs
mkdir -p "$LOGS" "$WORK/conf"
STARTED=()   # PIDs of the processes started here, in start order
OK=0

# Everything started here: UTC, loopback only, the venv's Python on driver and executors, an empty
# Spark conf dir (no spark-defaults.conf from elsewhere).
export TZ=UTC SPARK_LOCAL_IP=127.0.0.1 SPARK_CONF_DIR=$WORK/conf SPARK_HOME=$PYSPARK_DIR
export PYSPARK_PYTHON=$PYTHON PYSPARK_DRIVER_PYTHON=$PYTHON
# Marks the JVMs started here (a -D on their command line), so a leftover can be found afterwards.
MARK="-Dsynth.smoke.dir=$WORK"

alive() { local s; s=$(ps -o stat= -p "$1" 2>/dev/null) && [[ $s != Z* ]]; }
tree() { local c; for c in $(pgrep -P "$1" 2>/dev/null); do echo "$c"; tree "$c"; done; }

stop() {   # stop a process and all its descendants, TERM first, KILL after 15 s
  local pid=$1 name=$2 pids p i
  pids=("$pid" $(tree "$pid"))
  kill -TERM "${pids[@]}" 2>/dev/null || true
  for ((i = 0; i < 75; i++)); do
    for p in "${pids[@]}"; do alive "$p" && break; p=; done
    [[ -z $p ]] && return 0
    sleep 0.2
  done
  say "$name (pid $pid) still running after 15 s: SIGKILL"
  kill -KILL "${pids[@]}" 2>/dev/null || true
}

cleanup() {
  local rc=$? i leftover
  trap - EXIT INT TERM
  set +e
  ((${#STARTED[@]})) && say "stopping ${#STARTED[@]} processes started here"
  for ((i = ${#STARTED[@]} - 1; i >= 0; i--)); do   # drivers, then workers, then the master
    stop "${STARTED[i]}" "process ${STARTED[i]}"
  done
  leftover=$(pgrep -f -- "$MARK" || true)
  if [[ -n $leftover ]]; then
    say "FAILED: processes of this run still alive after stopping: $(echo $leftover)"
    ps -o pid,args -p "$(echo $leftover | tr ' ' ,)" | cut -c1-200
    kill -KILL $leftover 2>/dev/null
    ((rc == 0)) && rc=1
  fi
  if ((rc == 0)) && [[ $OK == 1 && -z ${KEEP:-} ]]; then
    rm -rf "$WORK"
  else
    say "work dir and logs kept in $WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

wait_for() {   # wait_for FILE PATTERN COUNT WHAT: until FILE has COUNT lines matching PATTERN
  local file=$1 pattern=$2 count=$3 what=$4 deadline=$((SECONDS + START_TIMEOUT))
  until (($(grep -c -- "$pattern" "$file" 2>/dev/null || true) >= count)); do
    ((SECONDS < deadline)) || { tail -20 "$file" >&2; die "$what did not come up in ${START_TIMEOUT}s (log: $file)"; }
    for pid in "${STARTED[@]}"; do alive "$pid" || { tail -20 "$file" >&2; die "$what: process $pid exited (log: $file)"; }; done
    sleep 0.5
  done
}

run() {   # run NAME LOG CMD...: in the background (so a signal reaches the trap), with a time limit
  local name=$1 log=$2 pid rc=0
  shift 2
  timeout -k 15 "$STEP_TIMEOUT" "$@" 2>"$log" &
  pid=$!
  STARTED+=("$pid")
  wait "$pid" || rc=$?
  unset 'STARTED[-1]'
  if ((rc != 0)); then
    tail -30 "$log" >&2
    ((rc == 124)) && die "$name took over ${STEP_TIMEOUT}s (stderr: $log)"
    die "$name exited with $rc (stderr: $log)"
  fi
}

say "work dir $WORK; pyspark $("$PYTHON" -c 'import pyspark; print(pyspark.__version__)') from $PYSPARK_DIR"

say "starting the standalone master"
SPARK_MASTER_OPTS="$MARK -Dspark.master.rest.enabled=false" \
  "$SPARK_CLASS" org.apache.spark.deploy.master.Master --host 127.0.0.1 --port 0 --webui-port 0 \
  >"$LOGS/master.log" 2>&1 &
STARTED+=("$!")
wait_for "$LOGS/master.log" "Starting Spark master at spark://" 1 "master"
MASTER_URL=$(grep -o 'spark://127\.0\.0\.1:[0-9]*' "$LOGS/master.log" | head -1)
[[ -n $MASTER_URL ]] || die "master URL not found in $LOGS/master.log"
say "master up at $MASTER_URL (pid ${STARTED[0]})"

for n in 1 2; do
  mkdir -p "$WORK/worker-$n" "$WORK/local-$n"
  SPARK_WORKER_OPTS="$MARK" SPARK_LOCAL_DIRS=$WORK/local-$n \
    "$SPARK_CLASS" org.apache.spark.deploy.worker.Worker --host 127.0.0.1 --port 0 --webui-port 0 \
    --cores 1 --memory 2g --work-dir "$WORK/worker-$n" "$MASTER_URL" >"$LOGS/worker-$n.log" 2>&1 &
  STARTED+=("$!")
done
wait_for "$LOGS/master.log" "Registering worker" 2 "two workers"
say "two workers registered (1 core, 2 GiB each; pids ${STARTED[1]} ${STARTED[2]})"

# the package as installed (in CI the wheel python -m build made), zipped for --py-files
"$PYTHON" - "$WORK/synth_spark.zip" <<'EOF'
import sys, zipfile
from pathlib import Path
import synth_spark
package = Path(synth_spark.__file__).parent
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    for f in sorted(package.rglob("*")):
        if f.is_file() and "__pycache__" not in f.parts:
            z.write(f, f.relative_to(package.parent).as_posix())   # a link (default.yaml in a checkout): its content
EOF

say "spark-submit jobs/generate.py to $MASTER_URL: --scale $SCALE --format $CLUSTER_FORMAT"
JAVA_OPTS="$MARK -Duser.timezone=UTC"
run "spark-submit on the cluster" "$LOGS/cluster-driver.log" \
  "$SPARK_SUBMIT" --master "$MASTER_URL" --deploy-mode client --name synth-spark-cluster-smoke \
  --py-files "$WORK/synth_spark.zip" --jars "$JARS" \
  --driver-memory 1g --executor-memory 1g --executor-cores 1 --total-executor-cores 2 \
  --driver-java-options "$JAVA_OPTS" \
  --conf "spark.executor.extraJavaOptions=$JAVA_OPTS" \
  --conf spark.executorEnv.TZ=UTC \
  --conf "spark.executorEnv.PYSPARK_PYTHON=$PYTHON" \
  --conf spark.ui.enabled=false \
  --conf spark.driver.host=127.0.0.1 --conf spark.driver.bindAddress=127.0.0.1 \
  --conf "spark.local.dir=$WORK/local-driver" \
  "$ROOT/jobs/generate.py" "$WORK/cluster" --scale "$SCALE" --format "$CLUSTER_FORMAT"
# The cluster really ran it: each worker launched an executor for the application.
for n in 1 2; do
  compgen -G "$WORK/worker-$n/app-*/*/stderr" >/dev/null || die "worker $n ran no executor (see $WORK/worker-$n)"
done
say "cluster run done; both workers ran an executor"

LOCAL_DIRS=()
for parts in ${PARTITIONS:-default}; do
  extra=()
  [[ $parts == default ]] || extra=(--partitions "$parts")
  say "synth-spark generate --master local[2]: --scale $SCALE --format parquet ${extra[*]}"
  run "local generate ($parts partitions)" "$LOGS/local-$parts.log" \
    env PYSPARK_SUBMIT_ARGS="--driver-java-options '$JAVA_OPTS' pyspark-shell" \
    "$(dirname "$PYTHON")/synth-spark" generate "$WORK/local-$parts" --master 'local[2]' --scale "$SCALE" \
    --format parquet "${extra[@]}"
  LOCAL_DIRS+=("$WORK/local-$parts")
done

say "comparing the manifests"
"$PYTHON" - "$CLUSTER_FORMAT" "$WORK/cluster" "${LOCAL_DIRS[@]}" <<'EOF'
import json, sys
from pathlib import Path
fmt, cluster_dir, *local_dirs = sys.argv[1:]
cluster_dir = Path(cluster_dir)
cluster = json.loads((cluster_dir / "_manifest.json").read_text())
bad = []
for local_dir in map(Path, local_dirs):
    local = json.loads((local_dir / "_manifest.json").read_text())
    print(f"cluster ({cluster['partitions']} partitions) against {local_dir.name} ({local['partitions']} partitions):")
    bad += [f"{k}: cluster {cluster.get(k)!r} != local {local.get(k)!r}" for k in ("seed", "scale")
            if cluster.get(k) != local.get(k)]
    tables = sorted(set(cluster["tables"]) | set(local["tables"]))
    width = max(map(len, tables))
    print(f"  {'table':<{width}}  {'cluster rows':>12}  {'cluster checksum':>16}  {'local rows':>12}  {'local checksum':>16}")
    for t in tables:
        c, l = cluster["tables"].get(t, {}), local["tables"].get(t, {})
        same = (c.get("rows"), c.get("checksum")) == (l.get("rows"), l.get("checksum")) and c.get("rows") is not None
        print(f"  {t:<{width}}  {c.get('rows', '-'):>12}  {c.get('checksum', '-'):>16}  {l.get('rows', '-'):>12}  {l.get('checksum', '-'):>16}  {'ok' if same else 'MISMATCH'}")
        if not same:
            bad.append(f"{t} differs from {local_dir.name}")
for t in cluster["tables"]:
    if "delta" in fmt and not (cluster_dir / "delta" / t / "_delta_log").is_dir():
        bad.append(f"{t}: no Delta table in the cluster output")
if bad:
    print("cluster-smoke: MISMATCH: " + "; ".join(bad))
    sys.exit(1)
runs = "local[2]" if len(local_dirs) == 1 else f"{len(local_dirs)} local[2] runs"
print(f"cluster-smoke: all {len(cluster['tables'])} tables: rows and checksums match between the standalone "
      f"cluster and {runs}")
EOF
# The daily change batches too: a day's batch does not depend on the master either.
FEED_DAYS=(--from 2024-02-13 --to 2024-02-15)
say "spark-submit jobs/changes.py to $MASTER_URL: ${FEED_DAYS[*]}"
run "changes on the cluster" "$LOGS/cluster-changes.log" \
  "$SPARK_SUBMIT" --master "$MASTER_URL" --deploy-mode client --name synth-spark-cluster-smoke-changes \
  --py-files "$WORK/synth_spark.zip" \
  --driver-memory 1g --executor-memory 1g --executor-cores 1 --total-executor-cores 2 \
  --driver-java-options "$JAVA_OPTS" --conf "spark.executor.extraJavaOptions=$JAVA_OPTS" \
  --conf spark.executorEnv.TZ=UTC --conf "spark.executorEnv.PYSPARK_PYTHON=$PYTHON" --conf spark.ui.enabled=false \
  --conf spark.driver.host=127.0.0.1 --conf spark.driver.bindAddress=127.0.0.1 \
  --conf "spark.local.dir=$WORK/local-driver" \
  "$ROOT/jobs/changes.py" --out "$WORK/cluster-feed" --scale "$SCALE" --format parquet "${FEED_DAYS[@]}"
run "changes in local[2]" "$LOGS/local-changes.log" \
  env PYSPARK_SUBMIT_ARGS="--driver-java-options '$JAVA_OPTS' pyspark-shell" \
  "$(dirname "$PYTHON")/synth-spark" changes --out "$WORK/local-feed" --master 'local[2]' --scale "$SCALE" \
  --format parquet --partitions 3 "${FEED_DAYS[@]}"
"$PYTHON" - "$WORK/cluster-feed/changes" "$WORK/local-feed/changes" <<'EOF'
import json, sys
from pathlib import Path
cluster, local = (json.loads((Path(d) / "_manifest.json").read_text()) for d in sys.argv[1:])
bad = [f"{t} {day}" for t, entry in cluster["tables"].items() for day, stats in entry["days"].items()
       if stats != local["tables"][t]["days"].get(day)]
days = sum(len(e["days"]) for e in cluster["tables"].values())
if bad:
    print("cluster-smoke: MISMATCH in the change batches of " + ", ".join(bad))
    sys.exit(1)
print(f"cluster-smoke: all {days} daily batches (table x day): rows and checksums match between the cluster and local[2]")
EOF
OK=1
say "PASSED"
