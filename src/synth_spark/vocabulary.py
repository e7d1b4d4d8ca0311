"""The words of the platform, in one place: the published tables and their columns, every closed
set of values, the time constants and how ids are built from their owners. Settings (how often,
how many) live in config; what a value may be lives here. No Spark here: numpy builds the ids.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# -- creators --------------------------------------------------------------------------------------
CATEGORIES = ("podcasts", "video", "visual_art", "education", "writing", "music", "games")
#: a creator's latent size: drives growth, volatility and churn; not a column of the creators table
SIZE_TIERS = ("emerging", "established", "top_creator")
#: the currencies creators' countries use (ISO 4217); amounts are recorded in US dollars
CURRENCIES = ("USD", "GBP", "CAD", "AUD", "EUR", "SEK", "PLN", "BRL", "MXN", "JPY", "INR")
#: a creator who left the platform is inactive: no running pledge, no recent post
CREATOR_STATUSES = ("active", "inactive")

# -- patrons and pledges ---------------------------------------------------------------------------
PATRON_STATUSES = ("active", "paused", "churned")
PLEDGE_STATUSES = ("active", "paused", "churned")
#: why a pledge ended. When a creator leaves the platform its patrons cancel over the following
#: weeks (voluntary) and the pledges still running when the page closes end as creator_removed.
CHURN_REASONS = ("voluntary", "payment_failed", "creator_removed")

# -- payments --------------------------------------------------------------------------------------
PAYMENT_METHODS = ("card", "paypal", "apple_pay", "google_pay")
TRANSACTION_TYPES = ("payment", "retry")
TRANSACTION_STATUSES = ("succeeded", "failed")
#: the decline reasons whose shares the config sets
FAILURE_REASONS = ("card_declined", "insufficient_funds", "processing_error")
#: every value of failure_reason, in the order of its code (0: none, the payment succeeded)
FAILURE_CODES = (None, *FAILURE_REASONS, "card_expired")

# -- content and engagement ------------------------------------------------------------------------
POST_TYPES = ("text", "image", "video", "audio", "poll", "link")
ACCESS_LEVELS = ("public", "patrons_only", "tier_locked")
EVENT_TYPES = ("view", "like", "comment", "share")

# -- the injected anomalies ------------------------------------------------------------------------
ANOMALY_TYPES = ("viral_spike", "payment_outage", "holiday_churn", "creator_exodus", "category_collapse")
#: the catalogue's other scenario types (simulation/scenarios.py), placed as instances on a segment
SCENARIO_TYPES = (
    "competitor_launch",
    "promotion",
    "policy_change",
    "churn_wave",
    "posting_slump",
    "payment_method_failure",
    "card_reissue_wave",
    "retry_degradation",
    "mix_shift",
)
#: the catalogue's data incidents: faults of the pipeline that copies the platform's rows into the
#: warehouse, not of the business; opt-in, as they break the data contract on purpose
DATA_INCIDENT_TYPES = ("events_lost", "transactions_duplicated", "amounts_in_cents")
#: labelled non-incidents the ground truth lists on request (simulation/decoys.py): what the model
#: does every year, and creators' organic spurts
DECOY_TYPES = ("card_expiry_season", "summer_engagement_dip", "q4_acquisition_lift", "organic_spurt")
#: what a scenario's segment can select on: a creator's own columns, then a paying patron's
CREATOR_DIMENSIONS = (
    "size",
    "category",
    "country",
    "currency",
    "plan_type",
    "nsfw",
    "verified",
    "creator_id",
)
PATRON_DIMENSIONS = ("payment_method", "patron_country")

# -- time ------------------------------------------------------------------------------------------
DAY = 86_400
#: "never" as an epoch second: far beyond any window, and safe to add a few days to
NEVER = (2**63 - 1) // 4


# -- ids: built from their owner, so they are the same whatever the partitioning -------------------
class IdOverflow(ValueError):
    """A counter outgrew its field of an id: the id would be another row's."""


@dataclass(frozen=True)
class IdLayout:
    """An id made of its owner's id and counters below it, ``owner * span + f1 * place1 + ...``.

    Each field holds the values ``0 .. size - 1`` and no more, so one owner's ids never reach the
    next owner's and two rows never share an id. What the config lets grow (the window's months,
    the retries of a billing) is bounded by these sizes where the config is checked."""

    column: str
    owner: str
    fields: tuple[tuple[str, int], ...]  # (name, size), most significant first

    @property
    def span(self) -> int:
        return math.prod(size for _, size in self.fields)

    def size(self, field: str) -> int:
        return dict(self.fields)[field]

    def formula(self) -> str:
        place, terms = self.span, [f"{self.owner} * {self.span:,}"]
        for name, size in self.fields:
            place //= size
            terms.append(name if place == 1 else f"{name} * {place:,}")
        return " + ".join(terms)

    def compose(self, owner, *values):
        """The ids of ``owner`` with ``values`` in the fields, refusing a value outside its field."""
        out = np.asarray(owner, dtype=np.int64) * self.span
        place = self.span
        for (name, size), value in zip(self.fields, values, strict=True):
            value = np.asarray(value, dtype=np.int64)
            if value.size and (value.min() < 0 or value.max() >= size):
                raise IdOverflow(
                    f"{self.column}: {name} {int(value.max()) if value.max() >= size else int(value.min())} "
                    f"is outside 0..{size - 1}; its ids would be another {self.owner}'s"
                )
            place //= size
            out = out + value * place
        return out


TIER_ID = IdLayout("tier_id", "creator_id", (("rank", 10),))
#: a creator's pledges count from 1; the viral spike's patrons are the largest block a creator uses
PLEDGE_ID = IdLayout("pledge_id", "creator_id", (("number", 1_000_000),))
#: counts the back catalogue's posts too (a creator publishes at most 30 a month)
POST_ID = IdLayout("post_id", "creator_id", (("number", 10_000),))
#: a billing's attempts share ``transaction_id // 8``: the month and attempt within the pledge
TRANSACTION_ID = IdLayout("transaction_id", "pledge_id", (("month", 125), ("attempt", 8)))
EVENT_ID = IdLayout("event_id", "pledge_id", (("month", 100), ("number", 100)))
ID_LAYOUTS = (TIER_ID, PLEDGE_ID, POST_ID, TRANSACTION_ID, EVENT_ID)

PLEDGES_PER_CREATOR = PLEDGE_ID.span
POSTS_PER_CREATOR = POST_ID.span
#: the longest window whose months every id's month field holds
MAX_WINDOW_MONTHS = min(TRANSACTION_ID.size("month"), EVENT_ID.size("month"))
#: the most retries after a billing's first attempt that its transaction ids hold
MAX_RETRIES = TRANSACTION_ID.size("attempt") - 1


def tier_id(creator_id, rank):
    return TIER_ID.compose(creator_id, rank)


def pledge_id(creator_id, number):
    """``number`` counts a creator's pledges from 1 (the plan refuses a viral spike that would
    outgrow a creator's block)."""
    return PLEDGE_ID.compose(creator_id, number)


def post_id(creator_id, number):
    return POST_ID.compose(creator_id, number)


def transaction_id(pledge, month, attempt):
    return TRANSACTION_ID.compose(pledge, month, attempt)


def event_id(pledge, month, number):
    return EVENT_ID.compose(pledge, month, number)


# -- text that is safe in a spreadsheet ------------------------------------------------------------
#: first characters a spreadsheet reads as a formula (CSV injection), plus tab and carriage return
UNSAFE_TEXT_START = ("=", "+", "-", "@", "\t", "\r")

# -- the published tables --------------------------------------------------------------------------
MONEY = "decimal(10,2)"
TABLES: dict[str, str] = {
    "creators": """creator_id bigint, creator_name string, email string, category string, subcategory string,
        country_code string, currency_code string, plan_type string, is_nsfw boolean, is_verified boolean,
        created_at timestamp, first_pledge_received_at timestamp, last_post_at timestamp, status string""",
    "patrons": """patron_id bigint, patron_name string, email string, country_code string, created_at timestamp,
        first_pledge_at timestamp, lifetime_spend_usd decimal(14,2), status string""",
    "tiers": f"""tier_id bigint, creator_id bigint, tier_name string, tier_rank int, price_usd {MONEY},
        description string, is_active boolean, created_at timestamp, archived_at timestamp""",
    "pledges": f"""pledge_id bigint, patron_id bigint, creator_id bigint, tier_id bigint, pledge_amount_usd {MONEY},
        pledge_status string, is_first_pledge boolean, started_at timestamp, ended_at timestamp,
        pause_started_at timestamp, churn_reason string""",
    "transactions": f"""transaction_id bigint, pledge_id bigint, patron_id bigint, creator_id bigint,
        transaction_type string, transaction_status string, gross_amount_usd {MONEY}, platform_fee_usd {MONEY},
        processing_fee_usd {MONEY}, net_amount_usd {MONEY}, payment_method string, failure_reason string,
        transaction_at timestamp""",
    "posts": """post_id bigint, creator_id bigint, title string, post_type string, access_level string,
        minimum_tier_id bigint, published_at timestamp, is_pinned boolean""",
    "engagement_events": """event_id bigint, patron_id bigint, creator_id bigint, post_id bigint, event_type string,
        event_at timestamp""",
}
TABLE_ORDER = tuple(TABLES)
#: the ground truth of the injected anomalies, published beside the platform's seven tables
GROUND_TRUTH = "anomalies"
GROUND_TRUTH_DDL = """anomaly_id int, anomaly_type string, family string, start_at timestamp, end_at timestamp,
    segment string, creator_ids string, category string, kpis string, metric string, expected_effect string,
    investigation_question string, expected_root_cause string, overlaps string, difficulty string"""
OUTPUT_TABLES = (*TABLE_ORDER, GROUND_TRUTH)
#: the columns that may hold nulls; every other column is always set (NOT NULL in catalog tables)
NULLABLE: dict[str, tuple[str, ...]] = {
    "creators": ("first_pledge_received_at", "last_post_at"),
    "patrons": (),
    "tiers": ("archived_at",),
    "pledges": ("ended_at", "pause_started_at", "churn_reason"),
    "transactions": ("failure_reason",),
    "posts": ("minimum_tier_id",),
    "engagement_events": (),
    GROUND_TRUTH: ("creator_ids", "category", "overlaps", "difficulty"),
}
#: each table's primary key
PRIMARY_KEYS = {
    "creators": "creator_id",
    "patrons": "patron_id",
    "tiers": "tier_id",
    "pledges": "pledge_id",
    "transactions": "transaction_id",
    "posts": "post_id",
    "engagement_events": "event_id",
    GROUND_TRUTH: "anomaly_id",
}
#: every column that names a row of another table: table -> column -> the table it references
REFERENCES: dict[str, dict[str, str]] = {
    "tiers": {"creator_id": "creators"},
    "pledges": {"patron_id": "patrons", "creator_id": "creators", "tier_id": "tiers"},
    "transactions": {"pledge_id": "pledges", "patron_id": "patrons", "creator_id": "creators"},
    "posts": {"creator_id": "creators", "minimum_tier_id": "tiers"},
    "engagement_events": {"patron_id": "patrons", "creator_id": "creators", "post_id": "posts"},
}
#: the time each row of the large tables happened at: what time-range queries filter on
EVENT_TIME = {
    "transactions": "transaction_at",
    "engagement_events": "event_at",
    "pledges": "started_at",
    "posts": "published_at",
}


def ddl(table: str) -> str:
    """A table's columns and types as one line of Spark DDL."""
    return " ".join((GROUND_TRUTH_DDL if table == GROUND_TRUTH else TABLES[table]).split())


def columns(table: str) -> list[str]:
    return [part.split()[0] for part in ddl(table).split(", ")]


def column_types(table: str) -> dict[str, str]:
    """Each column's Spark SQL type, in order."""
    return dict(part.split(" ", 1) for part in ddl(table).split(", "))


#: every closed-set column and its allowed values (nulls allowed where the column is nullable)
CLOSED_SETS: dict[tuple[str, str], tuple[str, ...]] = {
    ("creators", "category"): CATEGORIES,
    ("creators", "status"): CREATOR_STATUSES,
    ("anomalies", "anomaly_type"): (*ANOMALY_TYPES, *SCENARIO_TYPES, *DATA_INCIDENT_TYPES, *DECOY_TYPES),
    ("patrons", "status"): PATRON_STATUSES,
    ("pledges", "pledge_status"): PLEDGE_STATUSES,
    ("pledges", "churn_reason"): CHURN_REASONS,
    ("transactions", "transaction_type"): TRANSACTION_TYPES,
    ("transactions", "transaction_status"): TRANSACTION_STATUSES,
    ("transactions", "payment_method"): PAYMENT_METHODS,
    ("transactions", "failure_reason"): tuple(c for c in FAILURE_CODES if c),
    ("posts", "post_type"): POST_TYPES,
    ("posts", "access_level"): ACCESS_LEVELS,
    ("engagement_events", "event_type"): EVENT_TYPES,
}
