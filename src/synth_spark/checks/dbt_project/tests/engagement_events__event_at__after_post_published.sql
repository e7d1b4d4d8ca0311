-- An event on a post comes after the post was published.
select ev.event_id, ev.event_at, po.post_id, po.published_at
from {{ source('synth', 'engagement_events') }} as ev
join {{ source('synth', 'posts') }} as po using (post_id)
where ev.event_at < po.published_at
