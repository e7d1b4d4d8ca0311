-- Seed rule 7: a post is published after its creator was created.
select po.post_id, po.published_at, c.created_at as creator_created_at
from {{ source('synth', 'posts') }} as po
join {{ source('synth', 'creators') }} as c using (creator_id)
where po.published_at <= c.created_at
