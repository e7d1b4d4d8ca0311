-- A patron is active with a running pledge, else paused with a paused one, else churned.
with per_patron as (
    select patron_id,
           bool_or(pledge_status = 'active') as any_active,
           bool_or(pledge_status = 'paused') as any_paused
    from {{ source('synth', 'pledges') }}
    group by patron_id
)
select p.patron_id, p.status, pp.any_active, pp.any_paused
from {{ source('synth', 'patrons') }} as p
join per_patron as pp using (patron_id)
where p.status <> case when pp.any_active then 'active' when pp.any_paused then 'paused' else 'churned' end
