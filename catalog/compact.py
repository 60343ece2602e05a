"""`python -m catalog.compact --out DIR [--day YYYY-MM-DD]` (`make compact ARGS=...`): each day's landed JSON
objects in a folder that mirrors the results bucket rewritten whole as Parquet (ZSTD) by DuckDB, in the
steps and with the marker of genesys_bridge.compaction, with the compaction's SQL of catalog.sqlsource
(the SELECT Athena's UNLOAD runs in the deployed audit workflow). Without --day, every day whose
landed objects changed since its last compaction (or that has none): a second run compacts nothing.

Also the in-process audit workflow's stand-in for that Athena query (BucketCompaction): the same
compaction of one day of a bucket, for the local runner, the tests and `make backfill` in process.

Exit status: 0 done (one line per day compacted); 2 bad input, one line: a --day that is not a day or
has no landed objects, an --out that holds none or whose path has a glob character.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import sqlglot
from sqlglot import exp

from catalog import dialect, local, sqlsource
from genesys_bridge import compaction, layout
from genesys_bridge.compaction import StoredFile
from ops.cli_options import OneLineParser, iso_day

if TYPE_CHECKING:
    from genesys_bridge.audit.model import AuditState
    from genesys_bridge.audit.plan import Query

DEFAULT_OUT = Path("out/demo")
DOWNLOAD_WORKERS = 8


class FolderStore:
    """genesys_bridge.compaction.CompactionStore over a folder that mirrors the results bucket."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def landed_files(self, day: date) -> list[StoredFile]:
        return _stored(self.folder / layout.day_prefix(day), f"*{layout.CONVERSATIONS.suffix}")

    def compacted_files(self, day: date) -> list[StoredFile]:
        return [
            StoredFile(layout.compacted_name(dataset, item.name), item.size, item.modified)
            for dataset in layout.COMPACTED_DATASETS
            for item in _stored(self.folder / dataset.day_prefix(day))
            if layout.is_data_file(item.name)
        ]

    def delete_compaction_marker(self, day: date) -> None:
        (self.folder / layout.compaction_marker_key(day)).unlink(missing_ok=True)

    def delete_compacted_files(self, day: date) -> int:
        files = [
            path
            for dataset in layout.COMPACTED_DATASETS
            for path in (self.folder / dataset.day_prefix(day)).glob("*")
            if path.is_file()
        ]
        for path in files:
            path.unlink()
        return len(files)

    def put_compaction_marker(self, day: date, marker: Mapping[str, Any]) -> None:
        path = self.folder / layout.compaction_marker_key(day)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.partial")  # a hidden name no reader takes
        partial.write_text(compaction_json(marker), encoding="utf-8")
        os.replace(partial, path)  # the marker appears whole or not at all

    def get_compaction_marker(self, day: date) -> Any:
        return local.read_marker(self.folder, day)


def compaction_json(marker: Mapping[str, Any]) -> str:
    return json.dumps(marker, separators=(",", ":"), sort_keys=True)


def _stored(folder: Path, pattern: str = "*") -> list[StoredFile]:
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.glob(pattern)):
        if path.is_file():
            stat = path.stat()
            found.append(StoredFile(path.name, stat.st_size, datetime.fromtimestamp(stat.st_mtime, UTC)))
    return found


def write_day(folder: Path, day: date, out: Path) -> dict[str, Any]:
    """Step 3 with DuckDB: for `day`, each compacted dataset's SELECT (catalog.sqlsource.compaction_select)
    over the landed objects under `folder`, written as Parquet (ZSTD) without the partition column, as
    Athena's partitioned UNLOAD writes it, to its key (layout.compacted_key) under `out`. The flat
    datasets are read from the day's conversations as written (Athena reads them back from the Parquet:
    the same rows). Returns the rows written and the landed files skipped (not conversation objects)."""
    partition = layout.COMPACTED.partition_column
    with local.connect(folder, lock=False, days=[day]) as catalog:

        def select(sql: str) -> str:
            tree = sqlglot.parse_one(sql, read=dialect.SOURCE_DIALECT)
            tree = tree.transform(
                lambda node: (
                    exp.Literal.string(day.isoformat()) if isinstance(node, exp.Placeholder) else node
                )
            )
            return catalog.translate(tree)

        def copy(relation: str, dataset: layout.Dataset) -> None:
            target = out / layout.compacted_key(day, dataset=dataset)
            target.parent.mkdir(parents=True, exist_ok=True)
            catalog.connection.execute(
                f"COPY (SELECT * EXCLUDE ({partition}) FROM {relation}) TO {dialect.quote(str(target))} "  # noqa: S608
                "(FORMAT PARQUET, COMPRESSION ZSTD)"
            )

        # Written from a table: DuckDB's Parquet writer is far slower fed straight from json_transform.
        catalog.connection.execute(f"CREATE TEMP TABLE day_rows AS {select(sqlsource.compaction_select())}")
        copy("day_rows", layout.COMPACTED)
        for flat in sqlsource.FLAT.values():
            # the day's conversations from the table above, not read back from the Parquet just written
            copy(f"({select(sqlsource.compaction_select(flat.dataset, compacted='day_rows'))})", flat.dataset)
        (rows,) = catalog.connection.execute("SELECT count(*) FROM day_rows").fetchone() or (0,)
        skipped = [{"name": Path(file.path).name, "reason": file.reason} for file in catalog.skipped]
    return {"rows": int(rows), "skipped": skipped}


def compact_day(folder: Path, day: date, *, now: datetime | None = None) -> dict[str, Any]:
    """One day of a folder compacted in genesys_bridge.compaction's four steps; returns its marker."""
    store = FolderStore(folder)
    landed = store.landed_files(day)  # what the query will read, listed before it runs
    compaction.clear(store, day)
    written = write_day(folder, day, folder)
    return compaction.commit(
        store,
        day,
        landed=compaction.landed_summary(landed),
        engine=compaction.DUCKDB,
        compacted_at=now or datetime.now(UTC),
        details=written,
    )


def stale_days(folder: Path) -> list[date]:
    """The landed days whose objects are not what their marker says the last compaction read (or that
    have no marker)."""
    store = FolderStore(folder)
    found = local.survey(folder)
    return [
        day
        for day in sorted(found.landed)
        if (found.markers.get(day) or {}).get("landed_fingerprint")
        != compaction.fingerprint(store.landed_files(day))
    ]


class BucketCompaction:
    """The compaction query of the in-process audit workflow (genesys_bridge.audit.workflow.QueryRunner):
    where the state machine has Athena run the UNLOAD, this copies the day's landed objects from the
    bucket to a scratch folder (keeping their modification times), writes the day with write_day and
    puts each dataset's file where its UNLOAD puts its files. The workflow's own steps clear and commit
    the day."""

    def __init__(self, s3_client: Any, bucket: str, *, workers: int = DOWNLOAD_WORKERS) -> None:
        self._s3 = s3_client
        self._bucket = bucket
        self._workers = workers

    def __call__(self, query: Query, state: AuditState) -> dict[str, Any]:
        from genesys_bridge.audit.plan import Query

        if query is not Query.COMPACTION:
            raise ValueError(f"no query runner for {query}")
        day = date.fromisoformat(str((state.compaction_parameters or [""])[0]).strip("'"))
        with tempfile.TemporaryDirectory(prefix="compaction-") as scratch:
            folder = Path(scratch)
            self._download(day, folder)
            written = write_day(folder, day, folder)
            for dataset in layout.COMPACTED_DATASETS:
                key = layout.compacted_key(day, dataset=dataset)
                self._s3.put_object(
                    Bucket=self._bucket,
                    Key=key,
                    Body=(folder / key).read_bytes(),
                    ContentType=dataset.content_type,
                )
        return {"engine": compaction.DUCKDB, **written}

    def _download(self, day: date, folder: Path) -> None:
        paginator = self._s3.get_paginator("list_objects_v2")
        entries = [
            entry
            for page in paginator.paginate(Bucket=self._bucket, Prefix=layout.day_prefix(day))
            for entry in page.get("Contents", [])
            if layout.parse_result_key(entry["Key"]) is not None
        ]

        def fetch(entry: Mapping[str, Any]) -> None:
            path = folder / entry["Key"]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(self._s3.get_object(Bucket=self._bucket, Key=entry["Key"])["Body"].read())
            modified = entry["LastModified"].timestamp()
            os.utime(path, (modified, modified))

        with ThreadPoolExecutor(max_workers=self._workers) as pool:
            list(pool.map(fetch, entries))


# --- the command line ------------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m catalog.compact",
        description="Rewrite each day's landed conversation objects under --out as Parquet (ZSTD), as the "
        "deployed audit workflow does after each audit and finalization; the catalog views then read "
        "those days from Parquet. Without --day, every day changed since its last compaction.",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help=f"a folder that mirrors the results bucket ({DEFAULT_OUT})",
    )
    parser.add_argument("--day", type=iso_day, help="compact this day (YYYY-MM-DD), changed or not")
    return parser


def main(argv: Sequence[str] | None = None, stdout: TextIO | None = None) -> int:
    out = stdout or sys.stdout
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        found = local.survey(args.out)
    except local.FolderRefused as error:
        parser.error(str(error))
    if not found.landed:
        parser.error(
            f"no landed conversation objects under {args.out / layout.CONVERSATIONS.prefix} "
            f"({layout.CONVERSATIONS.local_glob()}): run `make demo` first, or name a folder that holds them"
        )
    if args.day is not None and args.day not in found.landed:
        parser.error(f"--day {args.day}: no landed conversation objects for that day under {args.out}")
    days = [args.day] if args.day is not None else stale_days(args.out)
    rows = 0
    for day in days:
        marker = compact_day(args.out, day)
        rows += int(marker.get("rows", 0))
        size = sum(item["bytes"] for item in marker["files"])
        print(
            f"compacted {day}: {marker['landed_objects']} landed objects -> {marker.get('rows', 0)} rows, "
            f"{size:,} bytes of Parquet; {len(marker.get('skipped') or [])} skipped",
            file=out,
        )
    done = f"{len(days)} day(s) compacted, {rows} rows"
    print(done if days else "nothing to compact: every landed day is compacted and unchanged since", file=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
