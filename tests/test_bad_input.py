"""Every input is bounded and checked before any work: one line naming the field and what is
allowed, exit code 2, nothing written. The cases an SRE found crashing, hanging or accepted."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from synth_spark.cli import main

#: 9 levels of 9 aliases: 9**9 values once expanded, from a few hundred bytes
ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8))


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


# (id, arguments after "generate" given tmp_path (DATASET tmp_path/out unless they give one), text the one line must hold)
CASES = [
    ("scale-too-small-for-the-exodus", lambda t: ["--scale", "0.01"], ("anomalies.creator_exodus", "no top creators", "--scale")),
    ("no-top-creators-for-the-exodus", lambda t: ["--config", _yaml(t, "creators:\n  size_tiers:\n    top_creator: {share: 0}\n"
                                                                      "    established: {share: 0.4}\n")],
     ("anomalies.creator_exodus", "no top creators")),
    ("scale-overflowing", lambda t: ["--scale", "4e305"], ("--scale", "up to 10,000")),
    ("scale-with-underscore", lambda t: ["--scale", "1_0"], ("--scale", "'1_0'", "not a number")),
    ("scale-in-file-too-large", lambda t: ["--config", _yaml(t, "scale: 1.0e+300\n")], ("scale", "less than or equal to 10000")),
    ("master-unknown", lambda t: ["--master", "moon://x"], ("--master", "'moon://x'", "local[*]")),
    ("master-zero-cores", lambda t: ["--master", "local[0]"], ("--master", "local[0]")),
    ("remote-not-spark-connect", lambda t: ["--remote", "http://host:15002"], ("--remote", "'http://host:15002'", "sc://HOST:PORT")),
    ("remote-and-master", lambda t: ["--remote", "sc://127.0.0.1:15002", "--master", "local[2]"],
     ("--remote", "--master local[2]", "give one")),
    ("remote-and-driver-memory", lambda t: ["--remote", "sc://127.0.0.1:15002", "--driver-memory", "8g"],
     ("--driver-memory", "--remote")),
    ("memory-no-unit", lambda t: ["--driver-memory", "8"], ("--driver-memory", "'8'", "512m or more")),
    ("memory-words", lambda t: ["--driver-memory", "lots"], ("--driver-memory", "'lots'")),
    ("memory-too-small", lambda t: ["--driver-memory", "100m"], ("--driver-memory", "'100m'")),
    ("partitions-absurd", lambda t: ["--partitions", "100000"], ("--partitions", "100000", "1 to 10,000")),
    ("partitions-more-than-creators", lambda t: ["--partitions", "600"], ("--partitions", "500 creators", "1 to 500")),
    ("seed-with-underscore", lambda t: ["--seed", "4_2"], ("--seed", "'4_2'")),
    ("seed-boolean-in-file", lambda t: ["--config", _yaml(t, "seed: true\n")], ("seed", "valid integer", "True")),
    ("integer-as-text-in-file", lambda t: ["--config", _yaml(t, "volumes:\n  creators: '500'\n")], ("volumes.creators", "'500'")),
    ("boolean-as-number", lambda t: ["--config", _yaml(t, "anomalies:\n  holiday_churn: {enabled: 1}\n")],
     ("anomalies.holiday_churn.enabled", "boolean")),
    ("boolean-as-word", lambda t: ["--config", _yaml(t, "anomalies:\n  holiday_churn: {enabled: 'yes'}\n")],
     ("anomalies.holiday_churn.enabled", "boolean")),
    ("duplicate-key", lambda t: ["--config", _yaml(t, "seed: 1\nscale: 1\nseed: 2\n")],
     ("--config", "duplicate key 'seed'", "line 3")),
    ("yaml-alias-bomb", lambda t: ["--config", _yaml(t, ALIAS_BOMB)], ("--config", "aliases", "100,000")),
    ("config-too-large", lambda t: ["--config", _yaml(t, "# padding\n" * 200_000)], ("--config", "bytes", "1,048,576")),
    ("config-empty-path", lambda t: ["--config", ""], ("--config", "empty path")),
    ("out-empty", lambda t: [""], ("DATASET", "empty path")),
    ("out-blank", lambda t: ["  "], ("DATASET",)),
    ("out-dangling-symlink", lambda t: [_symlink_to_nothing(t)], ("DATASET", "symbolic link to nothing")),
    ("out-inside-another-dataset", lambda t: [_inside_a_dataset(t)], ("DATASET", "is inside the dataset")),
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

    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("synth-spark: error: ") and "Traceback" not in err, err
    assert all(part in lines[0] for part in expected), lines[0]
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) == before
    assert not os.listdir(work)
