# Front door: `make generate` (1x dataset in ./out/1x) and `make test`. Both set everything up first.
# The first of the supported Pythons found (3.11 first: the one constraints.txt is tested with);
# another: make PYTHON=python3.13 ...
PYTHON ?= $(firstword $(foreach p,python3.11 python3.12 python3.13,$(if $(shell command -v $(p) 2>/dev/null),$(p))) python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
OUT    ?= out/1x
SCALE  ?= 1

.PHONY: setup wheel generate test test-cluster test-all bench leaderboard reproducibility compat lock clean

# constraints.txt pins every package to the versions CI tests; pyproject.toml declares the ranges.
# What a user runs (every command: the "all" extra) and the Delta jars; the test tools come on top.
$(BIN)/.installed-run: pyproject.toml constraints.txt
	@command -v java >/dev/null || { echo "Java 17 is required (java not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[all]'
	$(BIN)/python -m synth_spark.runtime.fetch_delta_jars
	@touch $@

$(BIN)/.installed: $(BIN)/.installed-run
	$(BIN)/pip install --quiet -c constraints.txt -e '.[all,test]'
	@touch $@

setup: $(BIN)/.installed

# The wheel python -m build makes, installed over the editable install (CI tests what users install;
# the package lives in src/, so the checkout itself is not importable). Back to editable: pip install -e .
wheel: setup
	$(BIN)/python -m build --wheel --outdir dist . >/dev/null
	$(BIN)/pip install --quiet --no-deps --force-reinstall "$$(ls -t dist/synth_spark-*.whl | head -1)"

$(BIN)/.installed-bench: $(BIN)/.installed
	$(BIN)/pip install --quiet -c constraints.txt -e '.[all,test,bench]'
	@touch $@

generate: $(BIN)/.installed-run
	$(BIN)/synth-spark generate $(OUT) --scale $(SCALE) --overwrite

# Two pytest workers (pytest-xdist), each with its own local Spark session: Spark's start, Python
# imports and subprocess runs leave a core idle that the other worker uses. A module's tests stay on
# one worker, longest first (tests/conftest.py), not xdist's most-tests-first.
TEST_WORKERS ?= 2

test: setup
	$(BIN)/python -m pytest -m "not slow" -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder --durations=30

# A Spark standalone master and two workers on 127.0.0.1 against local mode (scripts/cluster-smoke.sh).
test-cluster: setup
	$(BIN)/python -m pytest tests/test_cluster.py

test-all: setup
	$(BIN)/python -m pytest

# synth-spark vs the floor (spark.range + hashes) vs dbldatagen, into out/bench-$(SCALE); e.g. make bench SCALE=10 BENCH_ARGS="--driver-memory 8g"
bench: $(BIN)/.installed-bench
	$(BIN)/python scripts/bench.py --scale $(SCALE) $(BENCH_ARGS)

# The reference root-cause methods scored on a fixed benchmark set (the five, easy, medium, hard and a
# control per seed, truths kept apart), into out/leaderboard; docs/benchmark-scoring.md. A tool of your
# own: make leaderboard LEADERBOARD_ARGS="--tool NAME --run 'COMMAND {dataset} {cube} {findings}'"
SEEDS ?= 1 2 3
leaderboard: setup
	$(BIN)/python scripts/leaderboard.py --scale $(SCALE) --seeds $(SEEDS) $(LEADERBOARD_ARGS)

# The 10x checksums from the standalone cluster equal local[2] runs with --partitions 8 and 64 (about 10 min).
reproducibility: setup
	SCALE=10 PARTITIONS="8 64" scripts/cluster-smoke.sh

# The wheel (python -m build) in fresh virtualenvs: Python 3.12 and 3.13 at constraints.txt's versions,
# the lowest release of every range, the spark extra alone, and no extras (every command but check refused,
# naming the extra); each that generates must give this venv's checksums (scripts/compat.sh).
compat: setup
	scripts/compat.sh

# constraints.txt anew: the newest release in every range of pyproject.toml, frozen. Then make test and
# make compat, and commit it with what they show (a new numpy or pyarrow may change the checksums).
lock:
	rm -rf $(VENV)-lock && $(PYTHON) -m venv $(VENV)-lock
	$(VENV)-lock/bin/pip install --quiet '.[all,test,bench]'
	{ head -4 constraints.txt; $(VENV)-lock/bin/pip freeze | grep -v '^synth-spark' | sort -f; } > constraints.txt.new
	mv constraints.txt.new constraints.txt && rm -rf $(VENV)-lock

clean:
	rm -rf $(VENV) out spark-warehouse .pytest_cache
