"""`db backup` / `db restore`, run as an operator would (the command line in a subprocess), on both databases: a
round trip gives back every table's rows and the audit trail; the file is the owner's only, encrypted with the
configured key, pruned to the retention count; a damaged, altered or wrongly keyed file restores nothing."""
from __future__ import annotations

import os
import shutil
import stat
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from portal.persistence.database import make_engine
from portal.services import backups, complaints, sessions
from tests.conftest import IN_CI, PASSWORD, T0, _admin_engine, _drop_now, _pg_url
from tests.helpers import a_form, row_counts, run_sql
from tests.services.test_cli import cli

KEY = "correct horse battery staple"


@pytest.fixture
def empty_target(database_url, tmp_path):  # noqa: ANN001, ANN201
    """An empty database on the same backend as `database_url`: the restore's destination."""
    if not database_url.startswith("sqlite") and shutil.which("pg_dump") is None:
        if IN_CI:
            pytest.fail("pg_dump is required in CI (.ci/run installs postgresql-client)")
        pytest.skip("no pg_dump (apt-get install postgresql-client)")
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored' / 'portal.sqlite3'}"
        return
    name = f"portal_r_{uuid.uuid4().hex[:12]}"
    admin = _admin_engine()
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    yield _pg_url(name)
    _drop_now(name)


def _fill(uow, people) -> None:  # noqa: ANN001
    for phone in ("13812345678", "13900001111"):
        complaints.register_complaint(uow, actor=people.clerk, form=a_form(customer_phone=phone), attachments=[],
                                      now=T0)
    sessions.sign_in(uow, username="clerk", password=PASSWORD, address="10.0.0.9", now=T0)   # a session, its event


def _env(outbox: Path, **extra: str) -> dict[str, str]:
    return {"PORTAL_OUTBOX_DIR": str(outbox), "PORTAL_BACKUP_KEY": "", **extra}


def run(url: str, env: dict[str, str], *args: str):  # noqa: ANN201
    return cli(url, *args, env=env)


def _trail(url: str) -> list[tuple]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(
                "SELECT id, complaint_id, actor_id, actor_label, at, action, from_state, to_state, comment, "
                "CAST(changes AS TEXT) FROM events ORDER BY id"))]
    finally:
        engine.dispose()


def test_a_backup_restores_every_row_the_audit_trail_and_the_outbox(database_url, uow, people, empty_target,
                                                                     tmp_path):
    _fill(uow, people)
    outbox = tmp_path / "outbox"
    (outbox / "sms").mkdir(parents=True)
    (outbox / "notice-1.eml").write_text("Subject: 受理通知\n\n您好")
    (outbox / "sms" / "notice-2.json").write_text('{"to": "13812345678"}')
    counts, trail = row_counts(database_url), _trail(database_url)
    file = tmp_path / "backups" / "portal-1.backup"
    file.parent.mkdir()
    made = run(database_url, _env(outbox, PORTAL_BACKUP_KEY=KEY), "db", "backup", str(file))
    assert made.returncode == 0, made.stderr
    assert "encrypted" in made.stdout and "NOT encrypted" not in made.stdout
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert not [p for p in file.parent.iterdir() if p != file]        # no copy left beside it
    raw = file.read_bytes()
    assert "受理通知".encode() not in raw and b"13812345678" not in raw   # nothing readable without the key
    assert [e[5] for e in _trail(database_url)[len(trail):]] == ["db.backup"]      # the backup is audited

    restored_outbox = tmp_path / "restored-outbox"
    done = run(empty_target, _env(restored_outbox, PORTAL_BACKUP_KEY=KEY), "db", "restore", str(file))
    assert done.returncode == 0, done.stderr
    assert "match the backup" in done.stdout
    # every table as it was, the audit trail row for row, and the restore's own event after it
    assert row_counts(empty_target) == {**counts, "events": counts["events"] + 1}
    restored = _trail(empty_target)
    assert restored[:-1] == trail and restored[-1][5] == "db.restored"
    assert (restored_outbox / "notice-1.eml").read_text() == "Subject: 受理通知\n\n您好"
    assert (restored_outbox / "sms" / "notice-2.json").read_text() == '{"to": "13812345678"}'

    # a database that holds something is not overwritten unless forced; forced, it holds the backup's alone
    again = run(empty_target, _env(restored_outbox, PORTAL_BACKUP_KEY=KEY), "db", "restore", str(file))
    assert again.returncode == 1 and "not empty" in again.stderr
    run_sql(empty_target, "CREATE TABLE left_over (id INTEGER)")
    forced = run(empty_target, _env(restored_outbox, PORTAL_BACKUP_KEY=KEY), "db", "restore", str(file), "--force")
    assert forced.returncode == 0, forced.stderr
    assert row_counts(empty_target) == {**counts, "events": counts["events"] + 1}


def test_the_audit_digest_tells_an_added_event(database_url, uow, people, empty_target, tmp_path):
    _fill(uow, people)
    file = tmp_path / "plain.backup"
    assert run(database_url, _env(tmp_path / "none"), "db", "backup", str(file)).returncode == 0
    assert run(empty_target, _env(tmp_path / "o"), "db", "restore", str(file)).returncode == 0
    source, target = make_engine(database_url), make_engine(empty_target)
    try:
        assert _trail(empty_target)[:-1] == _trail(database_url)[:-1]      # each then has its own command's event
        first = backups.inventory(target).audit_digest
        with target.begin() as connection:      # one more event (the trail refuses edits, so one is added)
            connection.execute(text("INSERT INTO events (actor_label, at, action, comment, changes) "
                                    "VALUES ('x', '2025-10-01 00:00:00', 'x', '', '{}')"))
        assert backups.inventory(target).audit_digest != first
    finally:
        source.dispose()
        target.dispose()


@pytest.mark.parametrize("damage, says", [
    ("flip", "cannot be decrypted"),
    ("cut", "cut short"),
    ("wrong key", "cannot be decrypted"),
    ("no key", "is encrypted"),
])
def test_a_damaged_or_wrongly_keyed_backup_restores_nothing(sqlite_url, tmp_path, damage, says):
    file = tmp_path / "portal.backup"
    assert run(sqlite_url, _env(tmp_path / "o", PORTAL_BACKUP_KEY=KEY), "db", "backup",
               str(file)).returncode == 0
    data = bytearray(file.read_bytes())
    key = KEY
    if damage == "flip":
        data[len(data) // 2] ^= 0x01
    elif damage == "cut":
        data = data[:len(data) - 200]
    elif damage == "wrong key":
        key = "another key"
    else:
        key = ""
    file.write_bytes(bytes(data))
    target = f"sqlite:///{tmp_path / 'target.sqlite3'}"
    done = run(target, _env(tmp_path / "o2", PORTAL_BACKUP_KEY=key), "db", "restore", str(file))
    assert done.returncode == 1 and says in done.stderr, done.stderr
    assert row_counts(target) == {}
    assert not (tmp_path / "o2").exists()


def test_retention_keeps_the_newest_backups_and_nothing_else_is_touched(sqlite_url, tmp_path):
    folder = tmp_path / "backups"
    folder.mkdir()
    (folder / "notes.txt").write_text("not a backup")
    for n in range(1, 5):
        done = run(sqlite_url, _env(tmp_path / "o"), "db", "backup", str(folder / f"portal-{n}.backup"),
                   "--keep", "2")
        assert done.returncode == 0, done.stderr
        os.utime(folder / f"portal-{n}.backup", (1_000_000 + n, 1_000_000 + n))
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt", "portal-3.backup", "portal-4.backup"]
    exists = run(sqlite_url, _env(tmp_path / "o"), "db", "backup", str(folder / "portal-4.backup"))
    assert exists.returncode == 1 and "exists already" in exists.stderr


def test_a_backup_across_backends_or_of_nothing_is_refused(sqlite_url, tmp_path):
    empty = f"sqlite:///{tmp_path / 'nothing.sqlite3'}"
    done = run(empty, _env(tmp_path / "o"), "db", "backup", str(tmp_path / "x.backup"))
    assert done.returncode == 1 and "no portal tables" in done.stderr
    assert not (tmp_path / "x.backup").exists()
    not_a_backup = tmp_path / "plain.txt"
    not_a_backup.write_text("hello")
    done = run(empty, _env(tmp_path / "o"), "db", "restore", str(not_a_backup))
    assert done.returncode == 1 and "not a portal backup" in done.stderr


@pytest.mark.postgres
def test_without_pg_dump_the_backup_says_what_to_install(postgres_template, tmp_path):
    url = _pg_url(postgres_template)
    env = {"PATH": str(tmp_path / "empty-path")}
    done = run(url, env, "db", "backup", str(tmp_path / "pg.backup"))
    assert done.returncode == 1 and "pg_dump was not found" in done.stderr and "postgresql-client" in done.stderr
    assert not (tmp_path / "pg.backup").exists()


def _records(data: bytes) -> tuple[bytes, list[bytes]]:
    """An encrypted backup cut into its header and its sealed parts (each with its length)."""
    head = len(backups.MAGIC) + 2 + 16 + 8 + 3
    parts, at = [], head
    while at < len(data):
        size = int.from_bytes(data[at:at + 4], "big")
        parts.append(data[at:at + 4 + size])
        at += 4 + size
    return data[:head], parts


@pytest.mark.parametrize("tamper", ["swap two parts", "drop a part", "cut after a part", "data after the last"])
def test_reordered_dropped_or_cut_parts_of_an_encrypted_backup_are_refused(sqlite_url, tmp_path, monkeypatch,
                                                                          tamper):
    monkeypatch.setattr(backups, "CHUNK", 256)          # many parts, so their order and number matter
    file = tmp_path / "portal.backup"
    backups.make_backup(sqlite_url, file, outbox=None, key=KEY.encode(), now=T0)
    head, parts = _records(file.read_bytes())
    assert len(parts) > 10
    if tamper == "swap two parts":
        parts[3], parts[4] = parts[4], parts[3]
    elif tamper == "drop a part":
        del parts[5]
    elif tamper == "cut after a part":
        parts = parts[:-1]
    else:
        parts.append(b"\x00\x00\x00\x01x")
    file.write_bytes(head + b"".join(parts))
    target = f"sqlite:///{tmp_path / 'target.sqlite3'}"
    with pytest.raises(backups.BackupError):
        backups.restore_backup(target, file, outbox=tmp_path / "o", key=KEY.encode(), now=T0)
    assert row_counts(target) == {}


def test_a_damaged_unencrypted_backup_is_refused_and_one_is_refused_when_a_key_is_set(sqlite_url, tmp_path):
    file = tmp_path / "plain.backup"
    assert run(sqlite_url, _env(tmp_path / "o"), "db", "backup", str(file)).returncode == 0
    target = f"sqlite:///{tmp_path / 'target.sqlite3'}"
    keyed = run(target, _env(tmp_path / "o2", PORTAL_BACKUP_KEY=KEY), "db", "restore", str(file))
    assert keyed.returncode == 1 and "not encrypted although a key is set" in keyed.stderr
    data = bytearray(file.read_bytes())
    for offset in range(40):            # one byte changed anywhere in the compressed stream: refused, never restored
        damaged = bytearray(data)
        damaged[12 + (len(data) - 24) * offset // 40] ^= 0x20
        file.write_bytes(bytes(damaged))
        done = run(target, _env(tmp_path / "o2"), "db", "restore", str(file)) if offset % 8 == 0 else None
        if done is not None:
            assert done.returncode == 1 and "error:" in done.stderr and "Traceback" not in done.stderr, done.stderr
        else:
            with pytest.raises(backups.BackupError):
                backups.restore_backup(target, file, outbox=None, now=T0)
        assert row_counts(target) == {}
    file.write_bytes(bytes(data))
    allowed = run(target, _env(tmp_path / "o2", PORTAL_BACKUP_KEY=KEY), "db", "restore", str(file),
                  "--allow-unencrypted")
    assert allowed.returncode == 0, allowed.stderr


@pytest.mark.postgres
def test_a_backup_restores_only_into_its_own_backend(sqlite_url, postgres_template, tmp_path):
    if shutil.which("pg_dump") is None and not IN_CI:
        pytest.skip("no pg_dump")
    file = tmp_path / "sqlite.backup"
    assert run(sqlite_url, _env(tmp_path / "o"), "db", "backup", str(file)).returncode == 0
    name = f"portal_r_{uuid.uuid4().hex[:12]}"
    admin = _admin_engine()
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    try:
        done = run(_pg_url(name), _env(tmp_path / "o2"), "db", "restore", str(file))
        assert done.returncode == 1 and "copy across backends is not supported" in done.stderr
        assert row_counts(_pg_url(name)) == {}
    finally:
        _drop_now(name)
