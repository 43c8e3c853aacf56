"""Backups (`python -m portal db backup FILE`, `db restore FILE`): the database and the notices' outbox folder in
one file, readable by its owner only, encrypted when a key is configured, pruned to a retention count.

A backup file is the 8 bytes `PORTALBK`, a format byte and a flags byte, then a gzip-compressed tar stream of:
- `manifest.json`: the backend, when it was made, the migration revision, every table's row count and a digest of
  the audit trail (`events` and `request_events`, every column of every row in id order), checked after a restore;
- `database.sqlite3` (SQLite's online backup API: a consistent copy while the portal runs) or `database.pgdump`
  (`pg_dump --format=custom`: one snapshot);
- `outbox/…`: the files of the notices' outbox folder (the notices written for the customer when no gateway is set).

Encrypted (a key in `PORTAL_BACKUP_KEY` or `[backup] key` of the secrets file): the tar stream is cut into chunks of
1 MiB, each sealed with AES-256-GCM under a key derived from the passphrase by scrypt with the file's own salt. Each
chunk's nonce carries its number and its associated data says whether it is the last, so a reordered, altered or
cut-short file is refused rather than half restored.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import sqlite3
import struct
import subprocess
import tarfile
import tempfile
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import Column, Engine, MetaData, Table, inspect, select
from sqlalchemy.engine import make_url

from portal.persistence.database import make_engine
from portal.persistence.models import Event, RequestEvent

MAGIC = b"PORTALBK"
FORMAT = 1
ENCRYPTED = 0x01
CHUNK = 1 << 20
_SCRYPT = (15, 8, 1)            # log2 n, r, p: about 32 MB and a tenth of a second per file
MANIFEST = "manifest.json"
AUDIT_TABLES = (Event, RequestEvent)


class BackupError(Exception):
    """A backup or restore that cannot go on (an operator's command): the message says why and what to do."""


# -- what a database holds -------------------------------------------------------------------------

@dataclass
class Inventory:
    """Every table's row count and the digest of the audit trail: what a restore must give back."""
    counts: dict[str, int] = field(default_factory=dict)
    audit_digest: str = ""
    revision: str | None = None


def _cell(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return value


def inventory(engine: Engine) -> Inventory:
    """Counted in one read transaction (PostgreSQL: one snapshot; SQLite: one read lock)."""
    with engine.connect() as connection, connection.begin():
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        return _inventory(connection)


def _inventory(connection) -> Inventory:  # noqa: ANN001
    inspector = inspect(connection)
    tables = set(inspector.get_table_names())
    found = Inventory()
    for name in sorted(tables):
        found.counts[name] = int(connection.exec_driver_sql(f'SELECT count(*) FROM "{name}"').scalar())
    if "alembic_version" in tables:
        found.revision = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    digest = hashlib.sha256()
    for model in AUDIT_TABLES:
        name = model.__tablename__
        if name not in tables:
            continue
        # the columns the table has in this database (sorted), not the code's: a backup made before an upgrade
        # and its restore, counted before migrating, read the same ones
        names = sorted(column["name"] for column in inspector.get_columns(name))
        digest.update(f"{name}:{','.join(names)}".encode())
        table = Table(name, MetaData(), *(Column(n) for n in names))
        rows = connection.execution_options(yield_per=5000).execute(
            select(*table.columns).order_by(table.c.id))
        for row in rows:
            digest.update(json.dumps([_cell(v) for v in row], ensure_ascii=False, default=str).encode())
            digest.update(b"\n")
    found.audit_digest = digest.hexdigest()
    return found


def is_empty(engine: Engine) -> bool:
    """No table at all: a database the portal never opened (`db upgrade` and every start create its tables)."""
    return not inspect(engine).get_table_names()


# -- the file: header, optional encryption ---------------------------------------------------------

def backup_key(configured: str | None) -> bytes | None:
    return configured.encode("utf-8") if configured else None


def _derive(passphrase: bytes, salt: bytes) -> bytes:
    log_n, r, p = _SCRYPT
    return hashlib.scrypt(passphrase, salt=salt, n=1 << log_n, r=r, p=p, dklen=32, maxmem=64 * 1024 * 1024)


class _SealedWriter(io.RawIOBase):
    """Writes chunks of 1 MiB, each `length, AES-GCM(chunk)`; the last one marked as last."""

    def __init__(self, out: BinaryIO, key: bytes, header: bytes, prefix: bytes) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        self.out, self.aead, self.header, self.prefix = out, AESGCM(key), header, prefix
        self.buffer, self.counter = bytearray(), 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:  # noqa: ANN001
        self.buffer += data
        while len(self.buffer) > CHUNK:
            self._seal(bytes(self.buffer[:CHUNK]), last=False)
            del self.buffer[:CHUNK]
        return len(data)

    def _seal(self, chunk: bytes, *, last: bool) -> None:
        nonce = self.prefix + struct.pack(">I", self.counter)
        sealed = self.aead.encrypt(nonce, chunk, self.header + (b"\x01" if last else b"\x00"))
        self.out.write(struct.pack(">I", len(sealed)) + sealed)
        self.counter += 1

    def close(self) -> None:
        if not self.closed:
            self._seal(bytes(self.buffer), last=True)
            self.buffer.clear()
        super().close()


class _SealedReader(io.RawIOBase):
    def __init__(self, source: BinaryIO, key: bytes, header: bytes, prefix: bytes) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        self.source, self.aead, self.header, self.prefix = source, AESGCM(key), header, prefix
        self.pending, self.counter, self.ended = b"", 0, False

    def readable(self) -> bool:
        return True

    def _next(self) -> None:
        from cryptography.exceptions import InvalidTag
        size = self.source.read(4)
        if len(size) < 4:
            raise BackupError("the backup file is cut short (its last part is missing)")
        length = struct.unpack(">I", size)[0]
        if length > CHUNK + 16:
            raise BackupError("the backup file is damaged (a part longer than any the portal writes)")
        sealed = self.source.read(length)
        if len(sealed) < length:
            raise BackupError("the backup file is cut short (its last part is missing)")
        nonce = self.prefix + struct.pack(">I", self.counter)
        for last in (False, True):
            try:
                self.pending = self.aead.decrypt(nonce, sealed, self.header + (b"\x01" if last else b"\x00"))
            except InvalidTag:
                continue
            self.counter += 1
            self.ended = last
            if last and self.source.read(1):
                raise BackupError("the backup file has data after its last part: it was altered")
            return
        raise BackupError("the backup file cannot be decrypted: a wrong key, or the file was altered")

    def readinto(self, target) -> int:  # noqa: ANN001
        while not self.pending and not self.ended:
            self._next()
        size = min(len(target), len(self.pending))
        target[:size] = self.pending[:size]
        self.pending = self.pending[size:]
        return size


def _private_file(path: Path) -> BinaryIO:
    """A new file readable and writable by its owner only, whatever the umask."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.fchmod(descriptor, 0o600)
    return os.fdopen(descriptor, "wb")


def is_backup_file(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(len(MAGIC)) == MAGIC
    except OSError:
        return False


# -- making one ------------------------------------------------------------------------------------

@dataclass
class Made:
    path: Path
    size: int
    encrypted: bool
    counts: dict[str, int]
    outbox_files: int
    pruned: list[Path]


def _pg_environment(url: str) -> dict[str, str]:
    """libpq's settings for pg_dump / pg_restore from the portal's address: host, port, user, database and every
    parameter the address gives (sslmode, sslrootcert, options, a socket folder as host=…), the password in the
    environment rather than on the command line."""
    parsed = make_url(url)
    env = dict(os.environ)
    for name, value in (("PGHOST", parsed.host), ("PGPORT", parsed.port), ("PGUSER", parsed.username),
                        ("PGPASSWORD", parsed.password), ("PGDATABASE", parsed.database)):
        if value:
            env[name] = str(value)
    settings = {"host": "PGHOST", "port": "PGPORT", "user": "PGUSER", "dbname": "PGDATABASE", "options": "PGOPTIONS",
                "sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT", "sslcert": "PGSSLCERT", "sslkey": "PGSSLKEY",
                "sslcrl": "PGSSLCRL", "connect_timeout": "PGCONNECT_TIMEOUT", "target_session_attrs":
                "PGTARGETSESSIONATTRS", "application_name": "PGAPPNAME", "passfile": "PGPASSFILE",
                "service": "PGSERVICE", "gssencmode": "PGGSSENCMODE", "channel_binding": "PGCHANNELBINDING"}
    for key, value in parsed.query.items():
        if key not in settings:
            raise BackupError(f"the database address's parameter {key!r} has no libpq equivalent for pg_dump")
        env[settings[key]] = value if isinstance(value, str) else " ".join(value)
    return env


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} was not found: install the PostgreSQL client tools (Debian: apt-get install "
                          f"postgresql-client, the same major version as the server or newer)")
    return found


def _dump_database(url: str, connection, folder: Path, snapshot: str | None) -> str:  # noqa: ANN001
    """The database as it is in `connection`'s open read transaction, the one the manifest was counted in."""
    if connection.dialect.name == "sqlite":
        target = folder / "database.sqlite3"
        copy = sqlite3.connect(target)
        try:    # page by page from the read transaction already open; other connections go on writing
            connection.connection.dbapi_connection.backup(copy)
        finally:
            copy.close()
        os.chmod(target, 0o600)
        return target.name
    target = folder / "database.pgdump"
    done = subprocess.run([_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
                           f"--snapshot={snapshot}", "--file", str(target)], env=_pg_environment(url),
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
    return target.name


def _snapshot(url: str, engine: Engine, folder: Path) -> tuple[Inventory, str]:
    """The manifest's counts and the database's copy, both of one read transaction; it ends before the (longer)
    writing of the file."""
    with engine.connect() as connection, connection.begin():
        snapshot = None
        if engine.dialect.name == "postgresql":   # pg_dump reads the snapshot the manifest is counted in
            connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            snapshot = connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar()
        found = _inventory(connection)
        return found, _dump_database(url, connection, folder, snapshot)


def _write(path: Path, manifest: dict, members: list[tuple[Path, str]], key: bytes | None) -> None:
    """The file: written under a hidden name beside `path` (0600), synced, then renamed into place."""
    partial = path.with_name(f".{path.name}.partial")
    partial.unlink(missing_ok=True)
    salt, prefix = os.urandom(16), os.urandom(8)
    header = MAGIC + bytes([FORMAT, ENCRYPTED if key else 0])
    try:
        with _private_file(partial) as out:
            out.write(header)
            sink: BinaryIO = out
            if key:
                out.write(salt + prefix + bytes(_SCRYPT))
                sink = _SealedWriter(out, _derive(key, salt), header + salt + prefix, prefix)
            with gzip.GzipFile(fileobj=sink, mode="wb", compresslevel=6, mtime=0) as zipped, \
                    tarfile.open(fileobj=zipped, mode="w|") as archive:
                data = json.dumps(manifest, ensure_ascii=False, indent=1).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mode = len(data), 0o600
                archive.addfile(info, io.BytesIO(data))
                for file, name in members:
                    archive.add(file, arcname=name)
            if sink is not out:
                sink.close()            # its last part
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _record(engine: Engine, action: str, now: datetime, changes: dict) -> None:
    """The command's audit event (actor: the command line)."""
    from portal.persistence.database import UnitOfWork
    from portal.services.audit import record_event
    with UnitOfWork(engine).write() as session:
        record_event(session, actor=None, at=now, action=action, changes=changes)


def make_backup(url: str, path: Path, *, outbox: Path | None, key: bytes | None = None, keep: int | None = None,
                now: datetime) -> Made:
    """Write a backup of the database at `url` (and of the `outbox` folder) to `path`, which must not exist yet;
    then, with `keep`, delete all but the `keep` newest portal backups in the same folder."""
    path = Path(path)
    if path.exists():
        raise BackupError(f"{path} exists already: give a new file name (e.g. with the date)")
    if not path.parent.is_dir():
        raise BackupError(f"the folder {path.parent} does not exist")
    if keep is not None and keep < 1:
        raise BackupError("the retention count must be at least 1")
    engine = make_engine(url)
    try:
        if is_empty(engine):
            raise BackupError("the database holds no portal tables: nothing to back up (check the address)")
        # the copy is staged in the temporary folder ($TMPDIR), in a folder only the owner reads, never beside the
        # (perhaps encrypted) backups, where a killed run would leave it in the clear
        with tempfile.TemporaryDirectory(prefix="portal-backup-") as work:
            found, member = _snapshot(url, engine, Path(work))
            outbox_files = sorted(p for p in outbox.rglob("*") if p.is_file()) if outbox and outbox.is_dir() else []
            members = [(Path(work) / member, member)] + [
                (f, f"outbox/{f.relative_to(outbox).as_posix()}") for f in outbox_files]
            manifest = {"format": FORMAT, "backend": engine.dialect.name, "made_at": now.isoformat(sep=" "),
                        "revision": found.revision, "counts": found.counts, "audit_digest": found.audit_digest,
                        "database": member, "outbox_files": len(outbox_files),
                        "digests": {name: _sha256(file) for file, name in members}}
            _write(path, manifest, members, key)
        _record(engine, "db.backup", now, {"file": str(path), "encrypted": bool(key), "rows": sum(found.counts.values()),
                                           "audit_digest": found.audit_digest})
    finally:
        engine.dispose()
    pruned = prune(path.parent, keep, spare=path) if keep else []
    return Made(path, path.stat().st_size, bool(key), found.counts, len(outbox_files), pruned)


def prune(folder: Path, keep: int, *, spare: Path) -> list[Path]:
    """Delete all but the `keep` newest portal backups in `folder` (files that start with the backup header;
    nothing else is touched), never `spare`."""
    backups = [p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".") and is_backup_file(p)]
    backups.sort(key=lambda p: (p != spare, -p.stat().st_mtime, p.name))
    doomed = backups[keep:]
    for old in doomed:
        old.unlink()
    return doomed


# -- restoring one ---------------------------------------------------------------------------------

@dataclass
class Restored:
    backend: str
    made_at: str
    counts: dict[str, int]
    outbox_files: int
    differences: list[str]


DATABASE_MEMBERS = ("database.sqlite3", "database.pgdump")


def _member_allowed(member: tarfile.TarInfo) -> bool:
    """Only what a backup holds: the manifest, the database copy, regular files under outbox/ (no absolute path,
    no `..`, no link, no device)."""
    parts = Path(member.name).parts
    if not member.isfile() or member.name.startswith("/") or ".." in parts:
        return False
    return member.name in (MANIFEST, *DATABASE_MEMBERS) or (len(parts) > 1 and parts[0] == "outbox")


def _open(path: Path, key: bytes | None, folder: Path, *, allow_unencrypted: bool) -> dict:
    """Unpack the backup into `folder` and check it whole: every member listed in the manifest with its digest,
    the gzip stream to its end (its checksum), an encrypted file to its last part. Returns the manifest."""
    with Path(path).open("rb") as source:
        header = source.read(len(MAGIC) + 2)
        if len(header) < len(MAGIC) + 2 or header[:len(MAGIC)] != MAGIC:
            raise BackupError(f"{path} is not a portal backup")
        if header[len(MAGIC)] != FORMAT:
            raise BackupError(f"{path} is a backup of format {header[len(MAGIC)]}; this portal reads format {FORMAT}")
        stream: BinaryIO = source
        sealed = None
        if header[len(MAGIC) + 1] & ENCRYPTED:
            if not key:
                raise BackupError("this backup is encrypted: set its key (PORTAL_BACKUP_KEY or [backup] key)")
            rest = source.read(16 + 8 + 3)
            salt, prefix, params = rest[:16], rest[16:24], tuple(rest[24:])
            if params != _SCRYPT:
                raise BackupError("the backup's key derivation is not one this portal knows")
            sealed = _SealedReader(source, _derive(key, salt), header + salt + prefix, prefix)
            stream = io.BufferedReader(sealed)
        elif key and not allow_unencrypted:
            raise BackupError("this backup is not encrypted although a key is set: restore it only on purpose "
                              "(--allow-unencrypted)")
        try:
            with gzip.GzipFile(fileobj=stream, mode="rb") as unzipped, \
                    tarfile.open(fileobj=unzipped, mode="r|") as archive:
                for member in archive:
                    if not _member_allowed(member):
                        raise BackupError(f"the backup holds {member.name!r}, which no portal backup holds")
                    archive.extract(member, folder, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
                while unzipped.read(1 << 20):       # to the end: the gzip checksum and length are checked there
                    pass
            if sealed is not None and not sealed.ended:
                raise BackupError("the backup file is cut short (its last part is missing)")
        except (tarfile.TarError, EOFError, gzip.BadGzipFile, zlib.error) as error:
            raise BackupError(f"the backup file is damaged: {error}") from error
    manifest_file = folder / MANIFEST
    if not manifest_file.is_file():
        raise BackupError("the backup holds no manifest: it is damaged")
    try:
        manifest = json.loads(manifest_file.read_text())
        listed = dict(manifest["digests"])
        database = manifest["database"]
    except (ValueError, KeyError, TypeError) as error:
        raise BackupError(f"the backup's manifest is damaged: {error}") from error
    if database not in DATABASE_MEMBERS:
        raise BackupError("the backup's manifest names no database copy this portal writes")
    present = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()} - {MANIFEST}
    if present != set(listed) or any(_sha256(folder / name) != digest for name, digest in listed.items()):
        raise BackupError("the backup's contents differ from its manifest: it is damaged")
    return manifest


def _known_revision(url: str, revision: str | None) -> bool:
    from alembic.script import ScriptDirectory
    from portal.persistence.migrate import alembic_config
    script = ScriptDirectory.from_config(alembic_config(url))
    return revision is None or revision in {r.revision for r in script.walk_revisions()}


def _restore_sqlite(url: str, source: Path) -> None:
    database = make_url(url).database
    Path(database).parent.mkdir(parents=True, exist_ok=True)
    backup = sqlite3.connect(source)
    target = sqlite3.connect(database, timeout=60)
    try:
        backup.backup(target)         # replaces every page of the target
    finally:
        target.close()
        backup.close()
    os.chmod(database, 0o600)


def _restore_postgres(url: str, engine: Engine, source: Path, force: bool) -> None:
    if force:     # everything of the current schema goes, not only what the dump would replace (newer tables too)
        with engine.begin() as connection:
            schema = connection.exec_driver_sql("SELECT current_schema()").scalar()
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        engine.dispose()
    arguments = [_pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"]
    env = _pg_environment(url)
    done = subprocess.run([*arguments, "--dbname", env.get("PGDATABASE", ""), str(source)], env=env,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed: {done.stderr.strip()}")


def _outbox_conflicts(unpacked: Path, outbox: Path) -> list[Path]:
    return [outbox / file.relative_to(unpacked) for file in sorted(unpacked.rglob("*")) if file.is_file()
            and (outbox / file.relative_to(unpacked)).exists()
            and (outbox / file.relative_to(unpacked)).read_bytes() != file.read_bytes()]


def restore_backup(url: str, path: Path, *, outbox: Path | None, key: bytes | None = None, force: bool = False,
                   allow_unencrypted: bool = False, now: datetime) -> Restored:
    """Restore `path` into the database at `url`, which must be empty (no tables) unless `force`; then check
    every table's row count and the audit trail's digest against the manifest, and put the outbox files back.
    Everything that can refuse the backup is checked before the database is touched."""
    if not Path(path).is_file():
        raise BackupError(f"{path} does not exist")
    engine = make_engine(url)
    try:
        backend = engine.dialect.name
        if not force and not is_empty(engine):
            raise BackupError("the database is not empty: restore into a new, empty database, or give --force to "
                              "replace what it holds")
        with tempfile.TemporaryDirectory(prefix="portal-restore-") as work:
            manifest = _open(path, key, Path(work), allow_unencrypted=allow_unencrypted)
            if manifest.get("backend") != backend:
                raise BackupError(f"this backup is of a {manifest.get('backend')} database; the address names a "
                                  f"{backend} one (copy across backends is not supported)")
            if not _known_revision(url, manifest.get("revision")):
                raise BackupError(f"this backup was made by a newer portal (migration {manifest.get('revision')}): "
                                  "restore it with that version")
            unpacked = Path(work) / "outbox"
            conflicts = _outbox_conflicts(unpacked, outbox) if outbox is not None and unpacked.is_dir() else []
            if conflicts and not force:
                raise BackupError(f"{len(conflicts)} file(s) of the outbox folder differ from the backup's "
                                  f"(e.g. {conflicts[0]}): give --force to replace them")
            source = Path(work) / manifest["database"]
            engine.dispose()
            if backend == "sqlite":
                _restore_sqlite(url, source)
            else:
                _restore_postgres(url, engine, source, force)
            found = inventory(engine)
            expected = manifest["counts"]
            differences = [f"{table}: {expected.get(table)} rows in the backup, {found.counts.get(table)} restored"
                           for table in sorted(set(expected) | set(found.counts))
                           if expected.get(table) != found.counts.get(table)]
            if found.audit_digest != manifest["audit_digest"]:
                differences.append("the audit trail's digest differs from the backup's")
            restored_outbox = 0
            if outbox is not None and unpacked.is_dir():
                for file in sorted(unpacked.rglob("*")):
                    if file.is_file():
                        target = outbox / file.relative_to(unpacked)
                        target.parent.mkdir(parents=True, exist_ok=True)
                        shutil.copyfile(file, target)
                        restored_outbox += 1
        if not differences:
            _record(engine, "db.restored", now, {"file": str(path), "made_at": manifest.get("made_at"),
                                                 "rows": sum(found.counts.values()),
                                                 "audit_digest": found.audit_digest})
    finally:
        engine.dispose()
    return Restored(backend, manifest.get("made_at", ""), found.counts, restored_outbox, differences)
