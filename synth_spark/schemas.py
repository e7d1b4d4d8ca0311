"""The published tables: the seed's columns in the seed's order, their Spark types, and the closed
set of values of every status and type column (the single source for code, docs and dbt tests).
"""

from __future__ import annotations

from pyspark.sql.types import StructType

from .anomalies import ANOMALY_TYPES
from .billing import FAILURE_CODES
from .config import ACCESS_LEVELS, CATEGORIES, EVENT_TYPES, PAYMENT_METHODS, SIZE_TIERS
from .lifecycle import CHURN_REASONS, PLEDGE_STATUSES
from .posts import POST_TYPES

MONEY = "decimal(10,2)"

TABLES: dict[str, str] = {
    "creators": """creator_id bigint, creator_name string, email string, category string, subcategory string,
        country_code string, currency_code string, plan_type string, is_nsfw boolean, is_verified boolean,
        created_at timestamp, first_pledge_received_at timestamp, last_post_at timestamp, status string""",
    "patrons": f"""patron_id bigint, patron_name string, email string, country_code string, created_at timestamp,
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

#: the ground truth of the injected anomalies, published beside the seed's seven tables
GROUND_TRUTH = "anomalies"
GROUND_TRUTH_DDL = """anomaly_id int, anomaly_type string, start_at timestamp, end_at timestamp, creator_ids string,
    category string, metric string, expected_effect string, investigation_question string, expected_root_cause string"""
OUTPUT_TABLES = (*TABLE_ORDER, GROUND_TRUTH)

CREATOR_STATUSES = ("active", "inactive", "departed")
PATRON_STATUSES = ("active", "paused", "churned")
TRANSACTION_TYPES = ("payment", "retry")
TRANSACTION_STATUSES = ("succeeded", "failed")

#: every closed-set column and its allowed values (nulls allowed where the column is nullable)
CLOSED_SETS: dict[tuple[str, str], tuple[str, ...]] = {
    ("creators", "category"): CATEGORIES,
    ("creators", "status"): CREATOR_STATUSES,
    ("anomalies", "anomaly_type"): ANOMALY_TYPES,
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
#: size tiers are a latent property of the simulation, not a column of the seed's creators table
LATENT_SIZE_TIERS = SIZE_TIERS


def schema(table: str) -> StructType:
    ddl = GROUND_TRUTH_DDL if table == GROUND_TRUTH else TABLES[table]
    return StructType.fromDDL(" ".join(ddl.split()))


def columns(table: str) -> list[str]:
    return schema(table).fieldNames()
