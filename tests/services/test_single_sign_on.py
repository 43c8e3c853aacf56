"""Single sign-on, the service's side: the identity the company's provider vouches for is mapped to a portal user (by
the subject tied to the user, or else by the one user with that e-mail), whose roles stay the portal's; an unknown or
disabled identity is refused, audited, and opens no session; password logins can be switched off."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.domain.errors import DomainError
from portal.persistence.models import Event, LoginSession, User
from portal.services import sessions, users
from portal.services.sessions import Identity, LoginRefused
from tests.conftest import PASSWORD, T0


def _email(uow, username: str, email: str) -> None:  # noqa: ANN001
    with uow.write() as session:
        session.scalar(select(User).where(User.username == username)).email = email


def _sessions(uow) -> int:  # noqa: ANN001
    with uow.read() as session:
        return session.scalar(select(func.count()).select_from(LoginSession))


def _last_event(uow) -> Event:  # noqa: ANN001
    with uow.read() as session:
        return session.scalars(select(Event).order_by(Event.id.desc())).first()


def test_the_subject_tied_to_a_user_signs_in_as_that_user_with_the_portals_roles(uow):
    users.set_sso_subject(uow, actor=None, username="gmo", subject="00u-4711", now=T0)
    signed = sessions.sign_in_with_identity(uow, identity=Identity(subject="00u-4711", email="someone@else.example",
                                                                   issuer="https://idp.example", issued_at=T0),
                                            address="10.1.2.3", now=T0)
    assert signed.actor.username == "gmo" and signed.actor.roles == {"gm_office"}
    assert sessions.resume(uow, token=signed.token, now=T0) is not None
    event = _last_event(uow)
    assert event.action == "auth.login" and event.changes["via"] == "sso" and event.changes["subject"] == "00u-4711"


def test_without_a_tied_subject_the_one_user_with_that_email_signs_in(uow):
    _email(uow, "clerk", "Clerk.One@Corp.Example")
    signed = sessions.sign_in_with_identity(uow, identity=Identity(subject="abc", email="clerk.one@corp.example", email_verified=True,
                                                                   issued_at=T0),
                                            address="", now=T0)
    assert signed.actor.username == "clerk"


def test_an_email_match_needs_a_verified_address_and_ties_the_subject(uow):
    _email(uow, "clerk", "clerk@corp.example")
    with pytest.raises(LoginRefused) as refused:
        sessions.sign_in_with_identity(uow, identity=Identity(subject="s-1", email="clerk@corp.example",
                                                              issued_at=T0), address="", now=T0)
    assert refused.value.message.key == "login.sso_unknown"         # an address the provider did not verify
    sessions.sign_in_with_identity(uow, identity=Identity(subject="s-1", email="clerk@corp.example",
                                                          email_verified=True, issued_at=T0), address="", now=T0)
    with uow.read() as session:
        assert session.scalar(select(User.sso_subject).where(User.username == "clerk")) == "s-1"
    _email(uow, "clerk", "changed@corp.example")                      # from now on the subject decides
    later = T0 + timedelta(hours=1)
    signed = sessions.sign_in_with_identity(uow, identity=Identity(subject="s-1", email="other@corp.example",
                                                                   issued_at=later), address="", now=later)
    assert signed.actor.username == "clerk"


def test_only_a_fresh_sign_in_opens_a_session_and_only_once(uow):
    users.set_sso_subject(uow, actor=None, username="gmo", subject="00u-9", now=T0)
    old = Identity(subject="00u-9", issued_at=T0 - timedelta(minutes=6))
    with pytest.raises(sessions.SignOnAgain):
        sessions.sign_in_with_identity(uow, identity=old, address="", now=T0)
    with pytest.raises(sessions.SignOnAgain):
        sessions.sign_in_with_identity(uow, identity=Identity(subject="00u-9"), address="", now=T0)
    fresh = Identity(subject="00u-9", issuer="https://idp.example", issued_at=T0 - timedelta(minutes=1))
    signed = sessions.sign_in_with_identity(uow, identity=fresh, address="", now=T0)
    sessions.sign_out(uow, token=signed.token, now=T0 + timedelta(minutes=1))
    before = _sessions(uow)
    with pytest.raises(sessions.SignOnAgain):       # the browser still holds that sign-in: it opens nothing again
        sessions.sign_in_with_identity(uow, identity=fresh, address="", now=T0 + timedelta(minutes=2))
    assert _sessions(uow) == before


def test_two_users_with_one_email_match_neither(uow):
    _email(uow, "clerk", "shared@corp.example")
    _email(uow, "lead", "shared@corp.example")
    with pytest.raises(LoginRefused) as refused:
        sessions.sign_in_with_identity(uow, identity=Identity(subject="x", email="shared@corp.example", email_verified=True,
                                                issued_at=T0), address="",
                                       now=T0)
    assert refused.value.message.key == "login.sso_unknown"


def test_an_unknown_identity_is_refused_audited_and_opens_no_session(uow):
    before = _sessions(uow)
    with pytest.raises(LoginRefused) as refused:
        sessions.sign_in_with_identity(uow, identity=Identity(subject="stranger", email="stranger@corp.example",
                                                                email_verified=True, issued_at=T0),
                                       address="10.9.9.9", now=T0)
    assert refused.value.message.key == "login.sso_unknown"
    assert refused.value.message.params["account"] == "stranger@corp.example"
    assert _sessions(uow) == before
    event = _last_event(uow)
    assert event.action == "auth.sso_refused" and event.actor_id is None
    assert event.changes["reason"] == "unknown" and event.changes["address"] == "10.9.9.9"


def test_a_disabled_users_identity_is_refused_and_audited(uow):
    _email(uow, "techhandler", "tech@corp.example")
    users.set_user_active(uow, actor=None, username="techhandler", active=False, now=T0)
    before = _sessions(uow)
    with pytest.raises(LoginRefused) as refused:
        sessions.sign_in_with_identity(uow, identity=Identity(subject="t", email="tech@corp.example", email_verified=True,
                                                                issued_at=T0), address="",
                                       now=T0)
    assert refused.value.message.key == "login.sso_disabled"
    assert _sessions(uow) == before
    event = _last_event(uow)
    assert event.action == "auth.sso_refused" and event.changes["reason"] == "disabled" and event.actor_id is not None


def test_a_subject_belongs_to_one_user(uow):
    users.set_sso_subject(uow, actor=None, username="gmo", subject="00u-1", now=T0)
    with pytest.raises(DomainError) as taken:
        users.set_sso_subject(uow, actor=None, username="clerk", subject="00u-1", now=T0)
    assert taken.value.message.key == "users.sso_subject_taken"
    with pytest.raises(DomainError):
        users.set_sso_subject(uow, actor=None, username="clerk", subject="   ", now=T0)
    users.set_sso_subject(uow, actor=None, username="gmo", subject=None, now=T0)
    users.set_sso_subject(uow, actor=None, username="clerk", subject="00u-1", now=T0)
    signed = sessions.sign_in_with_identity(uow, identity=Identity(subject="00u-1", issued_at=T0), address="", now=T0)
    assert signed.actor.username == "clerk"


def test_password_logins_can_be_switched_off(uow, monkeypatch):
    assert sessions.sign_in(uow, username="clerk", password=PASSWORD, address="", now=T0).actor.username == "clerk"
    monkeypatch.setenv("PORTAL_PASSWORD_LOGIN", "false")
    before = _sessions(uow)
    with pytest.raises(LoginRefused) as refused:
        sessions.sign_in(uow, username="clerk", password=PASSWORD, address="", now=T0)
    assert refused.value.message.key == "login.password_off_refused"
    assert _sessions(uow) == before
