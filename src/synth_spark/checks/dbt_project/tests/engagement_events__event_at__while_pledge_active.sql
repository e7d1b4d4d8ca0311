-- Seed rule 6: engagement only from patrons with an active pledge to that creator: one of the
-- patron's pledges to the creator (one at a time; a patron may come back) had started, had not ended
-- and was not paused at event_at (events fall in [started_at, min(ended_at, pause_started_at))).
select ev.event_id, ev.patron_id, ev.creator_id, ev.event_at
from {{ source('synth', 'engagement_events') }} as ev
where not exists (
    select 1
    from {{ source('synth', 'pledges') }} as pl
    where pl.patron_id = ev.patron_id and pl.creator_id = ev.creator_id
      and ev.event_at >= pl.started_at
      and ev.event_at < coalesce(pl.ended_at, {{ window_end() }})
      and ev.event_at < coalesce(pl.pause_started_at, {{ window_end() }})
)
