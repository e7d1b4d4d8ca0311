-- A transaction falls within its pledge's life: not before the pledge starts, and not after it ends or
-- is paused, except for the retries of a billing made before that, which may come up to the last retry
-- offset later (payments.retry_days, var retry_allowance_hours).
select tr.transaction_id, tr.transaction_type, tr.transaction_at,
       pl.pledge_id, pl.started_at, pl.pause_started_at, pl.ended_at
from {{ source('synth', 'transactions') }} as tr
join {{ source('synth', 'pledges') }} as pl using (pledge_id)
where tr.transaction_at < pl.started_at
   or tr.transaction_at > least(coalesce(pl.ended_at, {{ window_end() }}),
                                coalesce(pl.pause_started_at, {{ window_end() }})) + {{ retry_allowance() }}
