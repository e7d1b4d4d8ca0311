{#- The window's exclusive end as a timestamptz literal (var window_end, passed by synth-spark check). -#}
{% macro window_end() -%}
cast('{{ var("window_end") }}' as timestamptz)
{%- endmacro %}

{#- How long after a billing its last retry may come (var retry_allowance_hours). -#}
{% macro retry_allowance() -%}
(interval 1 hour * {{ var("retry_allowance_hours") | int }})
{%- endmacro %}
