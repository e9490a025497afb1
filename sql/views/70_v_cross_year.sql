-- v_cross_year: the spec's soft cross-year rules (flag, never fix), per unit and year, current reports only.
--   SR1  this year's 上年结转 = last year's 结转下年度, per column of section 三
--   SR2  gov2021: 现行有效 = last year's 现行有效 + 本年制发 - 本年废止 (amendments break it legitimately)
--   SR3  gov2019: 上一年项目数量 = last year's 上一年项目数量 + 本年增/减
-- Answers: "which units' figures do not carry over from one year to the next?" passed is NULL when a
-- needed cell was not printed.
CREATE OR REPLACE VIEW v_cross_year AS
WITH cur AS (
    SELECT unit_key, unit_name, county, year, template, table_key, row_key, col_key, value, report_id
    FROM v_cells_current
), sr1 AS (
    SELECT 'SR1' AS rule, a.unit_key, a.unit_name, a.county, a.year, a.table_key, a.row_key, a.col_key,
           b.value AS expected, a.value AS actual, a.report_id, b.report_id AS prev_report_id
    FROM cur a JOIN cur b ON b.unit_key = a.unit_key AND b.year = a.year - 1 AND b.table_key = a.table_key
         AND b.col_key = a.col_key AND b.row_key = 'carried_forward'
    WHERE a.table_key = 's3_applications' AND a.row_key = 'carried_over_from_last_year'
), s2 AS (
    SELECT unit_key, any_value(unit_name) AS unit_name, any_value(county) AS county, year,
           any_value(template) AS template, row_key, any_value(report_id) AS report_id,
           max(value) FILTER (WHERE col_key = 'in_force') AS in_force,
           max(value) FILTER (WHERE col_key = 'issued') AS issued,
           max(value) FILTER (WHERE col_key = 'repealed') AS repealed
    FROM cur WHERE table_key = 's2_regulatory_documents' AND template = 'gov2021'
    GROUP BY unit_key, year, row_key
), sr2 AS (
    SELECT 'SR2' AS rule, a.unit_key, a.unit_name, a.county, a.year, 's2_regulatory_documents' AS table_key,
           a.row_key, 'in_force' AS col_key, b.in_force + a.issued - a.repealed AS expected,
           a.in_force AS actual, a.report_id, b.report_id AS prev_report_id
    FROM s2 a JOIN s2 b ON b.unit_key = a.unit_key AND b.year = a.year - 1 AND b.row_key = a.row_key
), items AS (
    SELECT unit_key, any_value(unit_name) AS unit_name, any_value(county) AS county, year, table_key,
           row_key, any_value(report_id) AS report_id,
           max(value) FILTER (WHERE col_key = 'items_last_year') AS last_year,
           max(value) FILTER (WHERE col_key = 'items_change') AS change
    FROM cur WHERE template = 'gov2019' AND col_key IN ('items_last_year', 'items_change')
    GROUP BY unit_key, year, table_key, row_key
), sr3 AS (
    SELECT 'SR3' AS rule, a.unit_key, a.unit_name, a.county, a.year, a.table_key, a.row_key,
           'items_last_year' AS col_key, b.last_year + b.change AS expected, a.last_year AS actual,
           a.report_id, b.report_id AS prev_report_id
    FROM items a JOIN items b ON b.unit_key = a.unit_key AND b.year = a.year - 1
         AND b.table_key = a.table_key AND b.row_key = a.row_key
)
SELECT *, expected = actual AS passed FROM (
    SELECT * FROM sr1 UNION ALL SELECT * FROM sr2 UNION ALL SELECT * FROM sr3
);
