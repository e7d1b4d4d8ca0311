-- Billing ends with the pledge: a transaction falls within its pledge's life, not before the pledge
-- starts, not after it ends and not once its pause has begun. A pledge ended for payment_failed ends
-- after its last failed retry; one that is cancelled or paused waits for its billing's retries to finish.
select tr.transaction_id, tr.transaction_type, tr.transaction_at,
       pl.pledge_id, pl.started_at, pl.pause_started_at, pl.ended_at
from {{ source('synth', 'transactions') }} as tr
join {{ source('synth', 'pledges') }} as pl using (pledge_id)
where tr.transaction_at < pl.started_at
   or tr.transaction_at > pl.ended_at
   or tr.transaction_at >= pl.pause_started_at
