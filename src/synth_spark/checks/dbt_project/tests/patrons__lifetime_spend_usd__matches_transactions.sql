-- A patron's lifetime spend is what the patron has paid: the successful charges in the window, plus,
-- for a pledge that began before the window, one charge a month from its start month to the window's
-- (a pledge still running on day one had paid its earlier bills) at its price when the window opened
-- (the amount of its first charge in the window; its pledge amount if it has none).
with spend as (
    select patron_id, sum(gross_amount_usd) as spent
    from {{ source('synth', 'transactions') }}
    where transaction_status = 'succeeded'
    group by patron_id
),
first_charge as (
    select pledge_id, arg_min(gross_amount_usd, transaction_at) as amount
    from {{ source('synth', 'transactions') }}
    group by pledge_id
),
before_window as (
    select pl.patron_id, sum(coalesce(fc.amount, pl.pledge_amount_usd) * {{ months_before_window('pl.started_at') }}) as spent
    from {{ source('synth', 'pledges') }} as pl
    left join first_charge as fc using (pledge_id)
    where pl.started_at < {{ window_start() }}
    group by pl.patron_id
)
select p.patron_id, p.lifetime_spend_usd, coalesce(s.spent, 0) + coalesce(b.spent, 0) as spent
from {{ source('synth', 'patrons') }} as p
left join spend as s using (patron_id)
left join before_window as b using (patron_id)
where p.lifetime_spend_usd <> coalesce(s.spent, 0) + coalesce(b.spent, 0)
