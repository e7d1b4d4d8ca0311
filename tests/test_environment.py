"""When the machine fails, not the input: one line naming the cause, exit code 3, nothing left
half-written. An internal error is exit code 4 with its trace in a log file. Each case is a real
fresh process, as a user runs it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from .conftest import SMALL_SEED, unmount
from .helpers import CLI, run_cli

RUN = [
    "generate",
    "--scale",
    "0.05",
    "--seed",
    str(SMALL_SEED),
    "--partitions",
    "2",
    "--master",
    "local[2]",
    "--quiet",
]


def _one_line(done: subprocess.CompletedProcess, code: int, *expected: str) -> str:
    lines = [ln for ln in done.stderr.splitlines() if ln.startswith("synth-spark:")]
    assert done.returncode == code, done.stderr[-3000:]
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr[-3000:]
    assert all(part in lines[0] for part in expected), lines[0]
    return lines[0]


def test_no_java_is_one_line(tmp_path):
    bare = tmp_path / "bin"
    bare.mkdir()
    env = {"PATH": str(bare), "JAVA_HOME": ""}
    os.environ.get("JAVA_HOME") and env.pop("JAVA_HOME")
    done = subprocess.run(
        [*CLI, *RUN, str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in {**os.environ, **env}.items() if k != "JAVA_HOME"},
    )
    _one_line(done, 3, "Java 17 is needed", "no java on PATH")
    assert not (tmp_path / "out").exists()


def test_offline_without_the_delta_jar(tmp_path):
    """No cached jar list, an empty Ivy cache and no network: Delta fails in one line; a Parquet run
    needs no Delta jar at all and succeeds."""
    offline = {
        "SYNTH_SPARK_CACHE": str(tmp_path / "cache"),
        "PYSPARK_SUBMIT_ARGS": f"--conf spark.jars.ivy={tmp_path / 'ivy'} --driver-java-options "
        "'-Dhttps.proxyHost=127.0.0.1 -Dhttps.proxyPort=9 -Dhttp.proxyHost=127.0.0.1 "
        "-Dhttp.proxyPort=9' pyspark-shell",
    }
    done = run_cli(*RUN, "--format", "delta", str(tmp_path / "delta"), env=offline)
    _one_line(done, 3, "Delta Lake's jar io.delta:delta-spark", "leave delta out of --format")
    assert not (tmp_path / "delta").exists()
    done = run_cli(*RUN, "--format", "parquet", str(tmp_path / "parquet"), env=offline)
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.fixture
def tiny_disk(tmp_path):
    """A 256 KiB file system of its own (tmpfs; the tests run as root, as CI does)."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], capture_output=True, text=True
    )
    assert done.returncode == 0, f"cannot mount a tmpfs here: {done.stderr}"
    yield mount
    unmount(mount)


def test_disk_full_is_one_line_and_leaves_nothing(tiny_disk, tmp_path):
    done = run_cli(
        *RUN,
        "--format",
        "parquet",
        str(tiny_disk / "out"),
        env={"SYNTH_SPARK_CACHE": str(tmp_path / "cache")},
    )
    line = _one_line(done, 3, "the disk is full", "Spark's output is in")
    assert done.stderr.strip() == line  # Spark's Java traces went to its log, named in the line
    (log,) = (tmp_path / "cache" / "logs").glob("spark-*.log")
    assert str(log) in line and "No space left on device" in log.read_text()
    assert list(tiny_disk.iterdir()) == []


def test_a_run_that_ends_well_keeps_no_jvm_log(tmp_path):
    done = run_cli(
        *RUN, "--format", "parquet", str(tmp_path / "out"), env={"SYNTH_SPARK_CACHE": str(tmp_path / "cache")}
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr[-3000:]
    assert list((tmp_path / "cache" / "logs").glob("spark-*.log")) == []


def test_a_non_ascii_out_under_the_c_locale_lands_where_it_was_asked(tmp_path):
    out = tmp_path / "données-é"
    done = run_cli(*RUN, "--format", "csv", str(out), env={"LC_ALL": "C", "LANG": "C"})
    assert done.returncode == 0, done.stderr[-3000:]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["données-é"]
    assert (out / "csv" / "pledges.csv").is_file()


def test_an_internal_error_is_exit_4_with_the_trace_in_a_log(tmp_path, monkeypatch, capsys):
    import synth_spark.cli as cli

    def broken(args):
        raise ZeroDivisionError("a bug")

    monkeypatch.setenv("SYNTH_SPARK_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(cli, "run_verify", broken)
    code = cli.main(["verify", str(tmp_path)])
    err = capsys.readouterr().err.strip().splitlines()
    assert (
        code == 4
        and len(err) == 1
        and err[0].startswith("synth-spark: internal error: ZeroDivisionError: a bug")
    )
    (log,) = (tmp_path / "cache" / "logs").iterdir()
    assert "Traceback" in log.read_text() and str(log) in err[0]
    shutil.rmtree(tmp_path / "cache")


@pytest.mark.parametrize(
    "option",
    [["--driver-memory", "9999999t"], ["--spark-conf", "spark.driver.extraJavaOptions=-XX:MaxHeapSize=lots"]],
    ids=["heap-larger-than-the-machine", "malformed-jvm-option"],
)
def test_a_jvm_that_does_not_start_says_why_in_one_line(tmp_path, option):
    cache = tmp_path / "cache"
    done = run_cli(
        *RUN, "--format", "parquet", str(tmp_path / "out"), *option, env={"SYNTH_SPARK_CACHE": str(cache)}
    )
    line = _one_line(done, 3, "Spark's JVM did not start: ", "Spark's output is in")
    assert done.stderr.strip() == line  # nothing else: the JVM's own lines went to its log
    (log,) = (cache / "logs").glob("spark-*.log")
    reason = line.split("did not start: ", 1)[1].split("; Spark's output", 1)[0]
    assert str(log) in line and reason in log.read_text()
    assert reason.startswith(("Could not reserve enough space", "Invalid maximum heap size")), reason
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "command, extra",
    [
        ("validate", "validate"),
        ("check", "check"),
        ("generate", "spark"),
        ("changes", "spark"),
        ("advance", "spark"),
        ("verify", "spark"),
        ("validate", "spark"),
    ],
)
def test_a_command_whose_extra_is_missing_names_the_extra_and_does_nothing(
    command, extra, tmp_path, monkeypatch, capsys
):
    from synth_spark.cli import main
    from synth_spark.extras import EXTRAS

    # the extra as if one of its modules were not installed
    monkeypatch.setitem(EXTRAS, extra, (*EXTRAS[extra], "synth_spark_no_such_module"))
    dataset = tmp_path / "dataset"
    dataset.mkdir()
    argv = {
        "changes": ["changes", "--out", str(dataset), "--from", "2024-02-13", "--to", "2024-02-14"],
        "advance": ["advance", str(dataset), "--to", "2024-02-14"],
    }.get(command, [command, str(dataset)])
    assert main(argv) == 3
    err = capsys.readouterr().err.strip()
    assert err == (
        f"synth-spark: error: synth-spark {command} needs synth_spark_no_such_module, not installed here: "
        f"pip install 'synth-spark[{extra}]'"
    )
    assert list(dataset.iterdir()) == []


def test_a_failure_names_spark_output_only_when_spark_wrote_during_that_command(
    tmp_path, monkeypatch, capsys
):
    from synth_spark.cli import main
    from synth_spark.extras import EXTRAS
    from synth_spark.failures import JvmLog

    # a process that runs several commands keeps one JVM and one log: an earlier command's output is in it
    earlier = tmp_path / "spark-earlier.log"
    earlier.write_text("WARN what an earlier command's Spark said\n")
    monkeypatch.setattr(JvmLog, "path", earlier)
    monkeypatch.setitem(EXTRAS, "spark", (*EXTRAS["spark"], "synth_spark_no_such_module"))
    assert main(["verify", str(tmp_path)]) == 3
    assert "Spark's output" not in capsys.readouterr().err


def test_without_pyspark_generate_names_the_spark_extra_and_check_still_runs(small_dataset, tmp_path):
    """Where no pyspark can be imported (the wheel installed without its spark extra), every Spark
    command refuses in one line naming the extra, and check, which reads the files with DuckDB, runs."""
    no_pyspark = "import sys; sys.modules['pyspark'] = None; from synth_spark.cli import main; sys.exit(main(sys.argv[1:]))"
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-c", no_pyspark, "generate", str(out), "--scale", "0.05"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 3, done.stderr
    assert done.stderr.strip() == (
        "synth-spark: error: synth-spark generate needs pyspark, not installed here: "
        "pip install 'synth-spark[spark]'"
    )
    assert not out.exists()
    done = subprocess.run(
        [sys.executable, "-c", no_pyspark, "check", str(small_dataset), "--select", "source:synth.tiers"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "pyspark" not in done.stderr
