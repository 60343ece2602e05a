"""The lookups' Glue tables on DuckDB: each snapshot under out/.../lookups/<lookup>/snapshot_date=<D>/
read line by line, as Athena reads JSON lines, with the columns catalog.schema gives each lookup.

Every line is checked before DuckDB sees it: a line that is not a JSON object with an `id` (truncated,
NaN or Infinity, another value) is skipped and named with its file and line number, never failing the
rest, and a file in a folder that is not snapshot_date=YYYY-MM-DD is skipped whole. A lookup without
any snapshot is an empty table, so the views read it as "no names yet".
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any, Final

import duckdb

from catalog import schema, sqlsource
from genesys_bridge import layout

LINE: Final = "line"  # SkippedFile.kind of a lookup's line (a conversation object's is "file")


def _not_json_constant(name: str) -> Any:
    raise ValueError(f"{name}, which JSON does not allow")


def line_problem(line: str) -> str | None:
    """Why a snapshot line is no entity, or None when it is one."""
    try:
        entity = json.loads(line, parse_constant=_not_json_constant)
    except json.JSONDecodeError:
        return "not JSON (truncated or corrupt)"
    except ValueError as error:
        return f"NaN or Infinity ({error})"
    if not isinstance(entity, dict):
        return "not a JSON object"
    if not isinstance(entity.get("id"), str) or not entity["id"]:
        return "no id"
    return None


def snapshot_lines(out_dir: Path, lookup: str) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    """(line, snapshot_date, path) of every usable line of the lookup's snapshots under out_dir, and
    (where, why) of every line or file skipped."""
    dataset = layout.lookup_dataset(lookup)
    folder = re.compile(rf"{dataset.partition_column}=(.*)")
    rows: list[tuple[str, str, str]] = []
    skipped: list[tuple[str, str]] = []
    for path in sorted(out_dir.glob(dataset.local_glob())):
        match = folder.fullmatch(path.parent.name)
        try:
            day = date.fromisoformat(match[1]).isoformat() if match else ""
        except ValueError:
            day = ""
        if not match or day != match[1]:
            skipped.append((str(path), f"its folder is not {dataset.partition_column}=YYYY-MM-DD"))
            continue
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            skipped.append((str(path), "not UTF-8 text"))
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            problem = line_problem(line)
            if problem is None:
                rows.append((line, day, str(path)))
            else:
                skipped.append((f"{path}:{number}", problem))
    return rows, skipped


def load(connection: duckdb.DuckDBPyConnection, out_dir: Path) -> list[tuple[str, str]]:
    """Create every lookup's table from its snapshots under out_dir; (where, why) of what was skipped."""
    skipped: list[tuple[str, str]] = []
    for lookup, table in sqlsource.LOOKUP_TABLES.items():
        rows, left_out = snapshot_lines(out_dir, lookup)
        skipped += left_out
        staging = f"{table}_lines"
        connection.execute(f"CREATE TEMP TABLE {staging} (line VARCHAR, day VARCHAR, path VARCHAR)")
        if rows:
            connection.executemany(f"INSERT INTO {staging} VALUES (?, ?, ?)", rows)  # noqa: S608 (our names)
        # json_transform takes its structure as a constant: a literal of our own schema's JSON
        structure = schema.duckdb_structure_json(schema.LOOKUP_ENTITIES[lookup]).replace("'", "''")
        column = layout.lookup_dataset(lookup).partition_column
        connection.execute(
            f"CREATE TABLE {table} AS SELECT unnest(json_transform(line, '{structure}')), "  # noqa: S608
            f'day AS {column}, path AS "$path" FROM {staging}'
        )
        connection.execute(f"DROP TABLE {staging}")
    return skipped
