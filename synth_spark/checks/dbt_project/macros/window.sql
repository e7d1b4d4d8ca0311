{#- The window's exclusive end as a timestamptz literal (var window_end, passed by synth-spark check). -#}
{% macro window_end() -%}
cast('{{ var("window_end") }}' as timestamptz)
{%- endmacro %}
