-- One row per routing language the lookups sync has seen, in its latest known version (docs/query.md,
-- "Lookups"): the ids in a segment's requestedLanguageId. deleted: the language is missing from the
-- latest snapshot; snapshot_date: the latest snapshot holding this version.
SELECT
    v.id AS language_id,
    v.name AS language_name,
    v.state AS state,
    v.snapshot_date < v.latest_snapshot AS deleted,
    CAST(v.snapshot_date AS DATE) AS snapshot_date
FROM (
    SELECT
        s.*,
        row_number() OVER (PARTITION BY s.id ORDER BY s.snapshot_date DESC) AS newest_first,
        max(s.snapshot_date) OVER () AS latest_snapshot
    FROM languages_snapshots AS s
    WHERE s.id IS NOT NULL
) AS v
WHERE v.newest_first = 1
