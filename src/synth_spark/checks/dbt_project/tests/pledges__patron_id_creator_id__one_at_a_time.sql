-- A patron pledges to a creator one pledge at a time: a patron who left may come back with a new
-- pledge, but never while an earlier one to the same creator still runs (ended_at null).
select a.pledge_id, b.pledge_id as other_pledge_id, a.patron_id, a.creator_id,
       a.started_at, a.ended_at, b.started_at as other_started_at, b.ended_at as other_ended_at
from {{ source('synth', 'pledges') }} as a
join {{ source('synth', 'pledges') }} as b
  on a.patron_id = b.patron_id and a.creator_id = b.creator_id and a.pledge_id < b.pledge_id
where a.started_at < coalesce(b.ended_at, {{ window_end() }})
  and b.started_at < coalesce(a.ended_at, {{ window_end() }})
