"""A class in one file: ``python -m cnn class export class.zip`` / ``python -m cnn class import class.zip``.

A teacher archives a year, or moves a class to another machine (SQLite to PostgreSQL and back): the
archive holds the class database's rows (identities with their names and languages, runs with their
curves, models with their metadata, students' datasets with every example, the challenge) and every
model file (``blobs/<sha256>``). Teacher grants (signed by one server's key),
passphrase attempts and server beats stay behind.

An import checks the whole archive before it writes anything: its format and schema, every entry's
name and size (no path leaves its place, no zip bomb), each file against its SHA-256, each model
file as :func:`cnn.keras_files.inspect_archive` does (no code-carrying layers), each dataset example as an
image of its dataset's size, each row's columns and values. Everything goes in one transaction; a
name the class database already has with other content refuses the import. Any refusal is one line
and changes nothing.
"""
from __future__ import annotations

import base64
import json
import os
import re
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

from cnn import blobs, keras_files, store, userdata, userdata_zip
from cnn import db as dbm
from cnn.errors import LabError

FORMAT = "cnnlab-class"
VERSION = 1
# What a class is, table by table: its key columns (an existing row with the same key must be the same row).
TABLES = {"identities": ("id",), "runs": ("id",), "models": ("name",), "datasets": ("name",),
          "dataset_examples": ("dataset", "id"), "challenge": ("id",)}
SINGULAR = {"identities": "identity", "runs": "run", "models": "model", "datasets": "dataset",
            "dataset_examples": "dataset example", "challenge": "challenge"}
BINARY = {"dataset_examples": ("png",)}  # bytes columns, as base64 text in the archive
MAX_ARCHIVE_BYTES = 4 * 2**30
MAX_ENTRIES = 100_000
MAX_TOTAL = 8 * 2**30  # uncompressed, all entries
MAX_ROWS_BYTES = 512 * 2**20  # one table's rows, uncompressed
MAX_RATIO = 1000  # uncompressed / compressed size of one large entry: beyond this it is a zip bomb
ENTRY = re.compile(r"^(class\.json|tables/[a-z_]+\.jsonl|blobs/[0-9a-f]{64})$")


class ClassFileError(LabError, ValueError):
    """A class archive could not be written or was refused; the one-line message says why."""


# ---------------------------------------------------------------- export


def export(path: Path, database: dbm.Database | None = None) -> dict[str, int]:
    """Write the class to ``path`` (a .zip); returns how many rows, files and datasets it holds."""
    database = database or dbm.database()
    counts: dict[str, int] = {}
    if not path.parent.is_dir():
        raise ClassFileError(f"cannot write {path}: no folder {path.parent}")
    fd, name = tempfile.mkstemp(prefix=".tmp-", suffix=".zip", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
            shas: set[str] = set()
            for table in TABLES:
                rows = database.query(f"SELECT * FROM {table}")
                if table == "models":
                    rows = [r for r in rows if r.get("blob")]  # deleted models stay behind (no file)
                    shas |= {r["blob"] for r in rows}
                for column in BINARY.get(table, ()):
                    rows = [{**r, column: base64.b64encode(bytes(r[column])).decode()} for r in rows]
                z.writestr(f"tables/{table}.jsonl", "".join(dbm.dumps(r) + "\n" for r in rows))
                counts[table] = len(rows)
            for sha in sorted(shas):
                data = blobs.get(database, sha)
                if data is None:
                    raise ClassFileError(f"the class database lost the file {sha[:12]}… of a model; nothing written")
                z.writestr(f"blobs/{sha}", data)
            counts["files"] = len(shas)
            z.writestr("class.json", json.dumps({"format": FORMAT, "version": VERSION,
                                                 "schema": database.schema_version(), "counts": counts,
                                                 "exported": time.strftime("%Y-%m-%d %H:%M:%S")}, indent=1))
        tmp.replace(path)
    except OSError as e:
        raise ClassFileError(f"cannot write {path}: {e.strerror or e}") from None
    finally:
        tmp.unlink(missing_ok=True)
    return counts


# ---------------------------------------------------------------- import


def _open(path: Path) -> zipfile.ZipFile:
    try:
        size = path.stat().st_size
    except OSError as e:
        raise ClassFileError(f"cannot read {path}: {e.strerror or e}") from None
    if size > MAX_ARCHIVE_BYTES:
        raise ClassFileError(f"{path.name} is {size / 2**30:.1f} GB; a class archive is at most "
                             f"{MAX_ARCHIVE_BYTES // 2**30} GB")
    try:
        z = zipfile.ZipFile(path)
        infos = z.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ClassFileError(f"{path.name} is not a readable .zip archive") from None
    if len(infos) > MAX_ENTRIES:
        raise ClassFileError(f"{path.name} holds {len(infos):,} entries; a class archive holds at most {MAX_ENTRIES:,}")
    if sum(i.file_size for i in infos) > MAX_TOTAL:
        raise ClassFileError(f"{path.name} unpacks to more than {MAX_TOTAL // 2**30} GB (a zip bomb?)")
    for info in infos:
        if not ENTRY.match(info.filename):
            raise ClassFileError(f"{path.name} holds '{info.filename[:80]}', which no class archive holds; refused")
        if info.file_size > 2**20 and info.compress_size and info.file_size / info.compress_size > MAX_RATIO:
            raise ClassFileError(f"'{info.filename[:80]}' unpacks to {info.file_size / 2**20:.0f} MB from "
                                 f"{info.compress_size:,} bytes (a zip bomb?); refused")
    return z


def _read(z: zipfile.ZipFile, name: str, limit: int) -> bytes:
    """An entry's bytes, never more than ``limit`` whatever its header claims."""
    try:
        with z.open(name) as f:
            data = f.read(limit + 1)
    except (KeyError, zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
        raise ClassFileError(f"'{name}' cannot be read from the archive ({e})") from None
    if len(data) > limit:
        raise ClassFileError(f"'{name}' unpacks to more than {limit // 2**20} MB; refused")
    return data


def _rows(z: zipfile.ZipFile, table: str, columns: dict[str, bool]) -> list[dict[str, Any]]:
    """The rows of one table, each checked: known columns only, plain values, JSON columns that parse."""
    name = f"tables/{table}.jsonl"
    if name not in z.namelist():
        return []
    rows = []
    for n, line in enumerate(_read(z, name, MAX_ROWS_BYTES).decode("utf-8", "replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError:
            raise ClassFileError(f"{name}, line {n}: not a JSON row") from None
        if not isinstance(row, dict):
            raise ClassFileError(f"{name}, line {n}: not a row")
        unknown = set(row) - set(columns)
        if unknown:
            raise ClassFileError(f"{name}, line {n}: unknown column {sorted(unknown)[0]!r}")
        for key, value in row.items():
            if not (value is None or isinstance(value, (str, int, float))) or isinstance(value, bool):
                raise ClassFileError(f"{name}, line {n}: column {key!r} holds a {type(value).__name__}")
            if value is None and not columns[key]:
                raise ClassFileError(f"{name}, line {n}: column {key!r} may not be empty")
        for key in TABLES[table]:
            if row.get(key) in (None, ""):
                raise ClassFileError(f"{name}, line {n}: no {key}")
        rows.append(row)
    return rows


def _check_model_file(name: str, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{name}.keras"
        path.write_bytes(data)
        try:
            keras_files.inspect_archive(path)
        except store.StoreError as e:
            raise ClassFileError(f"model '{name}' refused: {e}") from None


def _check_example(row: dict[str, Any], shapes: dict[str, Any], database: dbm.Database) -> None:
    """A dataset example: PNG bytes (base64 in the archive) of an image of its dataset's size."""
    name = str(row["dataset"])
    shape = shapes.get(name)
    if shape is None:
        found = database.query("SELECT image_shape FROM datasets WHERE name = ?", (name,))
        shape = found[0]["image_shape"] if found else None
    try:
        size = tuple(int(x) for x in json.loads(shape))
        raw = base64.b64decode(str(row["png"]), validate=True)
    except (TypeError, ValueError):
        raise ClassFileError(f"an example of dataset '{name}' is not an image of a known dataset") from None
    if len(raw) > userdata_zip.MAX_ENTRY_BYTES:
        raise ClassFileError(f"an example of dataset '{name}' is {len(raw) / 2**20:.0f} MB; refused")
    try:
        userdata.check_png(raw, size)
    except userdata.UserDataError as e:
        raise ClassFileError(f"an example of dataset '{name}' refused: {e}") from None
    row["png"] = raw


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return all(a.get(k) == b.get(k) or (isinstance(a.get(k), (int, float)) and isinstance(b.get(k), (int, float))
                                        and abs(float(a[k]) - float(b[k])) < 1e-6) for k in a)


def import_(path: Path, database: dbm.Database | None = None) -> dict[str, int]:
    """Bring a class archive into the class database; returns how many rows and model files were added.
    ClassFileError, with nothing changed, for anything it refuses."""
    import sqlalchemy as sa

    database = database or dbm.database()
    z = _open(path)
    try:
        head = json.loads(_read(z, "class.json", 2**20))
    except ClassFileError:
        raise ClassFileError(f"{path.name} is not a CNN Lab class archive (no class.json)") from None
    except ValueError:
        raise ClassFileError(f"{path.name}: class.json is not JSON") from None
    if not isinstance(head, dict) or head.get("format") != FORMAT:
        raise ClassFileError(f"{path.name} is not a CNN Lab class archive")
    if head.get("version") != VERSION:
        raise ClassFileError(f"{path.name} is a class archive of format {head.get('version')!r}; this CNN Lab reads "
                             f"format {VERSION}")
    with database.engine.connect() as conn:
        inspector = sa.inspect(conn)
        columns = {t: {c["name"]: bool(c["nullable"]) for c in inspector.get_columns(t)} for t in TABLES}
    tables = {t: _rows(z, t, columns[t]) for t in TABLES}
    needed = {r.get("blob") for r in tables["models"]} - {None, ""}
    files: dict[str, bytes] = {}
    for sha in needed:
        data = _read(z, f"blobs/{sha}", keras_files.MAX_UPLOAD_BYTES) if f"blobs/{sha}" in z.namelist() else None
        if data is None:
            raise ClassFileError(f"the file of a model ({sha[:12]}…) is missing from the archive")
        if blobs.digest(data) != sha:
            raise ClassFileError(f"the file blobs/{sha[:12]}… does not match its SHA-256 (damaged or altered)")
        files[sha] = data
    for r in tables["models"]:
        store.validate_name(str(r["name"]))
        _check_model_file(str(r["name"]), files[r["blob"]])
    shapes = {r["name"]: r.get("image_shape") for r in tables["datasets"]}
    for r in tables["dataset_examples"]:
        _check_example(r, shapes, database)
    added = dict.fromkeys(TABLES, 0)
    with database.transaction("import") as tx:
        for table, rows in tables.items():
            keys = TABLES[table]
            for row in rows:
                where = " AND ".join(f"{k} = ?" for k in keys)
                existing = tx.one(f"SELECT * FROM {table} WHERE {where}", [row[k] for k in keys])
                if existing is not None:
                    if _same(row, existing) or (table == "models" and row.get("blob") == existing.get("blob")):
                        continue  # already here (a shipped model is the same file on every server)
                    raise ClassFileError(f"this class already has another {SINGULAR[table]} "
                                         f"'{row[keys[0]]}'; nothing was imported")
                if table == "models":
                    blobs.put(tx, files[row["blob"]])
                names = list(row)
                tx.execute(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                           [row[n] for n in names])
                added[table] += 1
    return {**added, "files": len(files)}
