-- No date before its entity exists: a tier is created no earlier than its creator.
select t.tier_id, t.created_at, c.created_at as creator_created_at
from {{ source('synth', 'tiers') }} as t
join {{ source('synth', 'creators') }} as c using (creator_id)
where t.created_at < c.created_at
