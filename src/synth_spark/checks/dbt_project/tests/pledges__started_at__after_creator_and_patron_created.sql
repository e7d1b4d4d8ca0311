-- No date before its entity exists: a pledge starts after its creator and its patron were created.
select pl.pledge_id, pl.started_at, c.created_at as creator_created_at, p.created_at as patron_created_at
from {{ source('synth', 'pledges') }} as pl
join {{ source('synth', 'creators') }} as c using (creator_id)
join {{ source('synth', 'patrons') }} as p using (patron_id)
where pl.started_at < c.created_at or pl.started_at < p.created_at
