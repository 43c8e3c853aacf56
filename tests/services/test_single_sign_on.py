"""Single sign-on, the service's side: the identity the company's provider vouches for is mapped to a portal user (by
the subject tied to the user, or else by the one user with that e-mail), whose roles stay the portal's; an unknown or
disabled identity is refused, audited, and opens no session; password logins can be switched off."""
from __future__ import annotations

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
                                                                   issuer="https://idp.example"),
                                            address="10.1.2.3", now=T0)
    assert signed.actor.username == "gmo" and signed.actor.roles == {"gm_office"}
    assert sessions.resume(uow, token=signed.token, now=T0) is not None
    event = _last_event(uow)
    assert event.action == "auth.login" and event.changes["via"] == "sso" and event.changes["subject"] == "00u-4711"


def test_without_a_tied_subject_the_one_user_with_that_email_signs_in(uow):
    _email(uow, "clerk", "Clerk.One@Corp.Example")
    signed = sessions.sign_in_with_identity(uow, identity=Identity(subject="abc", email="clerk.one@corp.example"),
                                            address="", now=T0)
    assert signed.actor.username == "clerk"


def test_two_users_with_one_email_match_neither(uow):
    _email(uow, "clerk", "shared@corp.example")
    _email(uow, "lead", "shared@corp.example")
    with pytest.raises(LoginRefused) as refused:
        sessions.sign_in_with_identity(uow, identity=Identity(subject="x", email="shared@corp.example"), address="",
                                       now=T0)
    assert refused.value.message.key == "login.sso_unknown"


def test_an_unknown_identity_is_refused_audited_and_opens_no_session(uow):
    before = _sessions(uow)
    with pytest.raises(LoginRefused) as refused:
        sessions.sign_in_with_identity(uow, identity=Identity(subject="stranger", email="stranger@corp.example"),
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
        sessions.sign_in_with_identity(uow, identity=Identity(subject="t", email="tech@corp.example"), address="",
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
    users.set_sso_subject(uow, actor=None, username="gmo", subject=None, now=T0)
    users.set_sso_subject(uow, actor=None, username="clerk", subject="00u-1", now=T0)
    signed = sessions.sign_in_with_identity(uow, identity=Identity(subject="00u-1"), address="", now=T0)
    assert signed.actor.username == "clerk"


def test_password_logins_can_be_switched_off(uow, monkeypatch):
    assert sessions.sign_in(uow, username="clerk", password=PASSWORD, address="", now=T0).actor.username == "clerk"
    monkeypatch.setenv("PORTAL_PASSWORD_LOGIN", "false")
    before = _sessions(uow)
    with pytest.raises(LoginRefused) as refused:
        sessions.sign_in(uow, username="clerk", password=PASSWORD, address="", now=T0)
    assert refused.value.message.key == "login.password_off_refused"
    assert _sessions(uow) == before
