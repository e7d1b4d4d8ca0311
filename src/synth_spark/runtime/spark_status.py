"""What a session's Spark runs now, from its status tracker: the live progress display's input."""

from __future__ import annotations

from pyspark.sql import SparkSession

from synth_spark.progress import Stage, StagePoll
from synth_spark.runtime.connect import is_connect


def running_stages(spark: SparkSession) -> StagePoll | None:
    """A function that lists the stages running now; None over Spark Connect, whose client has no
    status tracker (progress there is the step lines and the heartbeat alone)."""
    if is_connect(spark):
        return None
    tracker = spark.sparkContext.statusTracker()

    def poll() -> list[Stage]:
        stages = []
        for sid in tracker.getActiveStageIds():
            info = tracker.getStageInfo(sid)
            if info is not None and info.numTasks:
                stages.append(Stage(sid, info.numTasks, info.numCompletedTasks))
        return stages

    return poll
