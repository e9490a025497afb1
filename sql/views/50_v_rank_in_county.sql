-- v_rank_in_county: rank of each township within its county, per year and metric (1 = largest value;
-- ties share a rank). Only townships resolved to a county take part.
-- Answers: "which township of county X received the most applications in 2023?"
CREATE OR REPLACE VIEW v_rank_in_county AS
SELECT county_code, county, year, metric, unit_key, unit_name, value,
       rank() OVER w AS rank_in_county,
       count(*) OVER (PARTITION BY county_code, year, metric) AS townships_in_county
FROM v_unit_year_long
WHERE level = 'township' AND county_code IS NOT NULL
WINDOW w AS (PARTITION BY county_code, year, metric ORDER BY value DESC);
