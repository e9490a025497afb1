-- v_cells_current: every cell of every current report (newest version of each unit x year), with the unit's
-- place in the hierarchy and the document it came from.
-- Answers: "what did unit X print in table T, row R, column C for year Y, and where exactly is it from?"
-- value is NULL unless a number was printed (status says why: blank, dash, missing, unparsed ...).
CREATE OR REPLACE VIEW v_cells_current AS
SELECT u.unit_key, u.unit_name, u.level, u.province, u.prefecture, u.county, u.county_code, u.township,
       r.year, r.template, c.section, c.table_key, c.row_key, c.col_key, c.value, c.raw, c.status, c.flags,
       c.raw_row_label, c.raw_col_label, r.report_id, r.version, r.sha256, r.source_url, r.extractor_version
FROM cells c
JOIN reports r ON r.report_id = c.report_id AND r.is_current
JOIN units u ON u.unit_key = r.unit_key;
