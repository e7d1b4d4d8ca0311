-- A patron's lifetime spend is the sum of the patron's successful charges (0 without any).
with spend as (
    select patron_id, sum(gross_amount_usd) as spent
    from {{ source('synth', 'transactions') }}
    where transaction_status = 'succeeded'
    group by patron_id
)
select p.patron_id, p.lifetime_spend_usd, coalesce(s.spent, 0) as spent
from {{ source('synth', 'patrons') }} as p
left join spend as s using (patron_id)
where p.lifetime_spend_usd <> coalesce(s.spent, 0)
