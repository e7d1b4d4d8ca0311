-- The KPI cube, shared by its two grains (kpis_daily.sql, kpis_monthly.sql); docs/kpis.md defines
-- every column. Run by benchmark/kpi_cube.py after it has defined, over the dataset's files:
--   views creators, patrons, pledges, transactions, posts, engagement_events;
--   table creator_sizes (creator_id, size): each creator's latent size, from the manifest;
--   variables window_start and window_end: the window's first instant and the first instant after
--   it (a snapshot's window ends with its as-of day).
-- Every instant is read in UTC (the session's TimeZone): a day or a month is a UTC one.

-- The period an instant falls in: its day, or its month's first day.
CREATE OR REPLACE TEMP MACRO period_of(ts, grain) AS date_trunc(grain, ts)::DATE;

CREATE OR REPLACE TEMP MACRO in_window(ts) AS
    ts >= getvariable('window_start') AND ts < getvariable('window_end');

-- Each source is first summed to the cube's leaves on its own: one wide union of every row
-- before summing costs several times as much (the stocks are millions of pledge-days).
CREATE OR REPLACE TEMP MACRO kpi_cube(grain) AS TABLE
WITH
    -- The window's periods and the instants each starts and ends at; the last ends with the window,
    -- so a snapshot's last month ends with its as-of day.
    periods AS (
        SELECT
            p::DATE AS period,
            p AS starts,
            least(p + ('1 ' || grain)::INTERVAL, getvariable('window_end')) AS ends
        FROM generate_series(
            date_trunc(grain, getvariable('window_start')),
            getvariable('window_end') - INTERVAL 1 MICROSECOND,
            ('1 ' || grain)::INTERVAL
        ) AS t(p)
    ),
    -- Each patron's country and payment method. A patron pays with one method; the first
    -- transaction's is taken, so that all of a patron's rows fall in one leaf. NULL for a patron
    -- never charged.
    payers AS MATERIALIZED (
        SELECT patrons.patron_id, patrons.country_code AS patron_country, first_paid.payment_method
        FROM patrons
        LEFT JOIN (
            SELECT patron_id, arg_min(payment_method, (transaction_at, transaction_id)) AS payment_method
            FROM transactions
            GROUP BY patron_id
        ) AS first_paid ON first_paid.patron_id = patrons.patron_id
    ),
    -- A pledge in every period it is active in (docs/metrics.md: running at the period's start, or
    -- started in it), and whether it still runs at the period's end: started by then, neither ended
    -- nor paused by then. pause_started_at is the only pause a dataset publishes.
    stocks AS (
        SELECT
            pe.period, pl.creator_id, payers.patron_country, payers.payment_method,
            count(*) AS pledges_in_period,
            count(*) FILTER (WHERE pl.stops_at >= pe.ends) AS active_pledges,
            count(DISTINCT pl.patron_id) FILTER (WHERE pl.stops_at >= pe.ends) AS active_patrons,
            coalesce(sum(pl.pledge_amount_usd) FILTER (WHERE pl.stops_at >= pe.ends), 0) AS mrr
        FROM (
            SELECT
                creator_id, patron_id, pledge_amount_usd, started_at,
                coalesce(least(ended_at, pause_started_at), 'infinity'::TIMESTAMPTZ) AS stops_at
            FROM pledges
        ) AS pl
        JOIN periods AS pe ON pl.started_at < pe.ends AND pl.stops_at >= pe.starts
        LEFT JOIN payers ON payers.patron_id = pl.patron_id
        GROUP BY ALL
    ),
    started AS (
        SELECT
            period_of(started_at, grain) AS period, creator_id, payers.patron_country,
            payers.payment_method, count(*) AS new_pledges
        FROM pledges
        LEFT JOIN payers ON payers.patron_id = pledges.patron_id
        WHERE in_window(started_at)
        GROUP BY ALL
    ),
    ended AS (
        SELECT
            period_of(ended_at, grain) AS period, creator_id, payers.patron_country,
            payers.payment_method,
            count(*) AS pledges_ended,
            -- the end of a pledge active in its period, i.e. not paused before the period began (a
            -- pledge paused earlier left the active pledges when it paused)
            count(*) FILTER (
                WHERE pause_started_at IS NULL OR pause_started_at >= date_trunc(grain, ended_at)
            ) AS churned,
            count(*) FILTER (WHERE churn_reason = 'voluntary') AS churn_voluntary,
            count(*) FILTER (WHERE churn_reason = 'payment_failed') AS churn_payment_failed,
            count(*) FILTER (WHERE churn_reason = 'creator_removed') AS churn_creator_removed
        FROM pledges
        LEFT JOIN payers ON payers.patron_id = pledges.patron_id
        WHERE in_window(ended_at)
        GROUP BY ALL
    ),
    charged AS (
        SELECT
            period_of(transaction_at, grain) AS period, creator_id, payers.patron_country,
            payers.payment_method,
            count(*) FILTER (WHERE transaction_type = 'payment') AS first_attempts,
            count(*) FILTER (WHERE transaction_type = 'payment' AND transaction_status = 'failed')
                AS first_attempt_declines,
            count(*) FILTER (WHERE transaction_type = 'payment' AND failure_reason = 'card_declined')
                AS declines_card_declined,
            count(*) FILTER (WHERE transaction_type = 'payment' AND failure_reason = 'insufficient_funds')
                AS declines_insufficient_funds,
            count(*) FILTER (WHERE transaction_type = 'payment' AND failure_reason = 'processing_error')
                AS declines_processing_error,
            count(*) FILTER (WHERE transaction_type = 'payment' AND failure_reason = 'card_expired')
                AS declines_card_expired,
            count(*) FILTER (WHERE transaction_type = 'retry') AS retries,
            count(*) FILTER (WHERE transaction_type = 'retry' AND transaction_status = 'succeeded')
                AS retry_successes,
            coalesce(sum(gross_amount_usd) FILTER (WHERE transaction_status = 'succeeded'), 0) AS revenue,
            count(*) AS transactions
        FROM transactions
        LEFT JOIN payers ON payers.patron_id = transactions.patron_id
        WHERE in_window(transaction_at)
        GROUP BY ALL
    ),
    -- A post has no patron: it lands on the creator's own row, whose patron columns are NULL.
    published AS (
        SELECT period_of(published_at, grain) AS period, creator_id, count(*) AS posts
        FROM posts
        WHERE in_window(published_at)
        GROUP BY ALL
    ),
    engaged AS (
        SELECT
            period_of(event_at, grain) AS period, creator_id, payers.patron_country,
            payers.payment_method,
            count(*) AS engagement_events,
            count(DISTINCT engagement_events.patron_id) AS engaged_patrons
        FROM engagement_events
        LEFT JOIN payers ON payers.patron_id = engagement_events.patron_id
        WHERE in_window(event_at)
        GROUP BY ALL
    ),
    -- A creator with an active pledge or a post in the period, once, on its own row.
    active AS (
        SELECT period, creator_id, 1 AS active_creator FROM stocks
        UNION
        SELECT period, creator_id, 1 AS active_creator FROM published
    ),
    -- The flows summed per leaf; joined to the stocks rather than summed with them, as the stocks
    -- are most of the rows and already one per leaf.
    flows AS (
        SELECT
            period, creator_id, patron_country, payment_method,
            sum(new_pledges) AS new_pledges,
            sum(pledges_ended) AS pledges_ended,
            sum(churned) AS churned,
            sum(churn_voluntary) AS churn_voluntary,
            sum(churn_payment_failed) AS churn_payment_failed,
            sum(churn_creator_removed) AS churn_creator_removed,
            sum(first_attempts) AS first_attempts,
            sum(first_attempt_declines) AS first_attempt_declines,
            sum(declines_card_declined) AS declines_card_declined,
            sum(declines_insufficient_funds) AS declines_insufficient_funds,
            sum(declines_processing_error) AS declines_processing_error,
            sum(declines_card_expired) AS declines_card_expired,
            sum(retries) AS retries,
            sum(retry_successes) AS retry_successes,
            sum(revenue) AS revenue,
            sum(transactions) AS transactions,
            sum(posts) AS posts,
            sum(engagement_events) AS engagement_events,
            sum(engaged_patrons) AS engaged_patrons,
            sum(active_creator) AS active_creator
        FROM (
            FROM started
            UNION ALL BY NAME FROM ended
            UNION ALL BY NAME FROM charged
            UNION ALL BY NAME FROM published
            UNION ALL BY NAME FROM engaged
            UNION ALL BY NAME FROM active
        )
        GROUP BY period, creator_id, patron_country, payment_method
    ),
    leaves AS (
        SELECT
            coalesce(s.period, f.period) AS period,
            coalesce(s.creator_id, f.creator_id) AS creator_id,
            coalesce(s.patron_country, f.patron_country) AS patron_country,
            coalesce(s.payment_method, f.payment_method) AS payment_method,
            coalesce(s.mrr, 0)::DECIMAL(18, 2) AS mrr,
            coalesce(s.active_pledges, 0)::BIGINT AS active_pledges,
            coalesce(s.active_patrons, 0)::BIGINT AS active_patrons,
            coalesce(s.pledges_in_period, 0)::BIGINT AS pledges_in_period,
            coalesce(f.new_pledges, 0)::BIGINT AS new_pledges,
            coalesce(f.pledges_ended, 0)::BIGINT AS pledges_ended,
            coalesce(f.churned, 0)::BIGINT AS churned,
            coalesce(f.churn_voluntary, 0)::BIGINT AS churn_voluntary,
            coalesce(f.churn_payment_failed, 0)::BIGINT AS churn_payment_failed,
            coalesce(f.churn_creator_removed, 0)::BIGINT AS churn_creator_removed,
            coalesce(f.first_attempts, 0)::BIGINT AS first_attempts,
            coalesce(f.first_attempt_declines, 0)::BIGINT AS first_attempt_declines,
            coalesce(f.declines_card_declined, 0)::BIGINT AS declines_card_declined,
            coalesce(f.declines_insufficient_funds, 0)::BIGINT AS declines_insufficient_funds,
            coalesce(f.declines_processing_error, 0)::BIGINT AS declines_processing_error,
            coalesce(f.declines_card_expired, 0)::BIGINT AS declines_card_expired,
            coalesce(f.retries, 0)::BIGINT AS retries,
            coalesce(f.retry_successes, 0)::BIGINT AS retry_successes,
            coalesce(f.revenue, 0)::DECIMAL(18, 2) AS revenue,
            coalesce(f.transactions, 0)::BIGINT AS transactions,
            coalesce(f.posts, 0)::BIGINT AS posts,
            coalesce(f.engagement_events, 0)::BIGINT AS engagement_events,
            coalesce(f.engaged_patrons, 0)::BIGINT AS engaged_patrons,
            coalesce(f.active_creator, 0)::BIGINT AS active_creator
        FROM stocks AS s
        FULL JOIN flows AS f
            ON s.period = f.period
            AND s.creator_id = f.creator_id
            AND s.patron_country IS NOT DISTINCT FROM f.patron_country
            AND s.payment_method IS NOT DISTINCT FROM f.payment_method
    )
SELECT
    leaves.period,
    leaves.creator_id,
    sizes.size,
    c.category,
    c.country_code AS country,
    c.currency_code AS currency,
    c.plan_type,
    c.is_nsfw AS nsfw,
    c.is_verified AS verified,
    leaves.patron_country,
    leaves.payment_method,
    leaves.* EXCLUDE (period, creator_id, patron_country, payment_method)
FROM leaves
JOIN creators AS c ON c.creator_id = leaves.creator_id
LEFT JOIN creator_sizes AS sizes ON sizes.creator_id = leaves.creator_id
ORDER BY leaves.period, leaves.creator_id, leaves.patron_country NULLS FIRST, leaves.payment_method NULLS FIRST;
