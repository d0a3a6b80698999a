-- sscard schema v4: each library network (operator) sets its own loan limit and loan period
-- (DESIGN §3.5). A network without a row lends 10 items for 30 days. Same SQL on SQLite and PostgreSQL.

CREATE TABLE library_policies (
    operator_code TEXT PRIMARY KEY REFERENCES operators(code),
    loan_limit BIGINT NOT NULL CHECK (loan_limit BETWEEN 1 AND 100),
    loan_days BIGINT NOT NULL CHECK (loan_days BETWEEN 1 AND 365),
    updated_at_ms BIGINT NOT NULL
);
