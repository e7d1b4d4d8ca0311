-- No day of engagement events is lost on its way into the tables: each day of the window holds at
-- least a tenth of the median of the fifteen days around it (itself and seven each side). Events
-- come in bursts after posts, so at a small scale a day of a third of the usual is ordinary; a
-- tenth is not, once the days around hold 200 events a day or more (a scale of about 0.3 and up):
-- below that a quiet day of a tenth is ordinary too (a day's events come from a few posts), and
-- the day is not judged. Nor is a day without seven days each side inside the window.
with calendar as (
    select cast(day as date) as day
    from range(
        cast({{ window_start() }} at time zone 'UTC' as date),
        cast({{ window_end() }} at time zone 'UTC' as date),
        interval 1 day
    ) as t(day)
),
per_day as (
    select cast(event_at at time zone 'UTC' as date) as day, count(*) as events
    from {{ source('synth', 'engagement_events') }}
    group by 1
),
counted as (
    select c.day, coalesce(p.events, 0) as events
    from calendar as c
    left join per_day as p using (day)
),
judged as (
    select day, events,
           median(events) over around_it as around,
           count(*) over around_it as days
    from counted
    window around_it as (order by day rows between 7 preceding and 7 following)
)
select day, events, around
from judged
where days = 15 and around >= 200 and events < 0.1 * around
