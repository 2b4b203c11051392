"""Parquet tables with declared, versioned schemas, and atomic writes.

Every stage writes its outputs through :func:`atomic_path`, so a failed stage leaves nothing
half-written, and reads its inputs through :func:`read_table`, which validates them against the
schema the producing stage declared.
"""

import contextlib
import json
import os
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq


class RadisError(Exception):
    """An error in the user's input or params, reported as one line without a traceback."""


@dataclass(frozen=True)
class Schema:
    """A named, versioned table layout.

    Attributes:
        name: Schema name, stored in the Parquet metadata.
        version: Bumped whenever a field changes meaning or type.
        fields: Column name to Arrow type, in column order.
    """

    name: str
    version: int
    fields: Mapping[str, pa.DataType]

    def arrow(self) -> pa.Schema:
        """The Arrow schema with the name and version in its metadata."""
        meta = {"radis.schema": self.name, "radis.schema_version": str(self.version)}
        return pa.schema(list(self.fields.items()), metadata=meta)


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary sibling of ``path``; rename it onto ``path`` only on success.

    Works for files and directories alike. On an exception the temporary path is removed and the
    previous ``path`` (if any) is left untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    _remove(tmp)
    try:
        yield tmp
        if path.is_dir() and tmp.is_dir():
            _remove(path)
        os.replace(tmp, path)
    finally:
        _remove(tmp)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def write_table(rows: pd.DataFrame | list[dict], path: str | Path, schema: Schema) -> None:
    """Write ``rows`` as Parquet under ``schema``, atomically.

    Raises:
        RadisError: If a schema column is missing from ``rows``.
    """
    df = pd.DataFrame(rows, columns=list(schema.fields)) if isinstance(rows, list) else rows
    missing = [c for c in schema.fields if c not in df.columns]
    if missing:
        raise RadisError(
            f"{path}: cannot write schema {schema.name!r}, missing column(s) {missing}"
        )
    table = pa.Table.from_pandas(
        df[list(schema.fields)], schema=schema.arrow(), preserve_index=False
    )
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)


def read_table(path: str | Path, schema: Schema, allow_empty: bool = False) -> pd.DataFrame:
    """Read and validate a Parquet table written under ``schema``.

    Raises:
        RadisError: If the file is missing, unreadable, has another schema or version, lacks a
            column, has a column of the wrong type or a null in a text column, or (unless
            ``allow_empty``) has no rows.
    """
    path = Path(path)
    if not path.is_file():
        raise RadisError(f"{path}: file not found (run the stage that produces it: dvc repro)")
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as err:
        raise RadisError(f"{path}: not a readable Parquet file ({err})") from None
    meta = table.schema.metadata or {}
    name = meta.get(b"radis.schema", b"").decode()
    version = meta.get(b"radis.schema_version", b"").decode()
    if name and (name != schema.name or version != str(schema.version)):
        raise RadisError(
            f"{path}: schema {name!r} v{version}, expected {schema.name!r} v{schema.version}"
        )
    for col, typ in schema.fields.items():
        if col not in table.column_names:
            raise RadisError(f"{path}: missing column {col!r} (schema {schema.name!r})")
        found = table.schema.field(col).type
        if _kind(found) != _kind(typ):
            raise RadisError(f"{path}: column {col!r} has type {found}, expected {typ}")
        nulls = table.column(col).null_count
        if nulls and _kind(typ) == "string":
            raise RadisError(
                f"{path}: column {col!r} has {nulls} null value(s); schema {schema.name!r} "
                "needs a text in every row"
            )
    if table.num_rows == 0 and not allow_empty:
        raise RadisError(f"{path}: table is empty")
    return table.select(list(schema.fields)).cast(schema.arrow()).to_pandas()


def _kind(typ: pa.DataType) -> str:
    """Coarse type class, so files written by other tools (large_string, int32) still validate."""
    for name, test in (
        ("string", pa.types.is_string),
        ("string", pa.types.is_large_string),
        ("integer", pa.types.is_integer),
        ("float", pa.types.is_floating),
        ("bool", pa.types.is_boolean),
    ):
        if test(typ):
            return name
    return str(typ)


def write_json(data: Mapping, path: str | Path) -> None:
    """Write ``data`` as indented JSON, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")


def read_json(path: str | Path) -> dict:
    """Read a JSON object, with a one-line error if it is missing or malformed."""
    path = Path(path)
    if not path.is_file():
        raise RadisError(f"{path}: file not found")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise RadisError(f"{path}: invalid JSON ({err})") from None
    if not isinstance(data, dict):
        raise RadisError(f"{path}: expected a JSON object")
    return data
