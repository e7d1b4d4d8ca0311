#!/usr/bin/env bash
# A Spark Connect server with Delta Lake, for synth-spark's --remote (and the tests): runs in the
# foreground until stopped (Ctrl-C or SIGTERM), with the classes that ship with pyspark.
#
#   scripts/spark-connect-server.sh                  # sc://127.0.0.1:15002, local[*], the venv's Python
#   PORT=15010 MASTER=local[2] scripts/spark-connect-server.sh
#
# Bound to 127.0.0.1 unless BIND says otherwise: Spark Connect has no authentication of its own, so
# put anything wider behind a proxy that has. The server's Python workers run $PYTHON (the venv's by
# default), which must have synth-spark and its dependencies: the client's functions run there.
# Delta comes from the jars `make setup` cached (no network); the session is UTC like ours.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
PORT=${PORT:-15002}
BIND=${BIND:-127.0.0.1}
MASTER=${MASTER:-local[*]}

[[ -x $PYTHON ]] || { echo "spark-connect-server: no Python at $PYTHON (run 'make setup' or set PYTHON)" >&2; exit 2; }
PYSPARK_DIR=$("$PYTHON" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))')
JARS=$(cd "$ROOT" && "$PYTHON" -c 'from synth_spark.runtime.session import cached_delta_jars; print(",".join(cached_delta_jars() or []))')
[[ -n $JARS ]] || { echo "spark-connect-server: Delta jars not cached; run 'make setup' once" >&2; exit 2; }
LOG_CONFIG=$("$PYTHON" -c 'from synth_spark.runtime.session import QUIET_LOG_CONFIG; print(QUIET_LOG_CONFIG)')

export TZ=UTC SPARK_HOME=$PYSPARK_DIR PYSPARK_PYTHON=$PYTHON SPARK_LOCAL_IP=${SPARK_LOCAL_IP:-$BIND}
exec "$PYSPARK_DIR/bin/spark-submit" \
  --class org.apache.spark.sql.connect.service.SparkConnectServer \
  --name synth-spark-connect-server \
  --master "$MASTER" \
  --jars "$JARS" \
  --conf spark.connect.grpc.binding.address="$BIND" \
  --conf spark.connect.grpc.binding.port="$PORT" \
  --conf spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension \
  --conf spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog \
  --conf spark.sql.session.timeZone=UTC \
  --conf spark.ui.enabled=false \
  --conf "spark.driver.extraJavaOptions=-Dlog4j.configurationFile=$LOG_CONFIG" \
  spark-internal
