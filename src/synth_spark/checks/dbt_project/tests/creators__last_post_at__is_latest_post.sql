-- A creator's last_post_at is the latest of the creator's posts (null for a creator without posts).
with latest as (
    select creator_id, max(published_at) as last_published_at
    from {{ source('synth', 'posts') }}
    group by creator_id
)
select c.creator_id, c.last_post_at, l.last_published_at
from {{ source('synth', 'creators') }} as c
left join latest as l using (creator_id)
where c.last_post_at is distinct from l.last_published_at
