-- Seed rule 3: a patron's first_pledge_at is not after any of the patron's pledges, and is the
-- earliest of them (every patron has a pledge: patrons are drawn by pledging).
with earliest as (
    select patron_id, min(started_at) as first_started_at
    from {{ source('synth', 'pledges') }}
    group by patron_id
)
select p.patron_id, p.first_pledge_at, e.first_started_at
from {{ source('synth', 'patrons') }} as p
left join earliest as e using (patron_id)
where p.first_pledge_at is distinct from e.first_started_at
