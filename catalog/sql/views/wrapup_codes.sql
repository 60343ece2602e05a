-- One row per wrap-up code the lookups sync has seen, in its latest known version (docs/query.md,
-- "Lookups"). deleted: the code is missing from the latest snapshot (Genesys lists no deleted code);
-- snapshot_date: the latest snapshot holding this version.
SELECT
    v.id AS wrapup_code_id,
    v.name AS wrapup_code_name,
    v.description AS description,
    v.division.id AS division_id,
    v.snapshot_date < v.latest_snapshot AS deleted,
    CAST(v.snapshot_date AS DATE) AS snapshot_date
FROM (
    SELECT
        s.*,
        row_number() OVER (PARTITION BY s.id ORDER BY s.snapshot_date DESC) AS newest_first,
        max(s.snapshot_date) OVER () AS latest_snapshot
    FROM wrapup_codes_snapshots AS s
    WHERE s.id IS NOT NULL
) AS v
WHERE v.newest_first = 1
