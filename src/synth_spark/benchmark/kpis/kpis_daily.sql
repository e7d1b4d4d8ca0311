-- kpis_daily.parquet: the cube per UTC day of the window (cube.sql). Stocks (mrr, active_pledges,
-- active_patrons) are at the end of the day.
SELECT * FROM kpi_cube('day')
