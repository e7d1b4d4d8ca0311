-- Each fee of a succeeded charge is the gross times its rate, rounded half up to the cent: the
-- platform fee at the creator's plan rate, the processing fee at the processor's rate plus its fixed
-- part (the micro rate for small charges). Rates come from the dataset's config (var fees). DuckDB
-- rounds a decimal's half away from zero, which for amounts never negative is half up.
{%- set fees = var('fees') %}
{%- set pf = fees['processing'] %}
with charged as (
    select t.transaction_id, t.gross_amount_usd as gross, t.platform_fee_usd, t.processing_fee_usd,
           case c.plan_type
               {%- for plan, rate in fees['platform'].items() %}
               when '{{ plan }}' then cast({{ rate }} as decimal(12, 6))
               {%- endfor %}
           end as plan_rate
    from {{ source('synth', 'transactions') }} as t
    join {{ source('synth', 'creators') }} as c using (creator_id)
    where t.transaction_status = 'succeeded'
)
select transaction_id, gross, platform_fee_usd, processing_fee_usd
from charged
where platform_fee_usd <> round(gross * plan_rate, 2)
   or processing_fee_usd <> case
        when gross * 100 <= {{ pf['micro_limit_cents'] }}
            then round(gross * cast({{ pf['micro_rate'] }} as decimal(12, 6)), 2) + cast({{ pf['micro_fixed_cents'] }} / 100 as decimal(12, 2))
        else round(gross * cast({{ pf['rate'] }} as decimal(12, 6)), 2) + cast({{ pf['fixed_cents'] }} / 100 as decimal(12, 2))
      end
