"""A dataset's Parquet tables copied and broken on purpose, one row per data-quality rule, each where
no other rule sees it: what the check tests and the documented check pages use to show every rule
bites."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from synth_spark.vocabulary import OUTPUT_TABLES


class BrokenCopy:
    """A copy of a dataset's Parquet tables (links to the originals until a table is rewritten)."""

    def __init__(self, src: Path, dst: Path):
        self.src, self.dst = src, dst
        (dst / "parquet").mkdir(parents=True)
        shutil.copy(src / "_manifest.json", dst / "_manifest.json")
        for table in OUTPUT_TABLES:
            (dst / "parquet" / table).symlink_to(src / "parquet" / table, target_is_directory=True)
        self.frames: dict[str, pd.DataFrame] = {}
        self.schemas: dict[str, pa.Schema] = {}

    def __getitem__(self, table: str) -> pd.DataFrame:
        if table not in self.frames:
            arrow = pq.read_table(self.src / "parquet" / table)
            self.schemas[table] = arrow.schema
            self.frames[table] = arrow.to_pandas().sort_values(arrow.schema.names[0], ignore_index=True)
        return self.frames[table]

    def write(self) -> Path:
        for table, df in self.frames.items():
            folder = self.dst / "parquet" / table
            folder.unlink()
            folder.mkdir()
            pq.write_table(
                pa.Table.from_pandas(df, schema=self.schemas[table], preserve_index=False),
                folder / "part-00000.parquet",
            )
        return self.dst


def _pick(rows: pd.DataFrame, taken: set) -> int:
    """Index of the first row not already corrupted."""
    free = rows.index.difference(list(taken))
    assert len(free), "no row fits this corruption"
    taken.add(free[0])
    return free[0]


def break_everything(copy: BrokenCopy) -> dict[str, str]:
    """Corrupt one row per rule, each where no other rule sees it; return the dbt tests that must
    fail, with what was broken."""
    hour, day = pd.Timedelta(hours=1), pd.Timedelta(days=1)
    window_end = pd.Timestamp("2025-01-01", tz="UTC")
    pl, tr, ev = copy["pledges"], copy["transactions"], copy["engagement_events"]
    po, pa_, cr = copy["posts"], copy["patrons"], copy["creators"]
    used_tr, used_pl, used_po = set(), set(), set()
    expect = {}

    # orphan foreign key: a transaction of a pledge that does not exist
    i = _pick(tr, used_tr)
    tr.loc[i, "pledge_id"] = 999_999_999_999
    expect["transactions__pledge_id__fk_pledges"] = "transaction of a missing pledge"
    expect["transactions__pledge_patron_creator__match_pledge"] = "(same row: no pledge to match)"

    # a date past the window's end: a charge of a running pledge on the day after the window
    running = pl.loc[pl.ended_at.isna() & pl.pause_started_at.isna(), "pledge_id"]
    i = _pick(tr[tr.pledge_id.isin(running)], used_tr)
    tr.loc[i, "transaction_at"] = window_end + day
    expect["transactions__transaction_at__before_window_end"] = "transaction after the window's end"

    # a negative amount, on a declined attempt (no fees, not in anyone's spend)
    i = _pick(tr[tr.transaction_status == "failed"], used_tr)
    tr.loc[i, "gross_amount_usd"] = -tr.loc[i, "gross_amount_usd"]
    expect["transactions__gross_amount_usd__positive"] = "negative gross amount"
    expect["transactions__gross_amount_usd__is_a_tier_price"] = "(same row: no tier costs a negative price)"

    # a converted amount that disagrees with its rate: a declined charge of a creator who prices in
    # euros, recorded a cent above its tier's price at the day's rate (declined: no fees, no spend)
    euro = cr.loc[cr.currency_code == "EUR", "creator_id"]
    i = _pick(tr[(tr.transaction_status == "failed") & tr.creator_id.isin(euro)], used_tr)
    tr.loc[i, "gross_amount_usd"] += Decimal("0.01")
    expect["transactions__gross_amount_usd__is_a_tier_price"] = (
        "negative gross amount; a euro charge a cent off its tier's price at the day's rate"
    )

    # fees and net inconsistent with gross
    i = _pick(tr[tr.transaction_status == "succeeded"], used_tr)
    tr.loc[i, "net_amount_usd"] += Decimal("0.01")
    expect["transactions__net_amount_usd__gross_minus_fees"] = "net != gross - fees"

    # a fee rounded down: a cent off the processing fee, onto the payout (net = gross - fees holds)
    i = _pick(tr[tr.transaction_status == "succeeded"], used_tr)
    tr.loc[i, "processing_fee_usd"] -= Decimal("0.01")
    tr.loc[i, "net_amount_usd"] += Decimal("0.01")
    expect["transactions__fees__rounded_half_up"] = "processing fee a cent below its rule"

    # a retry an hour after its pledge ended: billing ends with the pledge
    ended = pl.loc[pl.ended_at < window_end - 30 * day, ["pledge_id", "ended_at"]]
    i = _pick(tr[tr.pledge_id.isin(ended.pledge_id) & (tr.transaction_type == "retry")], used_tr)
    tr.loc[i, "transaction_at"] = ended.set_index("pledge_id").ended_at[tr.loc[i, "pledge_id"]] + hour
    expect["transactions__transaction_at__within_pledge_life"] = "retry an hour after its pledge ended"

    # an unknown status, on an active pledge of a patron with another active pledge
    active = pl[pl.pledge_status == "active"]
    i = _pick(active[active.patron_id.duplicated(keep=False)], used_pl)
    pl.loc[i, "pledge_status"] = "frozen"
    expect["pledges__pledge_status__accepted_values"] = "pledge_status 'frozen'"

    # out of order: a pledge that ends before it starts (one without engagement, charged in its first
    # days only)
    last_charge = tr.groupby("pledge_id").transaction_at.max()
    quiet = pl[
        pl.ended_at.notna()
        & pl.pause_started_at.isna()
        & ~pl.pledge_id.isin(_pledge_ids_of(ev, pl))
        & (pl.pledge_id.map(last_charge) < pl.started_at + 10 * day)
    ]
    i = _pick(quiet, used_pl)
    pl.loc[i, "ended_at"] = pl.loc[i, "started_at"] - hour
    expect["pledges__started_at__not_after_ended_at"] = "pledge ended an hour before it started"

    # a comeback that starts an hour before the patron's earlier pledge to that creator ended
    pair = pl[pl.duplicated(["patron_id", "creator_id"], keep=False) & ~pl.index.isin(list(used_pl))]
    pair = pair.sort_values("started_at")
    later = pair[pair.duplicated(["patron_id", "creator_id"], keep="first")].iloc[0]
    earlier = pair[(pair.patron_id == later.patron_id) & (pair.creator_id == later.creator_id)].iloc[0]
    i = later.name
    used_pl.update({i, earlier.name})
    pl.loc[i, "started_at"] = earlier.ended_at - hour
    expect["pledges__patron_id_creator_id__one_at_a_time"] = "a comeback while the earlier pledge still ran"

    # engagement after the patron's pledge to that creator ended
    churned = pl.loc[
        (pl.ended_at < window_end - day) & ~pl.index.isin(list(used_pl)),
        ["patron_id", "creator_id", "ended_at"],
    ]
    on_churned = ev.reset_index().merge(churned, on=["patron_id", "creator_id"]).set_index("index")
    i = on_churned.index[0]
    ev.loc[i, "event_at"] = on_churned.loc[i, "ended_at"] + hour
    expect["engagement_events__event_at__while_pledge_active"] = "event an hour after the pledge ended"

    # a duplicate primary key
    i = _pick(po, used_po)
    copy.frames["posts"] = po = pd.concat([po, po.loc[[i]]], ignore_index=True)
    expect["posts__post_id__unique"] = "post row twice"

    # an orphan nullable foreign key: a tier-locked post whose minimum tier does not exist
    i = _pick(po[po.access_level == "tier_locked"], used_po)
    po.loc[i, "minimum_tier_id"] = 999_999_999
    expect["posts__minimum_tier_id__fk_tiers"] = "post's minimum tier missing"
    expect["posts__minimum_tier_id__tier_of_same_creator"] = "(same row: no such tier of its creator)"

    # a post before its creator existed (the creator's first post of several, so last_post_at holds)
    firsts = (
        po[po.creator_id.duplicated(keep=False)].sort_values("published_at").drop_duplicates("creator_id")
    )
    i = _pick(firsts[~firsts.creator_id.isin(po.loc[list(used_po), "creator_id"])], used_po)
    created = cr.set_index("creator_id").created_at[po.loc[i, "creator_id"]]
    po.loc[i, "published_at"] = created - day
    expect["posts__published_at__after_creator_created"] = (
        "post published the day before its creator was created"
    )

    # rule 3: a patron's first_pledge_at an hour after the patron's earliest pledge
    pa_.loc[0, "first_pledge_at"] += hour
    expect["patrons__first_pledge_at__is_earliest_pledge"] = "first_pledge_at later than the earliest pledge"

    # lifetime spend that forgets a month paid before the window (a patron whose pledge began before it)
    window_start = pd.Timestamp("2023-01-01", tz="UTC")
    early = pl.loc[
        pl.started_at < window_start - 40 * day, ["patron_id", "pledge_amount_usd"]
    ].drop_duplicates("patron_id")
    i = pa_.index[pa_.patron_id.isin(early.patron_id) & (pa_.index != 0)][0]
    pa_.loc[i, "lifetime_spend_usd"] -= early.set_index("patron_id").pledge_amount_usd[
        pa_.loc[i, "patron_id"]
    ]
    expect["patrons__lifetime_spend_usd__matches_transactions"] = "a month paid before the window left out"

    # a tier taken off sale without saying when
    ti = copy["tiers"]
    i = ti.index[ti.is_active][0]
    ti.loc[i, "is_active"] = False
    expect["tiers__is_active__unless_archived"] = "inactive tier with no archived_at"

    # rule 4: a creator's first_pledge_received_at an hour after the earliest pledge
    i = cr.index[cr.first_pledge_received_at.notna()][0]
    cr.loc[i, "first_pledge_received_at"] += hour
    expect["creators__first_pledge_received_at__is_earliest_pledge"] = (
        "first_pledge_received_at later than the earliest pledge"
    )
    return expect


def _pledge_ids_of(events: pd.DataFrame, pledges: pd.DataFrame) -> pd.Series:
    """Pledges whose patron engaged with their creator (any of the pair's pledges, one at a time)."""
    return (
        events[["patron_id", "creator_id"]]
        .drop_duplicates()
        .merge(pledges, on=["patron_id", "creator_id"])
        .pledge_id
    )
