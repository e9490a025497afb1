-- v_unit_year: one row per unit x year (current reports): the headline figures of sections 二, 三 and 四.
-- Answers: "how many applications did each township get, and how were they handled, year by year?"
-- Counts are the 总计 (total) column of section 三. denied / unavailable / not_processed / other_processed
-- sum their printed sub-rows; rates divide by the printed (七)总计 (total_processed). correction_rate =
-- corrected / decided (upheld + corrected + other_result) over 行政复议 and both 行政诉讼 rows.
-- gov2019 and gov2021 section 二 columns are kept apart (the spec forbids mapping one onto the other).
-- fee_amount and procurement_amount are in 万元; proactive_disclosures comes from the narrative (条).
CREATE OR REPLACE VIEW v_unit_year AS
-- Grouped by the unit/report columns (not by report_id in a CTE) so that a filter such as
-- WHERE county = '…' is pushed below the aggregate and only that county's cells are read.
WITH m AS (
    SELECT u.unit_key, u.unit_name, u.level, u.province, u.prefecture, u.county, u.county_code, u.township,
           r.year, r.template, r.report_id, r.status AS report_status, r.source_url,
        sum(c.value) FILTER (WHERE c.table_key = 's3_applications' AND c.col_key = 'total' AND c.row_key = 'new_requests') AS applications_received,
        sum(c.value) FILTER (WHERE c.table_key = 's3_applications' AND c.col_key = 'total' AND c.row_key = 'carried_over_from_last_year') AS carried_over,
        sum(c.value) FILTER (WHERE c.table_key = 's3_applications' AND c.col_key = 'total' AND c.row_key = 'result_granted') AS granted,
        sum(c.value) FILTER (WHERE c.table_key = 's3_applications' AND c.col_key = 'total' AND c.row_key = 'result_partially_granted') AS partially_granted,
        sum(c.value) FILTER (WHERE c.table_key = 's3_applications' AND c.col_key = 'total' AND starts_with(c.row_key, 'denied_')) AS denied,
        sum(c.value) FILTER (WHERE c.table_key = 's3_applications' AND c.col_key = 'total' AND starts_with(c.row_key, 'unavailable_')) AS unavailable,
        sum(c.value) FILTER (WHERE c.table_key = 's3_applications' AND c.col_key = 'total' AND starts_with(c.row_key, 'not_processed_')) AS not_processed,
        sum(c.value) FILTER (WHERE c.table_key = 's3_applications' AND c.col_key = 'total' AND (starts_with(c.row_key, 'other_') OR c.row_key = 'other_processing')) AS other_processed,
        sum(c.value) FILTER (WHERE c.table_key = 's3_applications' AND c.col_key = 'total' AND c.row_key = 'total_processed') AS total_processed,
        sum(c.value) FILTER (WHERE c.table_key = 's3_applications' AND c.col_key = 'total' AND c.row_key = 'carried_forward') AS carried_forward,
        sum(c.value) FILTER (WHERE c.table_key = 's4_review_litigation' AND c.row_key = 'admin_review' AND c.col_key = 'total') AS reviews,
        sum(c.value) FILTER (WHERE c.table_key = 's4_review_litigation' AND c.row_key = 'admin_review' AND c.col_key = 'corrected') AS reviews_corrected,
        sum(c.value) FILTER (WHERE c.table_key = 's4_review_litigation' AND c.row_key <> 'admin_review' AND c.col_key = 'total') AS litigations,
        sum(c.value) FILTER (WHERE c.table_key = 's4_review_litigation' AND c.row_key <> 'admin_review' AND c.col_key = 'corrected') AS litigations_corrected,
        sum(c.value) FILTER (WHERE c.table_key = 's4_review_litigation' AND c.col_key IN ('upheld', 'corrected', 'other_result')) AS review_litigation_decided,
        sum(c.value) FILTER (WHERE c.table_key = 's4_review_litigation' AND c.col_key = 'corrected') AS review_litigation_corrected,
        sum(c.value) FILTER (WHERE c.table_key = 's2_regulatory_documents' AND c.row_key = 'regulations' AND c.col_key IN ('issued', 'newly_made')) AS regulations_issued,
        sum(c.value) FILTER (WHERE c.table_key = 's2_regulatory_documents' AND c.row_key = 'normative_documents' AND c.col_key = 'issued') AS normative_issued,
        sum(c.value) FILTER (WHERE c.table_key = 's2_regulatory_documents' AND c.row_key = 'normative_documents' AND c.col_key = 'repealed') AS normative_repealed,
        sum(c.value) FILTER (WHERE c.table_key = 's2_regulatory_documents' AND c.row_key = 'normative_documents' AND c.col_key = 'in_force') AS normative_in_force,
        sum(c.value) FILTER (WHERE c.table_key = 's2_regulatory_documents' AND c.row_key = 'normative_documents' AND c.col_key = 'newly_made') AS normative_newly_made,
        sum(c.value) FILTER (WHERE c.table_key = 's2_regulatory_documents' AND c.row_key = 'normative_documents' AND c.col_key = 'total_published') AS normative_total_published,
        sum(c.value) FILTER (WHERE c.table_key = 's2_licensing' AND c.row_key = 'administrative_licensing' AND c.col_key = 'decisions') AS licensing_decisions,
        sum(c.value) FILTER (WHERE c.table_key = 's2_penalty_coercion' AND c.row_key = 'administrative_penalty' AND c.col_key = 'decisions') AS penalty_decisions,
        sum(c.value) FILTER (WHERE c.table_key = 's2_penalty_coercion' AND c.row_key = 'administrative_coercion' AND c.col_key = 'decisions') AS coercion_decisions,
        sum(c.value) FILTER (WHERE c.table_key = 's2_fees' AND c.col_key = 'fee_amount') AS fee_amount,
        sum(c.value) FILTER (WHERE c.table_key = 's2_procurement' AND c.col_key = 'procurement_amount') AS procurement_amount
    FROM reports r
    JOIN units u ON u.unit_key = r.unit_key
    LEFT JOIN cells c ON c.report_id = r.report_id
    WHERE r.is_current AND r.year IS NOT NULL
    GROUP BY ALL
), n AS (
    SELECT report_id, max(value) FILTER (WHERE metric = 'proactive_items_total') AS proactive_disclosures
    FROM narrative GROUP BY report_id
)
SELECT m.unit_key, m.unit_name, m.level, m.province, m.prefecture, m.county, m.county_code, m.township,
       m.year, m.template, m.report_id, m.report_status, m.source_url,
       m.applications_received::BIGINT AS applications_received, m.carried_over::BIGINT AS carried_over,
       m.granted::BIGINT AS granted, m.partially_granted::BIGINT AS partially_granted,
       m.denied::BIGINT AS denied, m.unavailable::BIGINT AS unavailable,
       m.not_processed::BIGINT AS not_processed, m.other_processed::BIGINT AS other_processed,
       m.total_processed::BIGINT AS total_processed, m.carried_forward::BIGINT AS carried_forward,
       round(m.granted / nullif(m.total_processed, 0), 4)::DOUBLE AS granted_rate,
       round(m.partially_granted / nullif(m.total_processed, 0), 4)::DOUBLE AS partially_granted_rate,
       round(m.denied / nullif(m.total_processed, 0), 4)::DOUBLE AS denied_rate,
       round(m.unavailable / nullif(m.total_processed, 0), 4)::DOUBLE AS unavailable_rate,
       round(m.not_processed / nullif(m.total_processed, 0), 4)::DOUBLE AS not_processed_rate,
       m.reviews::BIGINT AS reviews, m.reviews_corrected::BIGINT AS reviews_corrected,
       m.litigations::BIGINT AS litigations, m.litigations_corrected::BIGINT AS litigations_corrected,
       round(m.review_litigation_corrected / nullif(m.review_litigation_decided, 0), 4)::DOUBLE AS correction_rate,
       n.proactive_disclosures::BIGINT AS proactive_disclosures,
       m.regulations_issued::BIGINT AS regulations_issued, m.normative_issued::BIGINT AS normative_issued,
       m.normative_repealed::BIGINT AS normative_repealed, m.normative_in_force::BIGINT AS normative_in_force,
       m.normative_newly_made::BIGINT AS normative_newly_made,
       m.normative_total_published::BIGINT AS normative_total_published,
       m.licensing_decisions::BIGINT AS licensing_decisions, m.penalty_decisions::BIGINT AS penalty_decisions,
       m.coercion_decisions::BIGINT AS coercion_decisions,
       m.fee_amount::DECIMAL(18, 4) AS fee_amount, m.procurement_amount::DECIMAL(18, 4) AS procurement_amount
FROM m
LEFT JOIN n ON n.report_id = m.report_id;
