{#- The window's first instant as a timestamptz literal (var window_start). -#}
{% macro window_start() -%}
cast('{{ var("window_start") }}' as timestamptz)
{%- endmacro %}

{#- Whole calendar months (UTC) from the month of a timestamptz to the window's first month. -#}
{% macro months_before_window(column) -%}
((date_part('year', {{ window_start() }} at time zone 'UTC') - date_part('year', {{ column }} at time zone 'UTC')) * 12
 + date_part('month', {{ window_start() }} at time zone 'UTC') - date_part('month', {{ column }} at time zone 'UTC'))
{%- endmacro %}

{#- The window's exclusive end as a timestamptz literal (var window_end, passed by synth-spark check). -#}
{% macro window_end() -%}
cast('{{ var("window_end") }}' as timestamptz)
{%- endmacro %}

{#- The end of the simulated window even for a snapshot cut earlier (var plan_end; the ground truth
    describes the whole window's scenarios). Defaults to window_end. -#}
{% macro plan_end() -%}
cast('{{ var("plan_end", var("window_end")) }}' as timestamptz)
{%- endmacro %}
