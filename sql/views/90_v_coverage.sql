-- v_coverage: every known unit (with a report or a portal) x every year from the earliest to the latest
-- report year in the warehouse: is the report there, how many versions, is it usable?
-- Answers: "which units' reports are missing for which years?" (coverage = 'missing').
CREATE OR REPLACE VIEW v_coverage AS
WITH yrs AS (
    SELECT unnest(generate_series(min(year), max(year))) AS year FROM reports WHERE year IS NOT NULL
), us AS (
    SELECT * FROM units
    WHERE unit_key IN (SELECT unit_key FROM reports) OR unit_key IN (SELECT unit_key FROM portals)
), have AS (
    SELECT unit_key, year, count(*) AS versions, max(report_id) FILTER (WHERE is_current) AS current_report_id,
           max(status) FILTER (WHERE is_current) AS report_status
    FROM reports WHERE year IS NOT NULL GROUP BY unit_key, year
)
SELECT us.unit_key, us.unit_name, us.level, us.county, us.county_code, yrs.year,
       coalesce(have.versions, 0) AS versions, have.current_report_id, have.report_status,
       CASE WHEN have.versions IS NULL THEN 'missing' ELSE 'present' END AS coverage
FROM us CROSS JOIN yrs LEFT JOIN have ON have.unit_key = us.unit_key AND have.year = yrs.year;
