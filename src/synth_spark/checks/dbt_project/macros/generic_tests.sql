{#-
  Generic tests used by models/sources.yml. The first three follow the names and arguments of the
  well-known dbt_utils tests (expression_is_true, accepted_range, unique_combination_of_columns), written
  here so that the project needs no package download: `dbt test` works offline with nothing installed
  but dbt-core and dbt-duckdb. A row returned by a test is a failing row.
-#}

{#- Every row satisfies a SQL boolean expression (rows where it is null pass, as in dbt_utils). -#}
{% test expression_is_true(model, expression, column_name=None) %}
select *
from {{ model }}
where not ({% if column_name %}{{ column_name }} {% endif %}{{ expression }})
{% endtest %}


{#- The column lies in [min_value, max_value] (bounds optional; nulls pass). -#}
{% test accepted_range(model, column_name, min_value=None, max_value=None, inclusive=True) %}
select *
from {{ model }}
where false
  {%- if min_value is not none %}
  or {{ column_name }} {{ '<' if inclusive else '<=' }} {{ min_value }}
  {%- endif %}
  {%- if max_value is not none %}
  or {{ column_name }} {{ '>' if inclusive else '>=' }} {{ max_value }}
  {%- endif %}
{% endtest %}


{#- No two rows share the same values of all these columns. -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
select {{ combination_of_columns | join(', ') }}, count(*) as n_rows
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1
{% endtest %}


{#-
  A composite foreign key: every row whose key columns are all non-null has a parent row in `to`
  with the same values. `columns` maps this model's columns to the parent's, e.g.
  {tier_id: tier_id, creator_id: creator_id}: the tier exists and belongs to the same creator.
-#}
{% test relationships_composite(model, to, columns) %}
select child.*
from {{ model }} as child
where {% for c in columns %}child.{{ c }} is not null and {% endfor %}not exists (
    select 1
    from {{ to }} as parent
    where {% for c, p in columns.items() %}parent.{{ p }} = child.{{ c }}{% if not loop.last %} and {% endif %}{% endfor %}
)
{% endtest %}


{#-
  "No future dates": "now" is the dataset's window end, or the end of its as-of day for a snapshot
  (var window_end, exclusive, from the manifest), never the machine's clock. of='plan': the
  simulated window's end even in a snapshot (the ground truth describes the whole window).
-#}
{% test before_window_end(model, column_name, of='data') %}
select *
from {{ model }}
where {{ column_name }} >= {% if of == 'plan' %}{{ plan_end() }}{% else %}{{ window_end() }}{% endif %}
{% endtest %}
