-- Seed rule 5: a transaction charges the pledge's amount at the time, i.e. the price of one of the
-- creator's tiers (the pledge's tier may have changed since: "occasional tier upgrades").
select tr.transaction_id, tr.creator_id, tr.gross_amount_usd
from {{ source('synth', 'transactions') }} as tr
where not exists (
    select 1
    from {{ source('synth', 'tiers') }} as t
    where t.creator_id = tr.creator_id and t.price_usd = tr.gross_amount_usd
)
