"""Every random stream, named once. A draw is a pure function of (seed, stream name, keys)
(simulation.rng), so a stream's name is part of what the output is: renaming one changes every value
drawn from it (and the 1x seed-42 checksums). Two streams must never share a name, and code draws
only from the names registered here (tests/test_rng.py checks both).

Some draws derive sub-streams by suffix (``rng.normal``: ``.bm1``/``.bm2``; ``creators.stratified_normal``:
``.order``/``.within``); those suffixes are fixed in the functions that add them.
"""

from __future__ import annotations

# -- anomaly
ANOMALY_EXODUS_CLOSE = "anomaly.exodus_close"
ANOMALY_EXODUS_DAY = "anomaly.exodus_day"
ANOMALY_EXODUS_END = "anomaly.exodus_end"
ANOMALY_EXODUS_TIME = "anomaly.exodus_time"
ANOMALY_OUTAGE = "anomaly.outage"
ANOMALY_VIRAL = "anomaly.viral"
ANOMALY_VIRAL_ACCOUNT = "anomaly.viral_account"
ANOMALY_VIRAL_ENTRY = "anomaly.viral_entry"
ANOMALY_VIRAL_NEW = "anomaly.viral_new"
ANOMALY_VIRAL_TIME = "anomaly.viral_time"

# -- arrivals
ARRIVALS_N_Z = "arrivals.n_z"
ARRIVALS_NOISE = "arrivals.noise"
ARRIVALS_SHIFT = "arrivals.shift"

# -- bill
BILL_DAY = "bill.day"
BILL_TIME = "bill.time"

# -- churn
CHURN_EVENT = "churn.event"
CHURN_REASON = "churn.reason"
CHURN_TIME = "churn.time"

# -- creator
CREATOR_AGE = "creator.age"
CREATOR_ANNIVERSARY = "creator.anniversary"
CREATOR_AUDIENCE = "creator.audience"
CREATOR_CATEGORY = "creator.category"
CREATOR_COUNTRY = "creator.country"
CREATOR_EMAIL_DOMAIN = "creator.email_domain"
CREATOR_EMAIL_NUMBER = "creator.email_number"
CREATOR_EMAIL_STYLE = "creator.email_style"
CREATOR_FIRST = "creator.first"
CREATOR_GROWTH = "creator.growth"
CREATOR_JOIN_DAY = "creator.join_day"
CREATOR_JOIN_MONTH = "creator.join_month"
CREATOR_JOINS = "creator.joins"
CREATOR_LAST = "creator.last"
CREATOR_N_TIERS = "creator.n_tiers"
CREATOR_NAME_KIND = "creator.name_kind"
CREATOR_NAME_WORD = "creator.name_word"
CREATOR_NSFW = "creator.nsfw"
CREATOR_PLAN = "creator.plan"
CREATOR_POSTS = "creator.posts"
CREATOR_SIZE = "creator.size"
CREATOR_STRATUM = "creator.stratum"
CREATOR_SUBCATEGORY = "creator.subcategory"
CREATOR_VERIFIED = "creator.verified"

# -- engage
ENGAGE_COUNT = "engage.count"
ENGAGE_COUNT_Z = "engage.count_z"
ENGAGE_MONTH = "engage.month"
ENGAGE_SHARE = "engage.share"

# -- event
EVENT_POST = "event.post"
EVENT_TAIL = "event.tail"
EVENT_TIME = "event.time"
EVENT_TYPE = "event.type"

# -- patron
PATRON_CARD_FIX = "patron.card_fix"
PATRON_CARD_FIX_RETRY = "patron.card_fix_retry"
PATRON_CARD_MONTH = "patron.card_month"
PATRON_CARD_STALE = "patron.card_stale"
PATRON_CARD_YEAR = "patron.card_year"
PATRON_COUNTRY = "patron.country"
PATRON_EMAIL_DOMAIN = "patron.email_domain"
PATRON_EMAIL_NUMBER = "patron.email_number"
PATRON_EMAIL_STYLE = "patron.email_style"
PATRON_FIRST = "patron.first"
PATRON_LAG = "patron.lag"
PATRON_LAG_MINUTES = "patron.lag_minutes"
PATRON_LAST = "patron.last"
PATRON_METHOD = "patron.method"
PATRON_SAME_DAY = "patron.same_day"

# -- fx: exchange rates (simulation/fx.py)
FX_DAY = "fx.day"
FX_START = "fx.start"

# -- pause
PAUSE_EVENT = "pause.event"
PAUSE_RESUME = "pause.resume"
PAUSE_RESUME_TIME = "pause.resume_time"

# -- pay
PAY_FAIL = "pay.fail"
PAY_GRACE = "pay.grace"
PAY_REASON = "pay.reason"
PAY_RETRY = "pay.retry"
PAY_RETRY_DRIFT = "pay.retry_drift"
PAY_RETRY_TIME = "pay.retry_time"

# -- pledge
PLEDGE_PATRON = "pledge.patron"
PLEDGE_PROPENSITY = "pledge.propensity"
PLEDGE_START = "pledge.start"
PLEDGE_TIER = "pledge.tier"
RETURN_EVENT = "return.event"
RETURN_PATRON = "return.patron"

# -- post
POST_TITLE = "post.title"
POST_W1 = "post.w1"
POST_W2 = "post.w2"

# -- posts
POSTS_ACCESS = "posts.access"
POSTS_COUNT = "posts.count"
POSTS_COUNT_Z = "posts.count_z"
POSTS_DRIFT = "posts.drift"
POSTS_MIN_TIER = "posts.min_tier"
POSTS_PINNED = "posts.pinned"
POSTS_TIME = "posts.time"
POSTS_TYPE = "posts.type"

# -- scenario: the catalogue's instances (simulation/scenarios.py)
SCENARIO_DECLINE = "scenario.decline"
SCENARIO_INGESTION = "scenario.ingestion"
SCENARIO_LEVEL = "scenario.level"
SCENARIO_OVERLAP = "scenario.overlap"
SCENARIO_QUESTION_ORDER = "scenario.question_order"
SCENARIO_SEGMENT = "scenario.segment"
SCENARIO_TYPE = "scenario.type"
SCENARIO_WINDOW = "scenario.window"

# -- stock
STOCK_AGE = "stock.age"
STOCK_N = "stock.n"
STOCK_N_Z = "stock.n_z"

# -- tier
TIER_ADDED = "tier.added"
TIER_ADDED_AT = "tier.added_at"
TIER_ARCHIVED = "tier.archived"
TIER_ARCHIVED_AT = "tier.archived_at"
TIER_CHANGE = "tier.change"
TIER_DESCRIPTION = "tier.description"
TIER_DIRECTION = "tier.direction"
TIER_NAME = "tier.name"


def tier_price(rank: int) -> str:
    """The price point of each creator's pricing tier ``rank`` (1-4)."""
    return f"tier.price.{rank}"


#: every registered name (tier prices: ranks 1 to 4)
ALL = tuple(v for k, v in sorted(globals().items()) if k.isupper() and isinstance(v, str)) + tuple(
    tier_price(r) for r in (1, 2, 3, 4)
)

# -- rhythm: the local day and time of day of each kind of action (simulation/rhythm.py)
RHYTHM_CHURN_DAY = "rhythm.churn_day"
RHYTHM_CHURN_HOUR = "rhythm.churn_hour"
RHYTHM_CREATOR_JOIN_DAY = "rhythm.creator_join_day"
RHYTHM_CREATOR_JOIN_HOUR = "rhythm.creator_join_hour"
RHYTHM_CREATOR_ZONE = "rhythm.creator_zone"
RHYTHM_EVENT_DAY = "rhythm.event_day"
RHYTHM_EVENT_HOUR = "rhythm.event_hour"
RHYTHM_EXODUS_DAY = "rhythm.exodus_day"
RHYTHM_EXODUS_HOUR = "rhythm.exodus_hour"
RHYTHM_PATRON_ZONE = "rhythm.patron_zone"
RHYTHM_PLEDGE_DAY = "rhythm.pledge_day"
RHYTHM_PLEDGE_HOUR = "rhythm.pledge_hour"
RHYTHM_POST_DAY = "rhythm.post_day"
RHYTHM_POST_HOUR = "rhythm.post_hour"
RHYTHM_RESUME_DAY = "rhythm.resume_day"
RHYTHM_RESUME_HOUR = "rhythm.resume_hour"
RHYTHM_SIGNUP_DAY = "rhythm.signup_day"
RHYTHM_SIGNUP_HOUR = "rhythm.signup_hour"
