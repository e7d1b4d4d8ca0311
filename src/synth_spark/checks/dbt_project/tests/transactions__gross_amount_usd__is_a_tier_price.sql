-- Seed rule 5: a transaction charges the pledge's amount at the time, i.e. the price of one of the
-- creator's tiers (the pledge's tier may have changed since: "occasional tier upgrades"). A creator
-- who prices in another currency is charged the tier's local price, recorded in US dollars at the
-- day's exchange rate: the tier's list price (price_usd, at the currency's reference rate) times the
-- day's rate against the reference, rounded half up to the cent. The rates are recomputed from the
-- dataset's config by synth-spark check (var exchange_rates: a CSV of currency, UTC day, rate);
-- var priced_locally lists the currencies creators price in (the others price in US dollars).
with rates as (
    select *
    from read_csv(
        '{{ var("exchange_rates") }}', header = true,
        columns = {'currency_code': 'VARCHAR', 'day': 'DATE', 'rate': 'DECIMAL(12, 6)'}
    )
),
charges as (
    select tr.transaction_id, tr.creator_id, tr.gross_amount_usd, r.rate
    from {{ source('synth', 'transactions') }} as tr
    join {{ source('synth', 'creators') }} as c using (creator_id)
    left join rates as r
        on r.currency_code = case
            when c.currency_code in ({% for code in var('priced_locally') %}'{{ code }}'{{ ", " if not loop.last }}{% endfor %})
                then c.currency_code
            else 'USD'
        end
        and r.day = cast(timezone('UTC', tr.transaction_at) as date)
)
select ch.transaction_id, ch.creator_id, ch.gross_amount_usd, ch.rate
from charges as ch
where not exists (
    select 1
    from {{ source('synth', 'tiers') }} as t
    where t.creator_id = ch.creator_id and round(t.price_usd * ch.rate, 2) = ch.gross_amount_usd
)
