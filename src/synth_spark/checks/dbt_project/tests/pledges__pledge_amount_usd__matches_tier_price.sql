-- A pledge's amount is the price of its (current) tier.
select pl.pledge_id, pl.tier_id, pl.pledge_amount_usd, t.price_usd
from {{ source('synth', 'pledges') }} as pl
join {{ source('synth', 'tiers') }} as t using (tier_id)
where pl.pledge_amount_usd <> t.price_usd
