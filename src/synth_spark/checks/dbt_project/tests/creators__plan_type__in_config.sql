-- plan_type is one of the plans of the dataset's config (creators.plan_types, var plan_types).
select creator_id, plan_type
from {{ source('synth', 'creators') }}
where plan_type is null
   or plan_type not in ({% for p in var('plan_types') %}'{{ p }}'{% if not loop.last %}, {% endif %}{% endfor %})
