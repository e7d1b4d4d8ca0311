"""A simulated world built with the simulation's kernels alone (no Spark): the creators, their
posts, pledges, lifecycle and events at a scale and seed, shared by the kernel tests."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from synth_spark.config import Config, load_config
from synth_spark.job.emitters import RunConstants
from synth_spark.simulation import arrivals, growth, lifecycle
from synth_spark.simulation.calendar import Calendar
from synth_spark.simulation.creators import PLAN_COLUMNS, draw_creators
from synth_spark.simulation.engagement import draw_events
from synth_spark.simulation.posts import draw_posts, monthly_post_counts, window_post_counts


@dataclass(frozen=True)
class World:
    cfg: Config
    cal: Calendar
    creators: dict
    plan: dict
    pool: int
    counts: np.ndarray
    posts: dict
    arrivals: dict
    life: lifecycle.Lifecycle
    events: dict

    @property
    def constants(self) -> RunConstants:
        return RunConstants.plan(self.cfg, self.cal, self.creators)


@lru_cache(maxsize=None)
def world(scale: float, seed: int) -> World:
    cfg = load_config(scale=scale, seed=seed)
    cal = Calendar(cfg.window)
    creators = draw_creators(cfg, cal)
    plan = {k: creators[k] for k in PLAN_COLUMNS}
    pool = growth.patron_pool(cfg.n_patrons, growth.expected_pledges(cfg, cal, creators))
    counts = monthly_post_counts(cfg, cal, plan)
    posts = draw_posts(cfg, cal, plan, counts)
    life = lifecycle.simulate(cfg, cal, plan, posts, window_post_counts(counts), pool)
    return World(
        cfg,
        cal,
        creators,
        plan,
        pool,
        counts,
        posts,
        arrivals.draw_arrivals(cfg, cal, plan, pool),
        life,
        draw_events(cfg, cal, posts, life),
    )
