"""The investigation questions of a run, as an analyst (or a tool under test) is handed them: the
question and the KPI it is about (by its name in the KPI cube), and nothing of the answer.

Each question has an id of its own (``Q1``, ``Q2`` ...), numbered in the order of the days they ask
from, ties broken by a draw of the seed: an id or a position says nothing of the instance behind it
(the ground truth lists the defaults, then the catalogue's instances, then the decoys, and an
anomaly id would tell which of those a question is). The ground truth maps each id to its instance.
"""

from __future__ import annotations

import numpy as np

from synth_spark.simulation import streams
from synth_spark.simulation.rng import uniform


#: the KPI each type's question asks about, by its name in the KPI cube (docs/kpis.md)
ASKED = {
    "viral_spike": "mrr",
    "payment_outage": "revenue",
    "holiday_churn": "voluntary_churn",
    "creator_exodus": "mrr",
    "category_collapse": "mrr",
    "competitor_launch": "new_pledges",
    "promotion": "new_pledges",
    "policy_change": "new_pledges",
    "churn_wave": "voluntary_churn",
    "posting_slump": "engagement_events",
    "payment_method_failure": "decline_rate",
    "card_reissue_wave": "card_expired_declines",
    "retry_degradation": "retry_recovery_rate",
    "mix_shift": "new_pledges_share",
    "events_lost": "engagement_events",
    "transactions_duplicated": "revenue",
    "amounts_in_cents": "revenue",
    "card_expiry_season": "card_expired_declines",
    "summer_engagement_dip": "engagement_events",
    "q4_acquisition_lift": "new_pledges",
    "organic_spurt": "new_pledges",
}


def question_ids(truth: list[dict], seed: int) -> dict[int, str]:
    """Each ground-truth row's question id, by anomaly id."""
    if not truth:
        return {}
    ids = np.asarray([row["anomaly_id"] for row in truth], dtype=np.int64)
    draw = uniform(seed, streams.SCENARIO_QUESTION_ORDER, ids)
    order = sorted(range(len(truth)), key=lambda i: (truth[i]["start_at"], float(draw[i])))
    return {int(ids[i]): f"Q{n}" for n, i in enumerate(order, start=1)}


def with_question_ids(truth: list[dict], seed: int) -> list[dict]:
    """The ground truth's rows, each with its question's id (the manifest and the truth file keep
    it; the anomalies table has no column for it: its rows are numbered by ``anomaly_id``)."""
    named = question_ids(truth, seed)
    return [{**row, "question_id": named[row["anomaly_id"]]} for row in truth]


def questions(truth: list[dict]) -> list[dict]:
    """One question per ground-truth row, in question-id order: its id, its text and the KPI it
    asks about. No day: the text says when, at the grain an analyst is told (a month, a quarter), and
    an exact first day would tell more than the question does."""
    out = [
        {
            "question_id": row["question_id"],
            "question": row["investigation_question"],
            "kpi": ASKED[row["anomaly_type"]],
        }
        for row in truth
    ]
    return sorted(out, key=lambda q: int(q["question_id"][1:]))
