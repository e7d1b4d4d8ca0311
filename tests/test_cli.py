"""Bad input is refused before Spark starts: one line naming the option, exit code 2, nothing written."""

from __future__ import annotations

import subprocess
import sys

import pytest


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "synth_spark.cli", *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--scale", "-1"], "--scale"),
        (["--scale", "abc"], "--scale"),
        (["--scale", "0"], "--scale"),
        (["--partitions", "0"], "--partitions"),
        (["--format", "parquet,xml"], "--format"),
        (["--seed", "x"], "--seed"),
    ],
)
def test_bad_option_is_one_line_exit_2_and_writes_nothing(tmp_path, extra, expected):
    out = tmp_path / "out"
    done = run_cli("generate", "--out", str(out), *extra)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0] and "Traceback" not in done.stderr, done.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        ("colour: blue\n", "unknown key 'colour'"),
        ("churn:\n  pause_rate: 1.5\n", "churn.pause_rate"),
        ("creators:\n  categories: {podcasts: 0.5, video: 0.2}\n", "sum to 1"),
        ("tiers:\n  prices: {1: [2, 3], 2: [3, 9], 3: [20], 4: [75]}\n", "tier 1 prices"),
        ("window: {start: 2023-01-01, months: [1\n", "not valid YAML"),
    ],
)
def test_bad_config_is_one_line_exit_2(tmp_path, yaml_text, expected):
    conf = tmp_path / "bad.yaml"
    conf.write_text(yaml_text)
    done = run_cli("generate", "--out", str(tmp_path / "out"), "--conf", str(conf))
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and expected in done.stderr, done.stderr
    assert not (tmp_path / "out").exists()


def test_output_path_that_is_a_file_is_refused(tmp_path):
    target = tmp_path / "file.txt"
    target.write_text("x")
    done = run_cli("generate", "--out", str(target))
    assert done.returncode == 2 and "is a file" in done.stderr
    assert target.read_text() == "x"


def test_existing_dataset_needs_overwrite(tmp_path):
    (tmp_path / "_manifest.json").write_text("{}")
    done = run_cli("generate", "--out", str(tmp_path))
    assert done.returncode == 2 and "--overwrite" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["_manifest.json"]
