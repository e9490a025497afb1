-- v_yoy: year-over-year change per unit and metric (only where the previous calendar year is present).
-- Answers: "did township X get more or fewer applications than the year before, and by how much?"
CREATE OR REPLACE VIEW v_yoy AS
SELECT unit_key, unit_name, level, county, county_code, metric, year, value, prev_year, prev_value,
       value - prev_value AS change,
       round((value - prev_value) / nullif(prev_value, 0), 4) AS pct_change
FROM (
    SELECT *, lag(year) OVER w AS prev_year, lag(value) OVER w AS prev_value
    FROM v_unit_year_long
    WINDOW w AS (PARTITION BY unit_key, metric ORDER BY year)
)
WHERE prev_year = year - 1;
