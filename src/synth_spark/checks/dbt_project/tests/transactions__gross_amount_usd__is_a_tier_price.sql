-- Seed rule 5: a transaction charges the pledge's amount at the time, i.e. the price of one of the
-- creator's tiers (the pledge's tier may have changed since: "occasional tier upgrades"). A creator
-- who prices in another currency (var priced_locally; the others price in US dollars) is charged
-- the tier's local price, recorded in US dollars at the day's exchange rate: the tier's list price
-- (price_usd, at the currency's reference rate) times the day's rate against the reference,
-- rounded half up to the cent. With var exchange_rates (a CSV of currency, UTC day, rate, which
-- synth-spark check recomputes from the dataset's config) each charge is checked to the cent;
-- without it, within var fx_max_deviation of the list price, as far as a rate may stray.
{% set rates_file = var("exchange_rates", "") %}
{% set local_codes %}{% for code in var('priced_locally') %}'{{ code }}'{{ ", " if not loop.last }}{% endfor %}{% endset %}
{% set is_local %}{% if local_codes %}c.currency_code in ({{ local_codes }}){% else %}false{% endif %}{% endset %}
with
{% if rates_file %}
rates as (
    select *
    from read_csv(
        '{{ rates_file }}', header = true,
        columns = {'currency_code': 'VARCHAR', 'day': 'DATE', 'rate': 'DECIMAL(12, 6)'}
    )
),
{% endif %}
charges as (
    select
        tr.transaction_id,
        tr.creator_id,
        tr.gross_amount_usd,
        {{ is_local }} as priced_locally,
        {% if rates_file %}r.rate{% else %}cast(null as decimal(12, 6)){% endif %} as rate
    from {{ source('synth', 'transactions') }} as tr
    join {{ source('synth', 'creators') }} as c using (creator_id)
    {% if rates_file %}
    left join rates as r
        on r.currency_code = case
            when {{ is_local }} then c.currency_code
            else 'USD'
        end
        and r.day = cast(timezone('UTC', tr.transaction_at) as date)
    {% endif %}
)
select ch.transaction_id, ch.creator_id, ch.gross_amount_usd, ch.rate
from charges as ch
where not exists (
    select 1
    from {{ source('synth', 'tiers') }} as t
    where t.creator_id = ch.creator_id
    {% if rates_file %}
        and round(t.price_usd * ch.rate, 2) = ch.gross_amount_usd
    {% else %}
        and case
            when ch.priced_locally then ch.gross_amount_usd between
                round(t.price_usd / (1 + {{ var("fx_max_deviation") }}), 2) - 0.01
                and round(t.price_usd * (1 + {{ var("fx_max_deviation") }}), 2) + 0.01
            else t.price_usd = ch.gross_amount_usd
        end
    {% endif %}
)
