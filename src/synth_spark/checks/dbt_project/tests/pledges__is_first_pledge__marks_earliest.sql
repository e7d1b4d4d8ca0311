-- Each patron has exactly one pledge with is_first_pledge, and it starts at the patron's earliest start.
with per_patron as (
    select patron_id,
           count(*) filter (where is_first_pledge) as n_first,
           min(started_at) as earliest,
           min(started_at) filter (where is_first_pledge) as first_started_at
    from {{ source('synth', 'pledges') }}
    group by patron_id
)
select *
from per_patron
where n_first <> 1 or first_started_at is distinct from earliest
