-- v_unit_year_long: v_unit_year unpivoted to (unit, year, metric, value), NULLs dropped.
-- Answers: "any metric of any unit and year" in one shape; v_yoy, v_rank_in_county, v_county_rollup and
-- `gongkai compare` are built on it. Metric names are the column names of v_unit_year.
CREATE OR REPLACE VIEW v_unit_year_long AS
UNPIVOT (
    SELECT unit_key, unit_name, level, county, county_code, year, report_id,
           COLUMNS(* EXCLUDE (unit_key, unit_name, level, province, prefecture, county, county_code, township,
                              year, template, report_id, report_status, source_url))::DOUBLE
    FROM v_unit_year
) ON COLUMNS(* EXCLUDE (unit_key, unit_name, level, county, county_code, year, report_id))
INTO NAME metric VALUE value;
