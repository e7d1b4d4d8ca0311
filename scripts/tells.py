"""What an analyst looking for signs of synthetic data checks first, measured on a generated dataset.

    python scripts/tells.py DATASET [DATASET ...]

DATASET is a folder ``synth-spark generate`` wrote (its ``parquet/`` tables are read with DuckDB).
Each line is one figure, one column per dataset, so two runs (before and after a change, or an
anomaly run and its control) read side by side. The queries are plain SQL an analyst would write
without the ground truth, except the viral cohort's, which needs to know who the viral creator is.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import duckdb

FIGURES: list[tuple[str, str]] = [
    (
        "charges in whole dollars (% of succeeded)",
        """select round(100 * avg(case when gross_amount_usd = floor(gross_amount_usd) then 1 else 0 end), 1)
           from transactions where transaction_status = 'succeeded'""",
    ),
    (
        "tier prices ending in .99 (%)",
        "select round(100 * avg(case when price_usd % 1 = 0.99 then 1 else 0 end), 1) from tiers",
    ),
    (
        "processing fees at a half cent rounded down",
        # the exact fee of the documented rule, in cents: a half cent is a tie; half up takes the higher
        """with f as (
             select processing_fee_usd * 100 as fee,
                    case when gross_amount_usd <= 3 then gross_amount_usd * 5 + 10
                         else gross_amount_usd * 2.9 + 30 end as exact
             from transactions where transaction_status = 'succeeded')
           select count(*) from f where exact % 1 = 0.5 and fee = floor(exact)""",
    ),
    (
        "payment_failed ends: distinct gaps after the last attempt",
        """with last as (
             select t.pledge_id, max(t.transaction_at) as at from transactions t group by 1)
           select count(distinct epoch(p.ended_at) - epoch(l.at))
           from pledges p join last l using (pledge_id) where p.churn_reason = 'payment_failed'""",
    ),
    (
        "payment_failed ends exactly 1 h after the last attempt (%)",
        """with last as (
             select t.pledge_id, max(t.transaction_at) as at from transactions t group by 1)
           select round(100 * avg(case when epoch(p.ended_at) - epoch(l.at) = 3600 then 1 else 0 end), 1)
           from pledges p join last l using (pledge_id) where p.churn_reason = 'payment_failed'""",
    ),
    (
        "retries in the schedule's 6-hour windows (%)",
        # a retry's id is its billing's first attempt's plus the retry's number (the id layout)
        """select round(100 * avg(case when (epoch(r.transaction_at) - epoch(f.transaction_at)) / 3600 % 24 < 6
                                       and floor((epoch(r.transaction_at) - epoch(f.transaction_at)) / 86400) in (1, 3, 5, 12)
                                  then 1 else 0 end), 1)
           from transactions r join transactions f on f.transaction_id = r.transaction_id - r.transaction_id % 8
           where r.transaction_type = 'retry'""",
    ),
    (
        "columns with a stamped second of the hour",
        # a second of the hour holding over 3x its expected rows, and 6 standard deviations above it
        """with t as (
             select 'pledges.ended_at' as k, epoch(ended_at)::bigint % 3600 as s from pledges where ended_at is not null
             union all select 'pledges.started_at', epoch(started_at)::bigint % 3600 from pledges
             union all select 'pledges.pause_started_at', epoch(pause_started_at)::bigint % 3600 from pledges
               where pause_started_at is not null
             union all select 'transactions.transaction_at', epoch(transaction_at)::bigint % 3600 from transactions
             union all select 'engagement_events.event_at', epoch(event_at)::bigint % 3600 from engagement_events
             union all select 'posts.published_at', epoch(published_at)::bigint % 3600 from posts
             union all select 'patrons.created_at', epoch(created_at)::bigint % 3600 from patrons),
           c as (select k, s, count(*) as n from t group by 1, 2),
           e as (select k, sum(n) / 3600.0 as e, max(n) as top from c group by 1)
           select coalesce(string_agg(k || ' (' || top || ' rows, ' || round(e, 1) || ' expected)', '; '), 'none')
           from e where e >= 1 and top > 3 * e and top > e + 6 * sqrt(e)""",
    ),
    (
        "engagement events: day 1-2 against the median day 3-27",
        """with d as (select day(event_at) as d, count(*) as n from engagement_events group by 1)
           select round((select avg(n) from d where d <= 2) / (select median(n) from d where d between 3 and 27), 2)""",
    ),
    (
        "voluntary cancellations: the 30th against the 1st",
        """with d as (select day(ended_at) as d, count(*) as n from pledges
                      where churn_reason = 'voluntary' group by 1)
           select round((select n from d where d = 30) / (select n from d where d = 1), 2)""",
    ),
    (
        "processing errors outside the outage (% of failed attempts)",
        """select round(100 * avg(case when failure_reason = 'processing_error' then 1 else 0 end), 1)
           from transactions where transaction_status = 'failed'
             and not exists (select 1 from outage o where transaction_at between o.start_at and o.end_at)""",
    ),
    (
        "processing errors (% of failed attempts)",
        """select round(100 * avg(case when failure_reason = 'processing_error' then 1 else 0 end), 1)
           from transactions where transaction_status = 'failed'""",
    ),
    (
        "viral cohort: accounts made within 1 h of pledging (%)",
        """select round(100 * avg(case when epoch(p.started_at) - epoch(a.created_at) < 3600 then 1 else 0 end), 1)
           from viral p join patrons a using (patron_id)""",
    ),
    (
        "other new pledges: accounts made within 1 h (%)",
        """select round(100 * avg(case when epoch(p.started_at) - epoch(a.created_at) < 3600 then 1 else 0 end), 1)
           from pledges p join patrons a using (patron_id) where p.is_first_pledge
             and p.pledge_id not in (select pledge_id from viral)""",
    ),
    (
        "viral cohort: gone within 60 days (%)",
        """select round(100 * avg(case when ended_at < started_at + interval 60 day then 1 else 0 end), 1) from viral""",
    ),
    (
        "other new pledges of the same months: gone within 60 days (%)",
        """select round(100 * avg(case when ended_at < started_at + interval 60 day then 1 else 0 end), 1) from pledges
           where date_trunc('month', started_at) in (select distinct date_trunc('month', started_at) from viral)
             and pledge_id not in (select pledge_id from viral)""",
    ),
    (
        "viral cohort: churned by the window's end (%)",
        "select round(100 * avg(case when ended_at is not null then 1 else 0 end), 1) from viral",
    ),
    (
        "the viral creator's other pledges of those months: churned (%)",
        """select round(100 * avg(case when ended_at is not null then 1 else 0 end), 1) from pledges
           where creator_id = (select any_value(creator_id) from viral)
             and date_trunc('month', started_at) in (select distinct date_trunc('month', started_at) from viral)
             and pledge_id not in (select pledge_id from viral)""",
    ),
    (
        "viral cohort on the entry tier (%)",
        """select round(100 * avg(case when t.tier_rank = 1 then 1 else 0 end), 1)
           from viral v join tiers t using (tier_id)""",
    ),
    (
        "the viral creator's other new pledges on the entry tier (%)",
        """select round(100 * avg(case when t.tier_rank = 1 then 1 else 0 end), 1)
           from pledges p join tiers t using (tier_id)
           where p.creator_id = (select any_value(creator_id) from viral)
             and p.pledge_id not in (select pledge_id from viral) and p.started_at >= '2023-01-01'""",
    ),
    (
        "other pledges of the same months: churned (%)",
        """select round(100 * avg(case when ended_at is not null then 1 else 0 end), 1) from pledges
           where date_trunc('month', started_at) in (select distinct date_trunc('month', started_at) from viral)
             and pledge_id not in (select pledge_id from viral)""",
    ),
]


def _views(con: duckdb.DuckDBPyConnection, folder: Path) -> None:
    for table in ("creators", "patrons", "tiers", "pledges", "transactions", "posts", "engagement_events"):
        con.execute(
            f"create or replace view {table} as select * from read_parquet('{folder}/parquet/{table}/**/*.parquet')"
        )
    truth = f"read_parquet('{folder}/parquet/anomalies/**/*.parquet')"
    con.execute(
        f"create or replace view outage as select * from {truth} where anomaly_type = 'payment_outage'"
    )
    # the pledges the viral creator gained during its spike (the ground truth names creator and days)
    con.execute(
        f"""create or replace view viral as select p.* from pledges p join {truth} a
            on a.anomaly_type = 'viral_spike' and p.creator_id = cast(a.creator_ids as bigint)
            and p.started_at between a.start_at and a.end_at"""
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("datasets", nargs="+", type=Path)
    args = ap.parse_args()
    columns = []
    for folder in args.datasets:
        con = duckdb.connect()
        _views(con, folder)
        values = []
        for _, sql in FIGURES:
            try:
                values.append(str(con.execute(sql).fetchone()[0]))
            except duckdb.Error as e:  # a run without a viral spike has no cohort to measure
                values.append(f"n/a ({type(e).__name__})")
        titles = [
            r[0] for r in con.execute("select title from posts using sample 5 rows (reservoir, 7)").fetchall()
        ]
        columns.append((values, titles))
    width = max(len(label) for label, _ in FIGURES)
    print(f"{'':{width}}  " + "  ".join(f"{d.name:>12}" for d in args.datasets))
    for i, (label, _) in enumerate(FIGURES):
        print(f"{label:{width}}  " + "  ".join(f"{c[0][i]:>12}" for c in columns))
    for folder, (_, titles) in zip(args.datasets, columns):
        print(f"\npost titles of {folder.name}:", *titles, sep="\n  ")


if __name__ == "__main__":
    main()
