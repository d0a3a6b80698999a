-- sscard schema v10: a service point's cash account is its prepaid float and never goes
-- negative (sscard_domain::ledger::AccountKind::may_go_negative). Cash accounts that are not
-- negative now say so in their row; a negative one keeps its old flag, so nothing here fails,
-- and `sscard ledger check` reports it by its kind (the books check judges every cash account
-- by the rule, not by this flag). The balance of an organisation account is its row plus its
-- slots (migration 0005); the row's own balance must not be negative either for the row CHECK.
UPDATE accounts SET may_go_negative = 0
WHERE kind = 'cash'
  AND balance >= 0
  AND balance + COALESCE((SELECT CAST(SUM(s.balance) AS BIGINT) FROM account_slots s WHERE s.account_id = accounts.id), 0) >= 0;
