-- Seed rule 4: a creator's first_pledge_received_at is the earliest pledge to that creator
-- (null for a creator without pledges).
with earliest as (
    select creator_id, min(started_at) as first_started_at
    from {{ source('synth', 'pledges') }}
    group by creator_id
)
select c.creator_id, c.first_pledge_received_at, e.first_started_at
from {{ source('synth', 'creators') }} as c
left join earliest as e using (creator_id)
where c.first_pledge_received_at is distinct from e.first_started_at
