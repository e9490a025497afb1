-- v_quality: everything suspicious about a report, one row per reason. Data are loaded as printed; this is
-- where source errors and extraction doubts become visible:
--   check        a failing extractor check (H1-H6, per-report soft rules) with expected vs printed
--   cell         a cell whose status is not a clean reading (layout_suspect, missing, unparsed) or that
--                carries flags (fuzzy_label, realigned, value_overflow ...)
--   negative     a negative count (only gov2019 本年增/减 may be negative)
--   large        an implausibly large count for the unit's level: > 5000 for a township (a 乡级 unit has
--                ~10,000-100,000 residents; 5000 applications would be one per few households), > 50000
--                for a county, > 100000 otherwise (amounts in 万元 excluded). No population table is
--                available offline, so the level stands in for it.
--   SR5          a county or township reporting 规章 (they have no power to make them)
--   cross_year   a failing soft cross-year rule from v_cross_year (SR1-SR3)
--   unit         the publishing unit could not be placed in the hierarchy (with the candidate count)
--   report       the report has no year or no tables
-- Answers: "which reports and cells should I not trust blindly, and why?" Superseded versions included
-- (is_current says which).
CREATE OR REPLACE VIEW v_quality AS
WITH rc AS (
    SELECT r.report_id, r.is_current, r.unit_key, u.unit_name, u.level, u.county, r.year, r.source_url
    FROM reports r JOIN units u ON u.unit_key = r.unit_key
), c AS (
    SELECT rc.*, x.table_key, x.row_key, x.col_key, x.value, x.raw, x.status, x.flags
    FROM cells x JOIN rc USING (report_id)
)
SELECT rc.*, 'check' AS kind, k.rule, NULL AS table_key, k.scope AS row_key, NULL AS col_key, k.actual AS value,
       k.rule || ' ' || coalesce(k.scope, '') || ': expected ' || coalesce(k.expected::VARCHAR, '?')
         || ', printed ' || coalesce(k.actual::VARCHAR, '?')
         || CASE WHEN coalesce(k.detail, '') <> '' THEN ' (' || k.detail || ')' ELSE '' END AS reason
FROM checks k JOIN rc USING (report_id) WHERE k.passed = FALSE
UNION ALL
SELECT report_id, is_current, unit_key, unit_name, level, county, year, source_url, 'cell', status, table_key,
       row_key, col_key, value,
       'cell ' || status || CASE WHEN len(flags) > 0 THEN ' [' || array_to_string(flags, ',') || ']' ELSE '' END
         || ' raw=' || coalesce(raw, '')
FROM c WHERE status IN ('layout_suspect', 'missing', 'unparsed') OR len(flags) > 0
UNION ALL
SELECT report_id, is_current, unit_key, unit_name, level, county, year, source_url, 'negative', 'H5', table_key,
       row_key, col_key, value, 'negative count printed: ' || coalesce(raw, value::VARCHAR)
FROM c WHERE value < 0 AND col_key <> 'items_change'
UNION ALL
SELECT report_id, is_current, unit_key, unit_name, level, county, year, source_url, 'large', 'plausibility',
       table_key, row_key, col_key, value, 'implausibly large count for a ' || coalesce(level, 'unit') || ' printed: '
         || coalesce(raw, value::VARCHAR)
FROM c WHERE col_key NOT IN ('fee_amount', 'procurement_amount')
             AND value > CASE level WHEN 'township' THEN 5000 WHEN 'county' THEN 50000 ELSE 100000 END
UNION ALL
SELECT report_id, is_current, unit_key, unit_name, level, county, year, source_url, 'SR5', 'SR5', table_key,
       row_key, col_key, value, 'a ' || level || ' reports 规章 (' || col_key || ' = ' || value::VARCHAR
         || '): units below 设区的市 cannot make 规章'
FROM c WHERE table_key = 's2_regulatory_documents' AND row_key = 'regulations' AND value > 0
             AND level IN ('county', 'township')
UNION ALL
SELECT x.report_id, rc.is_current, x.unit_key, x.unit_name, rc.level, x.county, x.year, rc.source_url,
       'cross_year', x.rule, x.table_key, x.row_key, x.col_key, x.actual,
       x.rule || ': expected ' || x.expected::VARCHAR || ' from ' || (x.year - 1)::VARCHAR || ', printed '
         || x.actual::VARCHAR
FROM v_cross_year x JOIN rc USING (report_id) WHERE x.passed = FALSE
UNION ALL
SELECT rc.*, 'unit', u.resolution, NULL, NULL, NULL, NULL,
       'unit unresolved: ' || coalesce(u.candidates::VARCHAR || ' gazetteer candidates', 'no gazetteer match')
         || ' for ' || u.unit_name
FROM rc JOIN units u USING (unit_key) WHERE u.resolution = 'unresolved'
UNION ALL
SELECT rc.*, 'report', r.status, NULL, NULL, NULL, NULL,
       CASE r.status WHEN 'no_year' THEN 'report year unknown' ELSE 'no table cells extracted' END
FROM rc JOIN reports r USING (report_id) WHERE r.status IN ('no_year', 'no_tables');
