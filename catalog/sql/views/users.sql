-- One row per user the lookups sync has seen (deleted users included: the sync lists state=any), in
-- the latest known version (docs/query.md, "Lookups"). deleted: Genesys says the user is deleted, or
-- the user is missing from the latest snapshot; snapshot_date: the latest snapshot holding this version.
SELECT
    v.id AS user_id,
    v.name AS user_name,
    v.email AS email,
    v.username AS username,
    v.title AS title,
    v.department AS department,
    v.division.id AS division_id,
    v.division.name AS division_name,
    v.state AS state,
    coalesce(v.state = 'deleted', false) OR v.snapshot_date < v.latest_snapshot AS deleted,
    CAST(v.snapshot_date AS DATE) AS snapshot_date
FROM (
    SELECT
        s.*,
        row_number() OVER (PARTITION BY s.id ORDER BY s.snapshot_date DESC) AS newest_first,
        max(s.snapshot_date) OVER () AS latest_snapshot
    FROM users_snapshots AS s
    WHERE s.id IS NOT NULL
) AS v
WHERE v.newest_first = 1
