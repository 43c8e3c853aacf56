"""Server-side sessions, the login throttle and their audit, on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.domain.errors import ValidationFailed
from portal.persistence.database import UnitOfWork, make_engine
from portal.persistence.models import Event, LoginFailure, Setting
from portal.services import sessions, users
from tests.conftest import PASSWORD, T0


def events(uow: UnitOfWork, action: str) -> list[Event]:
    with uow.read() as session:
        return list(session.scalars(select(Event).where(Event.action == action).order_by(Event.id)))


def test_a_login_resumes_until_logout_and_a_copied_token_dies_with_it(uow, database_url):
    signed = sessions.sign_in(uow, username=" Clerk ", password=PASSWORD, address="10.0.0.5", now=T0)
    assert signed.actor.username == "clerk" and len(signed.token) >= 40
    other_process = UnitOfWork(make_engine(database_url))     # another portal process, its own engine
    try:
        assert sessions.resume(other_process, token=signed.token, now=T0 + timedelta(hours=1)).username == "clerk"
        sessions.sign_out(uow, token=signed.token, now=T0 + timedelta(hours=2))
        assert sessions.resume(other_process, token=signed.token, now=T0 + timedelta(hours=2)) is None
        assert sessions.resume(uow, token=signed.token, now=T0 + timedelta(hours=2)) is None
    finally:
        other_process.engine.dispose()
    assert [e.changes for e in events(uow, "auth.login")] == [{"address": "10.0.0.5"}]
    assert len(events(uow, "auth.logout")) == 1


def test_a_session_ends_when_it_expires(uow):
    signed = sessions.sign_in(uow, username="clerk", password=PASSWORD, address="", now=T0)
    assert signed.expires_at == T0 + timedelta(hours=12)           # auth.session_hours
    assert sessions.resume(uow, token=signed.token, now=signed.expires_at - timedelta(minutes=1)) is not None
    assert sessions.resume(uow, token=signed.token, now=signed.expires_at) is None


def test_disabling_a_user_or_resetting_the_password_ends_every_session(uow, people):
    first = sessions.sign_in(uow, username="clerk", password=PASSWORD, address="", now=T0)
    second = sessions.sign_in(uow, username="clerk", password=PASSWORD, address="", now=T0)
    users.reset_password(uow, actor=people.admin, username="clerk", password="a-new-secret", now=T0)
    assert sessions.resume(uow, token=first.token, now=T0) is None
    assert sessions.resume(uow, token=second.token, now=T0) is None
    assert events(uow, "user.password_reset")[0].changes == {"username": "clerk", "sessions_ended": 2}
    with pytest.raises(sessions.LoginRefused):
        sessions.sign_in(uow, username="clerk", password=PASSWORD, address="", now=T0)
    third = sessions.sign_in(uow, username="clerk", password="a-new-secret", address="", now=T0)
    users.set_user_active(uow, actor=people.admin, username="clerk", active=False, now=T0)
    assert sessions.resume(uow, token=third.token, now=T0) is None
    assert events(uow, "user.disable")[0].changes["sessions_ended"] == 1


@pytest.mark.parametrize("token", [None, "", 42, ["x"], "x" * 5000, "eyJhbGciOiJub25lIn0.eyJ1c2VybmFtZSI6ImFkbWluIn0.",
                                   "\x00\ud800", "not-a-token"])
def test_tokens_the_portal_did_not_issue_are_refused_quietly(uow, token):
    assert sessions.resume(uow, token=token, now=T0) is None
    sessions.sign_out(uow, token=token, now=T0)                      # nothing to revoke, no error


def test_wrong_passwords_lock_the_name_for_a_while_without_saying_whether_it_exists(uow):
    def attempt(name: str, password: str, minutes: int, address: str = "10.0.0.9") -> str:
        try:
            sessions.sign_in(uow, username=name, password=password, address=address,
                             now=T0 + timedelta(minutes=minutes))
        except sessions.LoginRefused as refused:
            return refused.message.key
        return "ok"

    for name in ("clerk", "nobody"):
        assert [attempt(name, "wrong-password", 0, address=f"a-{name}") for _ in range(5)] == ["login.failed"] * 5
        assert attempt(name, PASSWORD, 1, address=f"a-{name}") == "login.locked"   # even the right password
    assert attempt("clerk", PASSWORD, 16, address="elsewhere") == "ok"             # the window has passed
    with uow.read() as session:
        assert session.scalar(select(func.count()).select_from(LoginFailure)
                              .where(LoginFailure.username == "clerk")) == 0      # a login clears them
    assert len(events(uow, "auth.login_failed")) == 10
    assert {e.changes["username"] for e in events(uow, "auth.locked")} == {"clerk", "nobody"}


def test_one_address_trying_many_names_is_locked_too(uow):
    for n in range(20):
        with pytest.raises(sessions.LoginRefused):
            sessions.sign_in(uow, username=f"guess{n}", password="wrong-password", address="203.0.113.7", now=T0)
    with pytest.raises(sessions.LoginRefused) as refused:
        sessions.sign_in(uow, username="clerk", password=PASSWORD, address="203.0.113.7", now=T0)
    assert refused.value.message.key == "login.locked"
    assert sessions.sign_in(uow, username="clerk", password=PASSWORD, address="198.51.100.1", now=T0)


def test_the_lockout_follows_its_settings(uow):
    with uow.write() as session:
        session.get(Setting, "auth.lockout_failures").value = "2"
        session.get(Setting, "auth.lockout_minutes").value = "60"
    for _ in range(2):
        with pytest.raises(sessions.LoginRefused):
            sessions.sign_in(uow, username="clerk", password="wrong-password", address="", now=T0)
    with pytest.raises(sessions.LoginRefused) as refused:
        sessions.sign_in(uow, username="clerk", password=PASSWORD, address="", now=T0 + timedelta(minutes=59))
    assert refused.value.message.params == {"minutes": 60}


@pytest.mark.parametrize("password", ["", "x" * 73, "密" * 25, "\x00abcdefgh", "\ud800abcdefgh", None, 12345678])
def test_odd_passwords_are_refused_not_crashed_on(uow, password):
    with pytest.raises(sessions.LoginRefused):
        sessions.sign_in(uow, username="clerk", password=password, address="", now=T0)


@pytest.mark.parametrize("password", ["x" * 73, "密" * 25, "short", "\x00abcdefghij", "\ud800abcdefgh"])
def test_a_password_bcrypt_cannot_keep_whole_is_refused_with_a_message(uow, people, password):
    with pytest.raises(ValidationFailed) as refused:
        users.reset_password(uow, actor=people.admin, username="clerk", password=password, now=T0)
    assert "password" in refused.value.errors
    with pytest.raises(ValidationFailed):
        users.add_user(uow, actor=people.admin, username="newbie", display_name="新人", password=password,
                       roles=["intake"], department="market", now=T0)


def test_a_password_reset_names_whose_password_or_is_refused(uow, people):
    with pytest.raises(ValidationFailed) as refused:
        users.reset_password(uow, actor=people.admin, username=None, password="short", now=T0)
    assert {k: m.key for k, m in refused.value.errors.items()} == {"username": "form.choose_one",
                                                                    "password": "users.short_password"}


def test_the_password_is_checked_outside_the_write_and_what_happened_meanwhile_still_counts(uow, people, monkeypatch):
    """bcrypt runs between the read and the write (thirty logins at once no longer queue on SQLite's write lock);
    what other requests did while it ran is checked again in the write."""
    import bcrypt
    real_check = bcrypt.checkpw
    seen_in_write = []

    def during_check(meanwhile):  # noqa: ANN001, ANN202
        def check(secret, stored):  # noqa: ANN001, ANN202
            seen_in_write.append(uow.engine.dialect.name == "sqlite" and _write_locked(uow))
            meanwhile()
            return real_check(secret, stored)
        return check

    def five_failures() -> None:      # parallel wrong guesses lock the name while this correct one is checked
        with uow.write() as session:
            session.add_all(LoginFailure(username="clerk", address="10.9.9.9", at=T0) for _ in range(5))
    monkeypatch.setattr(sessions.bcrypt, "checkpw", during_check(five_failures))
    with pytest.raises(sessions.LoginRefused) as refused:
        sessions.sign_in(uow, username="clerk", password=PASSWORD, address="10.0.0.1", now=T0)
    assert refused.value.message.key == "login.locked"
    assert not events(uow, "auth.login") and len(events(uow, "auth.locked")) == 1
    assert seen_in_write == [False]                  # no write transaction was open while bcrypt ran

    with uow.write() as session:
        session.execute(LoginFailure.__table__.delete())

    def reset() -> None:              # an administrator resets the password while the old one is checked
        users.reset_password(uow, actor=people.admin, username="clerk", password="a-new-secret", now=T0)
    monkeypatch.setattr(sessions.bcrypt, "checkpw", during_check(reset))
    with pytest.raises(sessions.LoginRefused) as refused:
        sessions.sign_in(uow, username="clerk", password=PASSWORD, address="10.0.0.1", now=T0)
    assert refused.value.message.key == "login.failed" and not events(uow, "auth.login")


def _write_locked(uow: UnitOfWork) -> bool:
    """Whether another connection holds SQLite's write lock (a write from here would have to wait)."""
    import sqlite3
    connection = sqlite3.connect(uow.engine.url.database, timeout=0)
    try:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        connection.close()
