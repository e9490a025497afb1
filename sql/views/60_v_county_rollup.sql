-- v_county_rollup: per county x year x metric, the sum over the county's townships beside the figure the
-- county printed in its own report (additive metrics only: rates are left out).
-- Answers: "do the townships of county X add up to what the county government reports?"
-- The county's own report covers the county government's own work, so a gap is information, not an error.
CREATE OR REPLACE VIEW v_county_rollup AS
WITH t AS (
    SELECT county_code, any_value(county) AS county, year, metric, sum(value) AS townships_sum,
           count(*) AS townships_reporting
    FROM v_unit_year_long
    WHERE level = 'township' AND county_code IS NOT NULL AND NOT ends_with(metric, '_rate')
    GROUP BY county_code, year, metric
), c AS (
    SELECT county_code, county, year, metric, value AS county_value
    FROM v_unit_year_long
    WHERE level = 'county' AND NOT ends_with(metric, '_rate')
)
SELECT coalesce(t.county_code, c.county_code) AS county_code, coalesce(c.county, t.county) AS county,
       coalesce(t.year, c.year) AS year, coalesce(t.metric, c.metric) AS metric,
       t.townships_sum, coalesce(t.townships_reporting, 0) AS townships_reporting, c.county_value,
       c.county_value - t.townships_sum AS county_minus_townships
FROM t FULL JOIN c ON c.county_code = t.county_code AND c.year = t.year AND c.metric = t.metric;
