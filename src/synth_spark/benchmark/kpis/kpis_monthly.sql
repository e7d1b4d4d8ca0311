-- kpis_monthly.parquet: the cube per calendar month of the window (UTC; period is the month's first
-- day). Stocks are at the end of the month: mrr is docs/metrics.md's "MRR of month m".
SELECT * FROM kpi_cube('month')
