"""What each published table and column means, in one sentence, for the validate report and the
comments of catalog tables. Kept equal to docs/data-dictionary.md by hand: change both together."""

from __future__ import annotations

from synth_spark.vocabulary import EVENT_ID, TRANSACTION_ID

#: what one row of each table is
TABLE_NOTES: dict[str, str] = {
    "creators": "One row per creator page on the platform.",
    "patrons": "One row per patron with at least one pledge.",
    "tiers": "One row per pricing tier of a creator.",
    "pledges": "One row per pledge of a patron to a creator.",
    "transactions": "One row per payment attempt (a first attempt or a retry).",
    "posts": "One row per post published by a creator.",
    "engagement_events": "One row per view, like, comment or share of a post by a patron.",
    "anomalies": "One row per injected anomaly: the ground truth to score a root-cause analysis against.",
}

NOTES: dict[str, dict[str, str]] = {
    "creators": {
        "creator_id": "The creator's id, from 1 to the number of creators.",
        "creator_name": "Display name: a person's name, a surname with a category word, or a brand.",
        "email": (
            "Unique address built from the creator's name (the brand's for a brand page); reserved example "
            "domains by default (identities.email_domains)."
        ),
        "category": "Content category (closed set); drives post types and engagement.",
        "subcategory": "One of the category's subcategories in the config, e.g. true_crime for podcasts.",
        "country_code": "ISO 3166 alpha-2 country, one of 15 (US most common).",
        "currency_code": (
            "ISO 4217 currency of the country (EUR for euro countries); the creator prices in it and "
            "amounts are recorded in USD at the day's exchange rate."
        ),
        "plan_type": (
            "The creator's platform plan (lite, pro or premium by default), which sets the platform fee."
        ),
        "is_nsfw": "Adult content flag, true for about 4% of creators.",
        "is_verified": "Verified page; more likely the larger the creator (5%, 35%, 90% by latent size).",
        "created_at": (
            "Page creation, mostly before the window (up to 9 years); about 1% join during it with no "
            "patrons."
        ),
        "first_pledge_received_at": (
            "Earliest started_at of the creator's pledges; null if the creator never had a pledge."
        ),
        "last_post_at": "Latest published_at of the creator's posts; null if the creator never posted.",
        "status": (
            "At the window's end: active (active pledge or post in last 90 days), else inactive (a creator "
            "who left too)."
        ),
    },
    "patrons": {
        "patron_id": "The patron's id, drawn from a pool of ids, so ids are not contiguous.",
        "patron_name": "First and last name from the patron's country.",
        "email": (
            "Unique address built from the name in a pattern people use; reserved example domains by "
            "default (identities.email_domains)."
        ),
        "country_code": "ISO 3166 alpha-2 country, the same 15 countries as creators.",
        "created_at": (
            "Account sign-up, never after first_pledge_at; about 35% sign up within the hour before it."
        ),
        "first_pledge_at": "Earliest started_at of the patron's pledges (can be before the window).",
        "lifetime_spend_usd": (
            "All the patron has paid: succeeded transactions in the window plus, for pledges begun before "
            "it, a monthly charge from their start month at their price when the window opened."
        ),
        "status": (
            "active if any of the patron's pledges is active, else paused if any is paused, else churned."
        ),
    },
    "tiers": {
        "tier_id": "The tier's id: creator_id * 10 + tier_rank.",
        "creator_id": "The owning creator, references creators.",
        "tier_name": "Name that fits the rank, e.g. Supporter or Fan for rank 1, Inner Circle for rank 4.",
        "tier_rank": "1 (cheapest) up to the creator's number of tiers, at most 4.",
        "price_usd": (
            "Monthly list price in USD: the creator's price in their currency at its reference rate, within "
            "the rank's band ($2-5, $7-15, $20-50 or $75-150); whole dollars for creators pricing in USD."
        ),
        "description": "One sentence listing the perks of the rank.",
        "is_active": "Whether the tier is offered; always true in this version.",
        "created_at": "The creator's created_at, since tiers are set up with the page.",
        "archived_at": "When the tier was archived; always null in this version (no tier is archived).",
    },
    "pledges": {
        "pledge_id": "The pledge's id: creator_id * 1,000,000 + n, n counting the creator's pledges from 1.",
        "patron_id": "The pledging patron, references patrons.",
        "creator_id": "The creator pledged to, references creators.",
        "tier_id": (
            "The pledge's current tier, one of its creator's tiers (a few pledges move tier over time)."
        ),
        "pledge_amount_usd": "Monthly amount: the current tier's price_usd.",
        "pledge_status": (
            "At the window's end: churned if ended_at is set, paused if pause_started_at is set, else active."
        ),
        "is_first_pledge": (
            "True on the patron's earliest pledge (by started_at, then pledge_id), false on the others."
        ),
        "started_at": (
            "Start of the pledge; pledges already running when the window opened started before it."
        ),
        "ended_at": "End of the pledge; null while it runs.",
        "pause_started_at": "Start of a pause, which is not billed and never resumes; null if never paused.",
        "churn_reason": "Why it ended: voluntary, payment_failed or creator_removed; null while it runs.",
    },
    "transactions": {
        "transaction_id": f"The attempt's id: {TRANSACTION_ID.formula()}.",
        "pledge_id": "The billed pledge, references pledges.",
        "patron_id": "The pledge's patron.",
        "creator_id": "The pledge's creator.",
        "transaction_type": "payment for the first attempt of a billing, retry for a later attempt.",
        "transaction_status": "Whether the attempt succeeded or failed.",
        "gross_amount_usd": (
            "Amount charged, or attempted if it failed: the pledge's tier price at billing time, at the "
            "attempt day's exchange rate for a creator pricing in another currency (rounded half up)."
        ),
        "platform_fee_usd": "Gross times the creator's plan fee, rounded to the cent; 0.00 when failed.",
        "processing_fee_usd": "2.9% + $0.30, or 5% + $0.10 for charges of $3.00 or less; 0.00 when failed.",
        "net_amount_usd": (
            "Gross minus platform and processing fees, above 0 when succeeded; 0.00 when failed."
        ),
        "payment_method": "The patron's payment method, the same on all the patron's pledges.",
        "failure_reason": "Why the attempt declined; null when it succeeded.",
        "transaction_at": "Time of the attempt, always inside the window.",
    },
    "posts": {
        "post_id": "The post's id: creator_id * 10,000 + n, n counting the creator's posts from 1.",
        "creator_id": "The publishing creator, references creators.",
        "title": "Title that fits the category, numbered in publishing order, e.g. Episode 12: ...",
        "post_type": (
            "Format of the post (text, image, video, audio, poll, link); the mix depends on the category."
        ),
        "access_level": "Who can see the post: public, patrons_only or tier_locked.",
        "minimum_tier_id": (
            "Lowest tier that can see the post (rank 1 for patrons_only, 2+ for tier_locked); null for "
            "public."
        ),
        "published_at": (
            "Publication time, from six months before the window to its end, while the creator exists."
        ),
        "is_pinned": "Pinned to the creator's page (3% of posts).",
    },
    "engagement_events": {
        "event_id": f"The event's id: {EVENT_ID.formula()}.",
        "patron_id": "The pledge's patron, references patrons.",
        "creator_id": "The pledge's creator, references creators.",
        "post_id": "A post of that creator that the patron's tier can see, published before the event.",
        "event_type": "Kind of interaction: view, like, comment or share.",
        "event_at": "Time of the event, while the patron's pledge runs and after the post was published.",
    },
    "anomalies": {
        "anomaly_id": "1, 2, ... in scenario order, counting only the enabled anomalies.",
        "anomaly_type": "Which scenario was injected.",
        "family": "business: the platform's business changed (data, for a broken pipeline, is not generated yet).",
        "start_at": "First second of the anomaly (creator_exodus: the first departure).",
        "end_at": "Last second of the anomaly (creator_exodus: the last departure).",
        "segment": (
            "Whom it acts on: a JSON object of dimension -> values, coarse to fine; {} is the whole platform."
        ),
        "creator_ids": (
            "The creators involved, separated by ';' (viral_spike, creator_exodus); null for the other types."
        ),
        "category": "The collapsing category (category_collapse); null for the other types.",
        "kpis": 'The KPIs it moves and which way, as JSON, e.g. {"new_pledges": "up", "mrr": "up"}.',
        "metric": "The metric the anomaly moves, e.g. new pledges, MRR.",
        "expected_effect": "The size of the effect, in words.",
        "investigation_question": "The question an analyst would ask about the anomaly.",
        "expected_root_cause": "The right answer to the investigation question.",
        "overlaps": (
            "The ids of the other anomalies acting on some of the same creators or payers at the same "
            "time, separated by ';' (its confounders); null when none does."
        ),
        "difficulty": "easy, medium or hard for an instance the run seed placed; null otherwise.",
    },
}
