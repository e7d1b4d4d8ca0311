-- Seed rule 6: engagement only from patrons with an active pledge to that creator: the patron's
-- pledge to the creator (at most one) had started, had not ended and was not paused at event_at
-- (the generator's definition: events fall in [started_at, min(ended_at, pause_started_at))).
select ev.event_id, ev.patron_id, ev.creator_id, ev.event_at,
       pl.pledge_id, pl.started_at, pl.pause_started_at, pl.ended_at
from {{ source('synth', 'engagement_events') }} as ev
left join {{ source('synth', 'pledges') }} as pl
       on pl.patron_id = ev.patron_id and pl.creator_id = ev.creator_id
where pl.pledge_id is null
   or ev.event_at < pl.started_at
   or ev.event_at >= coalesce(pl.ended_at, {{ window_end() }})
   or ev.event_at >= coalesce(pl.pause_started_at, {{ window_end() }})
