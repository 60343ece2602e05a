-- One row per routing skill the lookups sync has seen, in its latest known version (docs/query.md,
-- "Lookups"): the ids in a segment's requestedRoutingSkillIds and a session's activeSkillIds. deleted:
-- the skill is missing from the latest snapshot; snapshot_date: the latest snapshot holding this version.
SELECT
    v.id AS skill_id,
    v.name AS skill_name,
    v.state AS state,
    v.snapshot_date < v.latest_snapshot AS deleted,
    CAST(v.snapshot_date AS DATE) AS snapshot_date
FROM (
    SELECT
        s.*,
        row_number() OVER (PARTITION BY s.id ORDER BY s.snapshot_date DESC) AS newest_first,
        max(s.snapshot_date) OVER () AS latest_snapshot
    FROM skills_snapshots AS s
    WHERE s.id IS NOT NULL
) AS v
WHERE v.newest_first = 1
