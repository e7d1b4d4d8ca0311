"""Long runs show where they are: a live display of Spark's stages on a terminal, and elsewhere a
line at least every heartbeat while Spark works, with its tasks done of all."""

from __future__ import annotations

import re
import shutil
import subprocess
import time

import pytest

from synth_spark.progress import Progress, stop_watching
from synth_spark.runtime.spark_status import running_stages

from .helpers import CLI

#: what a terminal's control sequences (colours, cursor moves) look like
ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _slow_job(spark, tasks: int, seconds: float) -> None:
    spark.range(tasks, numPartitions=tasks).rdd.map(lambda x: (time.sleep(seconds), x)[1]).count()


def test_off_a_terminal_a_watched_run_says_what_spark_does_at_every_heartbeat(spark, capsys):
    progress = Progress(heartbeat=1.0)
    progress.watch(running_stages(spark))
    try:
        progress("writing pledges")
        with progress.doing("pledges"):
            _slow_job(spark, tasks=6, seconds=1.5)  # two cores: about 4.5 s, in three waves
    finally:
        stop_watching()
    lines = capsys.readouterr().err.splitlines()
    beats = [line for line in lines if "..." in line]
    assert beats, lines
    assert all(
        re.search(r"\] {3}\.\.\. pledges: (\d+ of 6 Spark tasks done in 1 stage|still at work)", b)
        for b in beats
    ), beats
    assert any(re.search(r"[1-5] of 6 Spark tasks done in 1 stage, about \d+s left", b) for b in beats), beats
    stamps = [float(line[1:8]) for line in lines]
    assert max(b - a for a, b in zip(stamps, stamps[1:])) < 2.5  # never silent for long


def test_a_quiet_run_says_nothing_however_long_spark_works(spark, capsys):
    progress = Progress(quiet=True, heartbeat=0.5)
    progress.watch(running_stages(spark))
    _slow_job(spark, tasks=2, seconds=1.5)
    stop_watching()
    assert capsys.readouterr().err == ""


@pytest.mark.skipif(shutil.which("script") is None, reason="util-linux's script gives the run a terminal")
def test_on_a_terminal_generate_draws_each_stage_as_a_bar_then_leaves_the_terminal_to_its_result(tmp_path):
    """The run on a pseudo-terminal (``script``), as a user at a shell sees it."""
    command = " ".join([*CLI, "generate", str(tmp_path / "out"), "--scale", "0.02", "--format", "parquet"])
    log = tmp_path / "terminal.log"
    done = subprocess.run(
        ["script", "-q", "-e", "-c", command, str(log)], capture_output=True, timeout=600, cwd=tmp_path
    )
    assert done.returncode == 0, log.read_text(errors="replace")[-3000:]
    screen = ESCAPES.sub("", log.read_text(errors="replace"))
    bars = [line for line in re.split(r"[\r\n]", screen) if re.search(r"\d+/\d+ tasks", line)]
    assert any("pledges" in bar and "(stage " in bar and "left" in bar for bar in bars), bars[:5]
    # the display is gone before the result: its lines follow the last bar, each whole
    result = screen[screen.rindex("synth-spark: wrote parquet") :]
    assert "tasks" not in result and re.search(r"\n  pledges +[\d,]+ rows  checksum [0-9a-f]{16}", result)
