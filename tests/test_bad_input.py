"""Every input is bounded and checked before any work: one line naming the field and what is
allowed, exit code 2, nothing written, in about the CPU of a plain refusal and under 200 MB. The cases an SRE found
crashing, hanging or accepted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from synth_spark.cli import main

from .conftest import manifest_only
from .helpers import assert_refused

#: 9 levels of 9 aliases: 9**9 values once expanded, from a few hundred bytes
ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
)
#: nested brackets far past any setting's depth
DEEP = "[" * 60_000 + "]" * 60_000
#: a JSON document nested deeper than Python's stack
DEEP_JSON = '{"generator": "synth-spark", "x": ' + "[" * 100_000 + "]" * 100_000 + "}"


def alias_bomb_value(levels: int) -> str:
    """The same bomb as one flow value for --set: ``levels`` lists of 9 aliases to the one before."""
    names = [chr(97 + i) for i in range(levels)]
    lists = [f"&a [{', '.join(['1'] * 9)}]"] + [
        f"&{n} [{', '.join(['*' + p] * 9)}]" for p, n in zip(names, names[1:])
    ]
    return f"[{', '.join(lists)}]"


def _yaml(tmp_path: Path, text: str) -> str:
    path = tmp_path / "conf.yaml"
    path.write_text(text)
    return str(path)


def _symlink_to_nothing(tmp_path: Path) -> str:
    link = tmp_path / "dangling"
    link.symlink_to(tmp_path / "gone")
    return str(link)


def _inside_a_dataset(tmp_path: Path) -> str:
    dataset = tmp_path / "other"
    (dataset / "parquet" / "creators").mkdir(parents=True)
    (dataset / "_manifest.json").write_text(json.dumps({"generator": "synth-spark", "tables": {}}))
    (dataset / ".synth-spark-dataset").write_text("{}")
    return str(dataset / "parquet" / "creators")


# (id, arguments after "generate" given tmp_path (DATASET tmp_path/out unless they give one), text the one
# line must hold)
CASES = [
    (
        "scale-too-small-for-the-exodus",
        lambda t: ["--scale", "0.01"],
        ("anomalies.creator_exodus", "no top creators", "--scale"),
    ),
    (
        "no-top-creators-for-the-exodus",
        lambda t: [
            "--config",
            _yaml(
                t, "creators:\n  size_tiers:\n    top_creator: {share: 0}\n    established: {share: 0.4}\n"
            ),
        ],
        ("anomalies.creator_exodus", "no top creators"),
    ),
    ("scenarios-negative", lambda t: ["--scenarios", "-1"], ("--scenarios", "'-1'", "0 to 1,000")),
    (
        "difficulty-unknown",
        lambda t: ["--scenarios", "3", "--difficulty", "extreme"],
        ("--difficulty", "easy, medium, hard, mixed"),
    ),
    (
        "difficulty-the-scale-cannot-reach",
        lambda t: [
            *("--scale", "0.02", "--scenarios", "5", "--difficulty", "easy"),
            *("--set", "anomalies.creator_exodus.enabled=false"),
        ],
        ("scenarios.difficulty", "'easy' cannot be reached at scale 0.02", "--scale"),
    ),
    (
        "more-instances-than-fit",
        lambda t: ["--scale", "0.1", "--scenarios", "1000", "--difficulty", "hard"],
        ("scenarios.placed", "1000 instances do not fit", "fit at scale 0.1"),
    ),
    (
        "scenario-type-unknown",
        lambda t: [
            "--config",
            _yaml(
                t,
                "scenarios:\n  instances:\n    - {type: meteor, segment: {}, start: 2024-03-01, end: 2024-03-31, size: 0.5}\n",
            ),
        ],
        ("scenarios.instances.0", "'meteor' is not a scenario type"),
    ),
    (
        "scenario-segment-value-no-creator-has",
        lambda t: [
            "--config",
            _yaml(
                t,
                "scenarios:\n  instances:\n    - {type: churn_wave, segment: {country: [ZZ]}, start: 2024-03-01, end: 2024-03-31, size: 0.5}\n",
            ),
        ],
        ("scenarios.instances.0.segment.country", "matches no creator"),
    ),
    (
        "scenario-window-outside",
        lambda t: [
            "--config",
            _yaml(
                t,
                "scenarios:\n  instances:\n    - {type: churn_wave, segment: {}, start: 2025-03-01, end: 2025-03-31, size: 0.5}\n",
            ),
        ],
        ("scenarios.instances.0.start", "outside the window"),
    ),
    (
        "mix-shift-on-everyone",
        lambda t: [
            "--config",
            _yaml(
                t,
                "scenarios:\n  instances:\n    - {type: mix_shift, segment: {}, start: 2024-03-01, end: 2024-03-31, size: 0.5}\n",
            ),
        ],
        ("scenarios.instances.0.size", "more than 90% of the rest"),
    ),
    (
        "data-incident-not-asked-for",
        lambda t: [
            "--config",
            _yaml(
                t,
                "scenarios:\n  instances:\n    - {type: events_lost, segment: {}, start: 2024-03-05, end: 2024-03-05, size: 1.0}\n",
            ),
        ],
        ("scenarios", "instances.0.type", "events_lost is a data incident", "--data-incidents"),
    ),
    (
        "data-incident-segment-on-creators",
        lambda t: [
            "--data-incidents",
            "--config",
            _yaml(
                t,
                "scenarios:\n  instances:\n    - {type: events_lost, segment: {category: [games]}, start: 2024-03-05, end: 2024-03-05, size: 1.0}\n",
            ),
        ],
        ("events_lost cannot select on 'category'", "the whole platform"),
    ),
    (
        "data-incidents-in-a-snapshot",
        lambda t: ["--data-incidents", "--as-of", "2024-03-01"],
        ("--as-of", "a snapshot is the platform's own database", "data incidents"),
    ),
    ("scale-overflowing", lambda t: ["--scale", "4e305"], ("--scale", "up to 10,000")),
    ("scale-with-underscore", lambda t: ["--scale", "1_0"], ("--scale", "'1_0'", "not a number")),
    (
        "scale-in-file-too-large",
        lambda t: ["--config", _yaml(t, "scale: 1.0e+300\n")],
        ("scale", "less than or equal to 10000"),
    ),
    ("master-unknown", lambda t: ["--master", "moon://x"], ("--master", "'moon://x'", "local[*]")),
    ("master-zero-cores", lambda t: ["--master", "local[0]"], ("--master", "local[0]")),
    (
        "remote-not-spark-connect",
        lambda t: ["--remote", "http://host:15002"],
        ("--remote", "'http://host:15002'", "sc://HOST:PORT"),
    ),
    (
        "remote-and-master",
        lambda t: ["--remote", "sc://127.0.0.1:15002", "--master", "local[2]"],
        ("--remote", "--master local[2]", "give one"),
    ),
    (
        "remote-and-driver-memory",
        lambda t: ["--remote", "sc://127.0.0.1:15002", "--driver-memory", "8g"],
        ("--driver-memory", "--remote"),
    ),
    ("memory-no-unit", lambda t: ["--driver-memory", "8"], ("--driver-memory", "'8'", "512m or more")),
    ("memory-words", lambda t: ["--driver-memory", "lots"], ("--driver-memory", "'lots'")),
    ("memory-too-small", lambda t: ["--driver-memory", "100m"], ("--driver-memory", "'100m'")),
    ("partitions-absurd", lambda t: ["--partitions", "100000"], ("--partitions", "100000", "1 to 10,000")),
    (
        "partitions-more-than-creators",
        lambda t: ["--partitions", "600"],
        ("--partitions", "500 creators", "1 to 500"),
    ),
    ("seed-with-underscore", lambda t: ["--seed", "4_2"], ("--seed", "'4_2'")),
    (
        "seed-boolean-in-file",
        lambda t: ["--config", _yaml(t, "seed: true\n")],
        ("seed", "valid integer", "True"),
    ),
    (
        "integer-as-text-in-file",
        lambda t: ["--config", _yaml(t, "volumes:\n  creators: '500'\n")],
        ("volumes.creators", "'500'"),
    ),
    (
        "boolean-as-number",
        lambda t: ["--config", _yaml(t, "anomalies:\n  holiday_churn: {enabled: 1}\n")],
        ("anomalies.holiday_churn.enabled", "boolean"),
    ),
    (
        "boolean-as-word",
        lambda t: ["--config", _yaml(t, "anomalies:\n  holiday_churn: {enabled: 'yes'}\n")],
        ("anomalies.holiday_churn.enabled", "boolean"),
    ),
    (
        "duplicate-key",
        lambda t: ["--config", _yaml(t, "seed: 1\nscale: 1\nseed: 2\n")],
        ("--config", "duplicate key 'seed'", "line 3"),
    ),
    ("yaml-alias-bomb", lambda t: ["--config", _yaml(t, ALIAS_BOMB)], ("--config", "aliases", "100,000")),
    (
        "config-too-large",
        lambda t: ["--config", _yaml(t, "# padding\n" * 200_000)],
        ("--config", "bytes", "1,048,576"),
    ),
    ("config-empty-path", lambda t: ["--config", ""], ("--config", "empty path")),
    ("out-empty", lambda t: [""], ("DATASET", "empty path")),
    ("out-blank", lambda t: ["  "], ("DATASET",)),
    ("out-dangling-symlink", lambda t: [_symlink_to_nothing(t)], ("DATASET", "symbolic link to nothing")),
    ("out-inside-another-dataset", lambda t: [_inside_a_dataset(t)], ("DATASET", "is inside the dataset")),
    # issue 33: valid values given with --set reach the config (the run stops at --partitions, after it)
    ("set-seed", lambda t: ["--set", "seed=5", "--partitions", "600"], ("--partitions", "500 creators")),
    ("set-scale", lambda t: ["--set", "scale=0.01"], ("anomalies.creator_exodus", "no top creators")),
    ("set-seed-and-seed", lambda t: ["--seed", "3", "--set", "seed=4"], ("--seed", "seed=4", "give it once")),
    (
        "set-a-list-for-a-number",
        lambda t: ["--set", "seed=[1, 2]"],
        ("config: seed", "valid integer", "[1, 2]"),
    ),
    ("set-a-map-for-a-number", lambda t: ["--set", "scale={a: 1}"], ("config: scale", "valid number")),
    (
        "key-a-list-in-file",
        lambda t: ["--config", _yaml(t, "? [a, b]\n: 1\n")],
        ("--config", "line 1", "is a list"),
    ),
    (
        "key-a-map-in-file",
        lambda t: ["--config", _yaml(t, "volumes:\n  ? {a: 1}\n  : 1\n")],
        ("--config", "line 2", "is a mapping"),
    ),
    ("key-a-list-in-set", lambda t: ["--set", "volumes={[a]: 1}"], ("--set", "'volumes'", "is a list")),
    ("set-nested-deep", lambda t: ["--set", f"x={DEEP}"], ("--set", "nests more than 32 levels")),
    (
        "set-nested-past-the-stack",
        lambda t: ["--set", "seed=" + "- " * 60_000 + "1"],
        ("--set", "nests more than 32"),
    ),
    (
        "set-key-deep",
        lambda t: ["--set", ".".join(["a"] * 100) + "=1"],
        ("--set", "100 levels", "at most 32"),
    ),
    (
        "config-nested-deep",
        lambda t: ["--config", _yaml(t, f"x: {DEEP}\n")],
        ("--config", "nests more than 32"),
    ),
    ("scale-arabic-indic-digit", lambda t: ["--scale", "\u0663"], ("--scale", "not a number")),
    (
        "set-alias-bomb",
        lambda t: ["--set", f"volumes.creators={alias_bomb_value(10)}"],
        ("--set", "'volumes.creators'", "aliases", "100,000"),
    ),
    ("set-value-of-120-kB", lambda t: ["--set", "x=[" + "a" * 120_000], ("--set", "'x'", "not valid YAML")),
    ("master-of-120-kB", lambda t: ["--master", "a" * 120_000], ("--master", "120,002 characters")),
    ("layout-of-120-kB", lambda t: ["--layout", "a" * 120_000], ("--layout", "120,002 characters", "tasks")),
    (
        "set-no-such-day",
        lambda t: ["--set", "window.start=2024-02-30"],
        ("--set", "'window.start'", "2024-02-30", "day is out of range for month"),
    ),
    (
        "no-such-day-in-file",
        lambda t: ["--config", _yaml(t, "window:\n  start: 2024-02-30\n")],
        ("--config", "line 2", "day is out of range for month"),
    ),
    ("config-a-device", lambda t: ["--config", "/dev/zero"], ("--config", "'/dev/zero'", "a device")),
    ("config-a-folder", lambda t: ["--config", str(t)], ("--config", "a folder")),
    (
        "overwrite-a-manifest-too-deep",
        lambda t: [manifest_only(t / "old", text=DEEP_JSON), "--overwrite"],
        ("DATASET", "holds a _manifest.json that synth-spark did not write"),
    ),
]


@pytest.mark.parametrize(("args", "expected"), [pytest.param(a, e, id=i) for i, a, e in CASES])
def test_bad_input_is_one_line_exit_2_and_nothing_written(capsys, tmp_path, monkeypatch, args, expected):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)  # so that a run writing into the current folder would show
    given = args(tmp_path)
    if not given or given[0].startswith("--"):  # the cases that are not about the folder write to tmp/out
        given = [str(tmp_path / "out"), *given]
    before = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))

    code = main(["generate", *given])
    err = capsys.readouterr().err

    assert_refused(code, err, *expected)
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) == before
    assert not os.listdir(work)


def _a_file(tmp_path: Path) -> str:
    (tmp_path / "notes.txt").write_text("mine\n")
    return str(tmp_path / "notes.txt")


def _snapshot(tmp_path: Path, **fields) -> str:
    """A manifest as a Delta snapshot's (generate --as-of DAY --format delta), with ``fields`` changed."""
    return manifest_only(tmp_path / "snapshot", ("delta",), **{"as_of": "2024-03-01", **fields})


def _dataset(tmp_path: Path, **fields) -> str:
    return manifest_only(tmp_path / "dataset", **fields)


def _pledges_at(path: str):
    """A manifest whose Parquet pledges are at ``path`` (the others where generate puts them)."""
    from synth_spark.manifest import KNOWN_TABLES

    return {
        t: {"rows": 1, "checksum": "0" * 16, "paths": {"parquet": path if t == "pledges" else f"parquet/{t}"}}
        for t in KNOWN_TABLES
    }


# (id, the whole command line given tmp_path, text the one line must hold): the commands that read a dataset
COMMAND_CASES = [
    (
        "advance-manifest-without-window",
        lambda t: ["advance", _snapshot(t, window=None), "--to", "2024-03-03"],
        ("DATASET", "without its window"),
    ),
    (
        "advance-as-of-yesterday",
        lambda t: ["advance", _snapshot(t, as_of="yesterday"), "--to", "2024-03-03"],
        ("DATASET", "as_of 'yesterday'", "YYYY-MM-DD"),
    ),
    (
        "advance-as-of-outside-the-window",
        lambda t: ["advance", _snapshot(t, as_of="2031-01-01"), "--to", "2031-01-03"],
        ("DATASET", "as_of '2031-01-01'", "of its window"),
    ),
    (
        "advance-huge-partitions",
        lambda t: ["advance", _snapshot(t, partitions=10**12), "--to", "2024-03-03"],
        ("DATASET", "partitions 1000000000000", "1 to 10,000"),
    ),
    (
        "advance-formats-a-string",
        lambda t: ["advance", _snapshot(t, formats="delta"), "--to", "2024-03-03"],
        ("DATASET", "formats 'delta'", "a list of parquet, delta, csv"),
    ),
    (
        "advance-manifest-too-deep",
        lambda t: ["advance", _snapshot(t, text=DEEP_JSON), "--to", "2024-03-03"],
        ("DATASET", "nests too deeply"),
    ),
    ("advance-empty-path", lambda t: ["advance", "", "--to", "2024-03-03"], ("DATASET", "empty path")),
    (
        "validate-as-of-yesterday",
        lambda t: ["validate", _dataset(t, as_of="yesterday")],
        ("DATASET", "as_of 'yesterday'"),
    ),
    (
        "validate-huge-partitions",
        lambda t: ["validate", _dataset(t, partitions=10**12)],
        ("DATASET", "partitions", "10,000"),
    ),
    (
        "validate-config-a-list",
        lambda t: ["validate", _dataset(t, config=[1])],
        ("DATASET", "config [1]", "mapping"),
    ),
    (
        "validate-manifest-too-deep",
        lambda t: ["validate", _dataset(t, text=DEEP_JSON)],
        ("DATASET", "nests too deeply"),
    ),
    (
        "validate-report-a-file",
        lambda t: ["validate", _dataset(t), "--report", _a_file(t)],
        ("--report", "is a file", "give a folder"),
    ),  # a long path is quoted cut short
    ("validate-empty-path", lambda t: ["validate", ""], ("DATASET", "empty path")),
    (
        "check-as-of-yesterday",
        lambda t: ["check", _dataset(t, as_of="yesterday")],
        ("DATASET", "as_of 'yesterday'"),
    ),
    (
        "check-huge-partitions",
        lambda t: ["check", _dataset(t, partitions=10**12)],
        ("DATASET", "partitions", "10,000"),
    ),
    (
        "check-manifest-too-deep",
        lambda t: ["check", _dataset(t, text=DEEP_JSON)],
        ("DATASET", "nests too deeply"),
    ),
    (
        "check-a-path-outside",
        lambda t: ["check", _dataset(t, tables=_pledges_at("../elsewhere/pledges"))],
        ("DATASET", "'../elsewhere/pledges'", "allowed: parquet/pledges"),
    ),
    (
        "check-an-absolute-path",
        lambda t: ["check", _dataset(t, tables=_pledges_at(str(t / "elsewhere")))],
        ("DATASET", "for pledges (parquet)", "allowed: parquet/pledges"),
    ),
    (
        "check-work-dir-a-file",
        lambda t: ["check", _dataset(t), "--work-dir", _a_file(t)],
        ("--work-dir", "is a file"),
    ),
    (
        "check-work-dir-under-a-file",
        lambda t: ["check", _dataset(t), "--work-dir", _a_file(t) + "/dbt"],
        ("--work-dir", "is a file"),
    ),
    (
        "check-select-no-such-method",
        lambda t: ["check", _dataset(t), "--select", "nosuchmethod:thing"],
        ("--select", "'nosuchmethod'", "not a dbt selector method", "test_name"),
    ),
    (
        "check-select-nothing",
        lambda t: ["check", _dataset(t), "--select", "+"],
        ("--select", "'+'", "names no test"),
    ),
    ("check-empty-path", lambda t: ["check", ""], ("DATASET", "empty path")),
    (
        "verify-manifest-too-deep",
        lambda t: ["verify", _dataset(t, text=DEEP_JSON)],
        ("DATASET", "nests too deeply"),
    ),
    ("verify-empty-path", lambda t: ["verify", ""], ("DATASET", "empty path")),
]


@pytest.mark.parametrize(("args", "expected"), [pytest.param(a, e, id=i) for i, a, e in COMMAND_CASES])
def test_a_bad_dataset_or_option_of_a_reading_command_is_one_line_exit_2(
    capsys, tmp_path, monkeypatch, args, expected
):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)  # an empty path must not mean this folder
    manifest_only(work)  # ... which holds a dataset
    given = args(tmp_path)
    before = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))

    code = main(given)

    assert_refused(code, capsys.readouterr().err, *expected)
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) == before


#: runs the command line in a grandchild and prints its CPU seconds and peak RSS (KiB): a child
#: forked straight from this test process would report this process's own peak (Linux keeps the
#: larger of the two across fork and exec), hundreds of MB once a Spark test ran in the worker
MEASURED = (
    "import os, sys\n"
    "pid = os.fork()\n"
    "if pid == 0:\n"
    "    os.execv(sys.executable, [sys.executable, '-m', 'synth_spark.cli', *sys.argv[1:]])\n"
    "_, status, usage = os.wait4(pid, 0)\n"
    "print(usage.ru_utime + usage.ru_stime, usage.ru_maxrss)\n"
    "sys.exit(os.waitstatus_to_exitcode(status))\n"
)
#: the inputs built to cost time or memory, each run as a user runs it
COSTLY = [
    pytest.param(
        ["generate", "{out}", "--set", f"volumes.creators={alias_bomb_value(10)}"],
        "aliases",
        id="set-alias-bomb",
    ),
    pytest.param(["generate", "{out}", "--set", f"x={DEEP}"], "nests", id="set-nested-deep"),
    pytest.param(
        ["generate", "{out}", "--set", "x=[" + "a" * 120_000], "not valid YAML", id="set-value-of-120-kB"
    ),
    pytest.param(["verify", "{deep}"], "nests too deeply", id="verify-manifest-too-deep"),
]


def run_measured(tmp_path, argv):
    """Runs the command line as a user does; returns what it finished with and its CPU seconds and
    peak RSS in KiB."""
    done = subprocess.run(
        [sys.executable, "-c", MEASURED, *argv],
        capture_output=True,
        text=True,
        env={**os.environ, "SYNTH_SPARK_CACHE": str(tmp_path / "cache")},
    )
    cpu, rss_kb = done.stdout.split()[-2:]
    return done, float(cpu), int(rss_kb)


@pytest.mark.parametrize(("argv", "expected"), COSTLY)
def test_a_costly_input_is_refused_in_under_half_a_second_of_cpu_more_than_a_plain_one_and_200_mb(
    tmp_path, argv, expected
):
    deep = manifest_only(tmp_path / "deep", text=DEEP_JSON)
    argv = [a.format(out=tmp_path / "out", deep=deep) if a in ("{out}", "{deep}") else a for a in argv]
    # the cost of starting Python and the command line, on this machine at this moment: a shared
    # machine inflates CPU seconds too, so the costly input is measured against it, not a fixed figure
    _, plain_cpu, _ = run_measured(tmp_path, ["verify", str(tmp_path / "no-such-folder")])
    done, cpu, rss_kb = run_measured(tmp_path, argv)
    assert_refused(done.returncode, done.stderr, expected)
    assert cpu - plain_cpu < 0.5, f"{cpu:.2f} s of CPU, {plain_cpu:.2f} s for a plain refusal"
    assert rss_kb < 200 * 1024, f"{rss_kb / 1024:.0f} MB"
    assert not (tmp_path / "out").exists()
