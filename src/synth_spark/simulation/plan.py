"""The plan of a run, made once on the driver from the config: every creator and its parameters,
the tiers, the population constants and the resolved anomalies (departures included), and the
ground truth. Frozen: nothing downstream changes it, executors receive parts of it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from synth_spark.config import Config, ConfigError
from synth_spark.simulation.anomalies import NO_ANOMALIES, AnomalyPlan, resolve
from synth_spark.simulation.calendar import Calendar
from synth_spark.simulation.churn import population_normaliser, survival
from synth_spark.simulation.creators import PLAN_COLUMNS, draw_creators, draw_tiers
from synth_spark.simulation.ground_truth import ground_truth
from synth_spark.simulation.growth import expected_pledge_months, expected_pledges, patron_pool
from synth_spark.simulation.questions import questions, with_question_ids
from synth_spark.simulation.scenario_truth import broken_on_purpose
from synth_spark.simulation.workload import creator_work

#: the largest share of the patron pool the viral wave's new accounts may take
MAX_WAVE_ACCOUNTS = 0.25


@dataclass(frozen=True)
class RunConstants:
    """What every executor needs besides its creators: small, pickled once per task."""

    cfg: Config
    pool: int
    churn_norm: float = 1.0
    anomalies: AnomalyPlan = NO_ANOMALIES

    @classmethod
    def plan(cls, cfg: Config, cal: Calendar, creators: dict[str, np.ndarray]) -> "RunConstants":
        """The population-level constants, computed once on the driver from all creators."""
        norm = population_normaliser(cfg, creators, expected_pledge_months(cal, creators))
        pool = patron_pool(cfg.n_patrons, expected_pledges(cfg, cal, creators, norm))
        anomalies = resolve(cfg, cal, creators, norm)
        if anomalies.viral_accounts > pool * MAX_WAVE_ACCOUNTS:
            # ordinary pledges redraw a patron that is one of the wave's accounts: with too many of
            # them, redraws run out and pledges are dropped
            most = int(pool * MAX_WAVE_ACCOUNTS / cfg.anomalies.viral_spike.new_accounts / cfg.scale)
            raise ValueError(
                f"anomalies.viral_spike.new_patrons: the wave's {anomalies.viral_accounts:,} new accounts "
                f"would be over a quarter of the {pool:,} patrons of the run; give at most {most:,} "
                "(at scale 1) or a lower new_accounts"
            )
        return cls(cfg, pool, norm, anomalies)

    @property
    def cal(self) -> Calendar:
        return Calendar(self.cfg.window)


def _frozen(columns: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    for array in columns.values():
        array.setflags(write=False)
    return columns


@dataclass(frozen=True)
class Plan:
    constants: RunConstants
    #: every creator's identity columns and simulation parameters, ``departed_t`` included
    creators: dict[str, np.ndarray]
    tiers: dict[str, np.ndarray]
    #: one record per enabled anomaly: what a root-cause tool should find
    truth: tuple[dict, ...]
    #: the ground truth is written apart from the dataset (generate --truth-out): the dataset's
    #: anomalies table is empty and its manifest holds the questions only
    truth_apart: bool = False

    @classmethod
    def make(cls, cfg: Config) -> "Plan":
        cal = Calendar(cfg.window)
        creators = draw_creators(cfg, cal)
        tiers = draw_tiers(cfg, creators)
        job = RunConstants.plan(cfg, cal, creators)
        # a creator that never leaves departs "after the window": one comparison serves both
        creators["departed_t"] = np.minimum(job.anomalies.departure_of(creators["creator_id"]), cal.end + 1)
        return cls(
            job,
            _frozen(creators),
            _frozen(tiers),
            tuple(
                with_question_ids(ground_truth(cfg, cal, job.anomalies, creators, job.churn_norm), cfg.seed)
            ),
        )

    @property
    def cfg(self) -> Config:
        return self.constants.cfg

    @property
    def cal(self) -> Calendar:
        return self.constants.cal

    def kept_apart(self) -> "Plan":
        """The same run with its ground truth written apart from the dataset."""
        return dataclasses.replace(self, truth_apart=True)

    @property
    def published_truth(self) -> tuple[dict, ...]:
        """The ground truth the dataset itself holds: none when it is kept apart."""
        return () if self.truth_apart else self.truth

    @property
    def data_incidents(self) -> list[dict]:
        """The run's data incidents with the checks each is aimed at (its manifest lists them,
        unless the truth is kept apart: a list of them would be an answer)."""
        return broken_on_purpose(list(self.published_truth))

    @property
    def questions(self) -> list[dict]:
        """The investigation questions of the run, without their answers (simulation/questions.py)."""
        return questions(list(self.truth))

    def expected_work(self) -> np.ndarray:
        """Each creator's expected pledge-months (:func:`creator_work`), the viral creator's extra
        patrons included: they grow with the scale (500 per unit), and at 1000x left out they made
        the creator's task about 7 times the others' while the plan called it average."""
        work = creator_work(self.cal, self.creators)
        a = self.constants.anomalies
        if a.viral_patrons:
            stay = survival(self.cfg)[: max(self.cal.months - a.viral_month, 0)].sum()
            work[self.creators["creator_id"] == a.viral_creator] += a.viral_patrons * stay
        return work

    def simulation_columns(self) -> dict[str, np.ndarray]:
        """The creator columns the simulation kernels read (what the executors receive)."""
        return {k: self.creators[k] for k in PLAN_COLUMNS}


def refuse_unplannable(cfg: Config) -> None:
    """Draw the creators and resolve the anomalies (numpy only, a fraction of a second at 100x) so
    that settings the plan cannot honour (an anomaly with no creator to act on, a viral wave whose
    new accounts would crowd out the pool) are refused as bad input before any work."""
    cal = Calendar(cfg.window)
    try:
        RunConstants.plan(cfg, cal, draw_creators(cfg, cal))
    except ValueError as err:
        raise ConfigError(str(err)) from None
