#!/usr/bin/env bash
# Cluster smoke test: the same dataset from a real Spark standalone cluster and from local mode.
#
#   scripts/cluster-smoke.sh            # PYTHON=.venv/bin/python, SCALE=0.05
#   SCALE=10 PARTITIONS="8 64" scripts/cluster-smoke.sh
#                                       # reproducibility at scale: the cluster against local[2]
#                                       # runs with --partitions 8 and --partitions 64 (make reproducibility)
#
# 1. starts a standalone master and two workers (1 core, 2 GiB each) on 127.0.0.1 with the classes
#    that ship with pyspark; every port is picked by the OS (port 0), the master's REST server is
#    off, work dirs, local dirs and logs live in a temporary folder. The workers' PATH has no
#    virtualenv: their python3.11 lacks the package and all its dependencies (checked);
# 2. builds the wheel, then runs the commands of docs/run-standalone.md's "bash cluster-smoke" block
#    as the page shows them (the master's URL, the shared folder and the scale substituted; the
#    cluster's settings in its spark-defaults.conf): a virtualenv packed with venv-pack, shipped with
#    --archives, jobs/generate.py (--format parquet,delta) and jobs/changes.py (three days);
#    each worker must have run executors with the archive unpacked beside them;
# 3. synth-spark generate --master local[2] with the same seed and scale: --format parquet, once
#    with the default partitions, or once per value of PARTITIONS (--partitions N);
# 4. compares the rows and checksum of every table of the cluster's _manifest.json with each local one;
# 5. writes the same three days of change batches in local[2] with another --partitions, and
#    compares the rows and checksum of every table's batch of every day with the cluster's.
# Exit 0 only when both runs succeed and every table matches. Whatever it started (drivers, workers,
# master, executors and their Python workers) is stopped on exit, by PID, even on failure or Ctrl-C.
# The temporary folder is removed on success and kept (with the logs) on failure; KEEP=1 keeps it.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
SCALE=${SCALE:-0.05}
PARTITIONS=${PARTITIONS:-}          # space-separated --partitions of the local runs; empty: one default run
STEP_TIMEOUT=${STEP_TIMEOUT:-600}   # seconds for each local run, and twice that for the page's commands
START_TIMEOUT=60                    # seconds for the master and the workers to come up

say() { printf '[cluster-smoke %4ds] %s\n' "$SECONDS" "$*"; }
die() { say "FAILED: $*" >&2; exit 1; }

[[ -x $PYTHON ]] || die "no Python at $PYTHON (run 'make setup' or set PYTHON=/path/to/venv/bin/python)"
command -v java >/dev/null || die "java not found (Java 17 is required)"
PYSPARK_DIR=$("$PYTHON" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))')
SPARK_CLASS=$PYSPARK_DIR/bin/spark-class
SPARK_SUBMIT=$PYSPARK_DIR/bin/spark-submit
[[ -x $SPARK_CLASS && -x $SPARK_SUBMIT ]] || die "spark-class or spark-submit not found under $PYSPARK_DIR/bin"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/synth-cluster-smoke.XXXXXX")
LOGS=$WORK/logs
mkdir -p "$LOGS" "$WORK/conf"
STARTED=()   # PIDs of the processes started here, in start order
OK=0

# Everything started here: UTC, loopback only, a Spark conf dir of its own (the cluster's
# spark-defaults.conf below, none from elsewhere). No PYSPARK_PYTHON: the local runs set it.
export TZ=UTC SPARK_LOCAL_IP=127.0.0.1 SPARK_CONF_DIR=$WORK/conf SPARK_HOME=$PYSPARK_DIR
unset PYSPARK_PYTHON PYSPARK_DRIVER_PYTHON
# Marks the JVMs started here (a -D on their command line), so a leftover can be found afterwards.
MARK="-Dsynth.smoke.dir=$WORK"
# Speed only, for JVMs that live seconds to minutes on a small machine: the JIT's first compiler
# alone and the serial collector (the whole smoke: about a fifth less CPU). Results never depend on it.
LEAN="-XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=240m -XX:+UseSerialGC"
JAVA_OPTS="$MARK $LEAN -Duser.timezone=UTC"
# The workers' Python: an empty virtualenv of the driver's interpreter, first on a PATH without the
# driver's virtualenv. It lacks the package and every dependency (checked), so the executors can
# only work in the environment the job ships.
VENV_BIN=$(cd "$(dirname "$PYTHON")" && pwd)
"$("$PYTHON" -c 'import sys; print(sys._base_executable)')" -m venv --without-pip "$WORK/bare"
BARE_PATH=$WORK/bare/bin:$(tr ':' '\n' <<<"$PATH" | grep -vxF "$VENV_BIN" | paste -sd: -)
BARE=$(PATH=$BARE_PATH command -v python3.11)
for module in synth_spark pyspark numpy pyarrow pandas faker pydantic yaml; do
  ! "$BARE" -c "import $module" 2>/dev/null || die "the workers' $BARE has $module: it must be bare"
done

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

say "work dir $WORK; pyspark $("$PYTHON" -c 'import pyspark; print(pyspark.__version__)') from $PYSPARK_DIR; workers' Python $BARE (bare)"

say "starting the standalone master"
SPARK_MASTER_OPTS="$MARK $LEAN -Dspark.master.rest.enabled=false" \
  "$SPARK_CLASS" org.apache.spark.deploy.master.Master --host 127.0.0.1 --port 0 --webui-port 0 \
  >"$LOGS/master.log" 2>&1 &
STARTED+=("$!")
wait_for "$LOGS/master.log" "Starting Spark master at spark://" 1 "master"
MASTER_URL=$(grep -o 'spark://127\.0\.0\.1:[0-9]*' "$LOGS/master.log" | head -1)
[[ -n $MASTER_URL ]] || die "master URL not found in $LOGS/master.log"
say "master up at $MASTER_URL (pid ${STARTED[0]})"

for n in 1 2; do
  mkdir -p "$WORK/worker-$n" "$WORK/local-$n"
  PATH=$BARE_PATH SPARK_WORKER_OPTS="$MARK $LEAN" SPARK_LOCAL_DIRS=$WORK/local-$n \
    "$SPARK_CLASS" org.apache.spark.deploy.worker.Worker --host 127.0.0.1 --port 0 --webui-port 0 \
    --cores 1 --memory 2g --work-dir "$WORK/worker-$n" "$MASTER_URL" >"$LOGS/worker-$n.log" 2>&1 &
  STARTED+=("$!")
done
wait_for "$LOGS/master.log" "Registering worker" 2 "two workers"
say "two workers registered (1 core, 2 GiB each; pids ${STARTED[1]} ${STARTED[2]})"

# The job ships its own Python environment, as docs/run-standalone.md tells users to: the commands of
# that page's "bash cluster-smoke" block, run as shown but for the master's URL, the shared folder
# and the scale. The wheel they install is built from this checkout.
say "building the wheel; reading the commands of docs/run-standalone.md"
mkdir -p "$WORK/submit" "$WORK/shared"
"$PYTHON" -m build --wheel --outdir "$WORK/submit/dist" "$ROOT" >"$LOGS/wheel.log" 2>&1 \
  || { tail -20 "$LOGS/wheel.log" >&2; die "python -m build failed (log: $LOGS/wheel.log)"; }
ln -s "$ROOT/jobs" "$WORK/submit/jobs"
ln -s "$ROOT/constraints.txt" "$WORK/submit/constraints.txt"
ln -s "$("$PYTHON" -c 'import sys; print(sys.prefix)')" "$WORK/submit/.venv"   # the driver's environment
"$PYTHON" - "$ROOT/docs/run-standalone.md" "$MASTER_URL" "$WORK/shared/" "$SCALE" >"$WORK/submit/commands.sh" <<'EOF'
import re, sys
page, master, shared, scale = sys.argv[1:]
blocks = re.findall(r"^```bash cluster-smoke\n(.*?)^```", open(page).read(), re.S | re.M)
if len(blocks) != 1:
    sys.exit(f"{page}: expected one 'bash cluster-smoke' block, found {len(blocks)}")
text = blocks[0].replace("\\\n", " ")
text = text.replace("spark://HOST:7077", master).replace("/shared/synth/", shared)
text = re.sub(r"--scale 1\b", f"--scale {scale}", text)
print("set -euxo pipefail")
print(text)
EOF
grep -q -- "--archives synth_env.tar.gz#environment" "$WORK/submit/commands.sh" || die "the page's commands ship no environment"
# The cluster's settings, where its administrator would put them: loopback, small memory, UTC, and
# the mark on every JVM.
cat >"$WORK/conf/spark-defaults.conf" <<EOF
spark.driver.host                 127.0.0.1
spark.driver.bindAddress          127.0.0.1
spark.driver.memory               1g
spark.executor.memory             1g
spark.executor.cores              1
spark.cores.max                   2
spark.ui.enabled                  false
spark.local.dir                   $WORK/local-driver
spark.driver.extraJavaOptions     $JAVA_OPTS
spark.executor.extraJavaOptions   $JAVA_OPTS
spark.executorEnv.TZ              UTC
EOF
say "the page's commands: a packed virtualenv, then generate and changes on $MASTER_URL (--scale $SCALE)"
cd "$WORK/submit"
STEP_TIMEOUT=$((2 * STEP_TIMEOUT)) run "the commands of docs/run-standalone.md" "$LOGS/cluster-driver.log" \
  env PATH="$PYSPARK_DIR/bin:$BARE_PATH" bash commands.sh
cd "$ROOT"
# The cluster really ran them, in the shipped environment: each worker launched executors and
# unpacked the archive beside them.
for n in 1 2; do
  compgen -G "$WORK/worker-$n/app-*/*/stderr" >/dev/null || die "worker $n ran no executor (see $WORK/worker-$n)"
  compgen -G "$WORK/worker-$n/app-*/*/environment/bin/python" >/dev/null \
    || die "worker $n's executors have no unpacked environment (see $WORK/worker-$n)"
done
say "cluster runs done; both workers ran executors in the shipped environment ($(du -m "$WORK/submit/synth_env.tar.gz" | cut -f1) MB archive)"

LOCAL_DIRS=()
for parts in ${PARTITIONS:-default}; do
  extra=()
  [[ $parts == default ]] || extra=(--partitions "$parts")
  say "synth-spark generate --master local[2]: --scale $SCALE --format parquet ${extra[*]}"
  run "local generate ($parts partitions)" "$LOGS/local-$parts.log" \
    env PYSPARK_PYTHON="$PYTHON" PYSPARK_SUBMIT_ARGS="--driver-java-options '$JAVA_OPTS' pyspark-shell" \
    "$(dirname "$PYTHON")/synth-spark" generate "$WORK/local-$parts" --master 'local[2]' --scale "$SCALE" \
    --format parquet "${extra[@]}"
  LOCAL_DIRS+=("$WORK/local-$parts")
done

say "comparing the manifests"
"$PYTHON" - "$WORK/shared/1x" "${LOCAL_DIRS[@]}" <<'EOF'
import json, sys
from pathlib import Path
cluster_dir, *local_dirs = sys.argv[1:]
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
    if "delta" in cluster["formats"] and not (cluster_dir / "delta" / t / "_delta_log").is_dir():
        bad.append(f"{t}: no Delta table in the cluster output")
if bad:
    print("cluster-smoke: MISMATCH: " + "; ".join(bad))
    sys.exit(1)
runs = "local[2]" if len(local_dirs) == 1 else f"{len(local_dirs)} local[2] runs"
print(f"cluster-smoke: all {len(cluster['tables'])} tables: rows and checksums match between the standalone "
      f"cluster and {runs}")
EOF
# The daily change batches too (the page ran jobs/changes.py on the cluster): a day's batch does not
# depend on the master either.
FEED_DAYS=(--from 2024-02-13 --to 2024-02-15)
run "changes in local[2]" "$LOGS/local-changes.log" \
  env PYSPARK_PYTHON="$PYTHON" PYSPARK_SUBMIT_ARGS="--driver-java-options '$JAVA_OPTS' pyspark-shell" \
  "$(dirname "$PYTHON")/synth-spark" changes --out "$WORK/local-feed" --master 'local[2]' --scale "$SCALE" \
  --format parquet --partitions 3 "${FEED_DAYS[@]}"
"$PYTHON" - "$WORK/shared/feed/changes" "$WORK/local-feed/changes" <<'EOF'
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
