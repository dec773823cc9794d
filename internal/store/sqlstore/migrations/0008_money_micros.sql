-- Issue 12: money is never a float. Every amount becomes a BIGINT of
-- micro-units (millionths of a dollar), NULL when unknown. Resources, plans,
-- recommendations and actions hold US dollars (every price comes from the
-- AWS catalogue); cost records and anomalies name their currency.
--
-- A resource's monthly cost of 0 was how an unknown price looked before
-- (every EBS volume was 0 because the estimator read attributes discovery
-- never wrote), so it becomes NULL, unknown; the next inventory sweep
-- writes the real estimate. Resource records are rewritten by this
-- migration's backfill with the amount as a Money message.
ALTER TABLE resources ADD COLUMN monthly_cost_micros BIGINT;
UPDATE resources SET monthly_cost_micros = CASE WHEN monthly_cost = 0 THEN NULL ELSE CAST(ROUND(monthly_cost * 1000000) AS BIGINT) END, record = NULL;
ALTER TABLE resources DROP COLUMN monthly_cost;

ALTER TABLE cost_records ADD COLUMN amount_micros BIGINT;
UPDATE cost_records SET amount_micros = CAST(ROUND(amount * 1000000) AS BIGINT);
ALTER TABLE cost_records DROP COLUMN amount;

ALTER TABLE cost_anomalies ADD COLUMN expected_amount_micros BIGINT;
ALTER TABLE cost_anomalies ADD COLUMN actual_amount_micros BIGINT;
ALTER TABLE cost_anomalies ADD COLUMN currency TEXT NOT NULL DEFAULT 'USD';
UPDATE cost_anomalies SET expected_amount_micros = CAST(ROUND(expected_amount * 1000000) AS BIGINT),
  actual_amount_micros = CAST(ROUND(actual_amount * 1000000) AS BIGINT);
ALTER TABLE cost_anomalies DROP COLUMN expected_amount;
ALTER TABLE cost_anomalies DROP COLUMN actual_amount;

ALTER TABLE recommendations ADD COLUMN current_monthly_cost_micros BIGINT;
ALTER TABLE recommendations ADD COLUMN proposed_monthly_cost_micros BIGINT;
ALTER TABLE recommendations ADD COLUMN estimated_monthly_savings_micros BIGINT;
UPDATE recommendations SET current_monthly_cost_micros = CAST(ROUND(current_monthly_cost * 1000000) AS BIGINT),
  proposed_monthly_cost_micros = CAST(ROUND(proposed_monthly_cost * 1000000) AS BIGINT),
  estimated_monthly_savings_micros = CAST(ROUND(estimated_monthly_savings * 1000000) AS BIGINT);
ALTER TABLE recommendations DROP COLUMN current_monthly_cost;
ALTER TABLE recommendations DROP COLUMN proposed_monthly_cost;
ALTER TABLE recommendations DROP COLUMN estimated_monthly_savings;

-- Only succeeded actions realised anything; 0 elsewhere meant "none".
ALTER TABLE actions ADD COLUMN realized_monthly_savings_micros BIGINT;
UPDATE actions SET realized_monthly_savings_micros = CASE WHEN status = 3 THEN CAST(ROUND(realized_monthly_savings * 1000000) AS BIGINT) END;
ALTER TABLE actions DROP COLUMN realized_monthly_savings;

ALTER TABLE action_plans ADD COLUMN estimated_monthly_savings_micros BIGINT;
UPDATE action_plans SET estimated_monthly_savings_micros = CAST(ROUND(estimated_monthly_savings * 1000000) AS BIGINT);
ALTER TABLE action_plans DROP COLUMN estimated_monthly_savings;
