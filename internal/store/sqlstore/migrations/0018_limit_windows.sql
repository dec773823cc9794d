-- Issue 19: rate budgets and the brute-force lockout shared by replicas on
-- one PostgreSQL. A row is one scope's (a budget or a source's attempts)
-- use in one fixed window (start in Unix milliseconds); replicas reserve
-- leases from it with one atomic upsert. A block is a row whose
-- window_start is the instant it ends. SQLite has one process, which
-- keeps its limits in memory: the table stays empty there.
CREATE TABLE limit_windows (
    scope TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    used BIGINT NOT NULL,
    granted BIGINT NOT NULL,
    PRIMARY KEY (scope, window_start)
);
