-- patrons_only posts are open from tier rank 1, tier_locked ones from rank 2 up.
select po.post_id, po.access_level, t.tier_rank
from {{ source('synth', 'posts') }} as po
join {{ source('synth', 'tiers') }} as t on t.tier_id = po.minimum_tier_id
where (po.access_level = 'patrons_only' and t.tier_rank <> 1)
   or (po.access_level = 'tier_locked' and t.tier_rank < 2)
