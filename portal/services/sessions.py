"""Logging in and out (SPEC §1): server-side sessions and the login throttle.

A login creates a row in `login_sessions`; the browser's re-login cookie holds only a random
token whose SHA-256 is that row's key. Every run of every page resumes the session from the
database, so logging out, disabling a user or resetting their password ends the session in every
process at once, and a copied cookie is worth nothing afterwards. A cookie the portal did not
issue simply matches no row.

Failed logins are counted per user name typed (whether or not it exists) and per address; past
the `auth.*` settings the name or address is locked for a while. The messages never say whether
a user exists.
"""
from __future__ import annotations

import hashlib
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

import bcrypt
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal import config
from portal.domain.errors import DomainError
from portal.domain.passwords import can_be_a_password
from portal.domain.text import strip_controls
from portal.persistence.database import UnitOfWork
from portal.persistence.models import Event, LoginFailure, LoginSession, User
from portal.services import rules
from portal.services.actors import Actor, to_actor
from portal.services.audit import record_event

# Checked against when the user name is unknown, so an unknown name costs what a known one does.
_DUMMY_HASH = bcrypt.hashpw(b"no such user", bcrypt.gensalt()).decode()
TOKEN_BYTES = 32
MAX_TOKEN = 200          # longer cookies are not ours


class LoginRefused(DomainError):
    """Wrong name or password, or locked for a while: the message never says whether the user exists."""


@dataclass(frozen=True)
class SignedIn:
    token: str
    actor: Actor
    expires_at: datetime


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def normal_username(typed: object) -> str:
    """The user name as the login compares it: NFKC, no control characters, trimmed, lower case."""
    text = unicodedata.normalize("NFKC", typed if isinstance(typed, str) else "")
    return strip_controls(text).strip().lower()[:40]


def _address(address: object) -> str:
    return strip_controls(address if isinstance(address, str) else "")[:64]


def _int_setting(values: dict[str, str], key: str, default: int) -> int:
    try:
        return max(1, int(values.get(key, default)))
    except ValueError:
        return default


def _locked(session: Session, username: str, address: str, now: datetime, values: dict[str, str]) -> bool:
    since = now - timedelta(minutes=_int_setting(values, "auth.lockout_minutes", 15))
    by_name = session.scalar(select(func.count()).select_from(LoginFailure)
                             .where(LoginFailure.username == username, LoginFailure.at > since))
    by_address = session.scalar(select(func.count()).select_from(LoginFailure)
                                .where(LoginFailure.address == address, LoginFailure.at > since)) if address else 0
    return (by_name >= _int_setting(values, "auth.lockout_failures", 5)
            or by_address >= _int_setting(values, "auth.address_lockout_failures", 20))


def sign_in(uow: UnitOfWork, *, username: object, password: object, address: object, now: datetime) -> SignedIn:
    """Check the password (bcrypt) unless the name or address is locked; open a session.

    The bcrypt check (a quarter of a second on purpose) runs between two short transactions, never inside the
    write: on SQLite a write transaction holds the database's one write lock, and thirty trainees logging in
    together queued behind each other's hashing. The write checks the lockout again and that the hash checked is
    still the user's, so parallel guesses gain nothing: one that finds the account locked by then is refused."""
    if not config.password_login():        # a single-sign-on-only installation: no password opens a session
        raise LoginRefused("login.password_off_refused")
    name, where = normal_username(username), _address(address)
    secret = password if isinstance(password, str) else ""
    with uow.read() as session:
        values = rules.settings(session)
        locked = _locked(session, name, where, now, values)
        user = None if locked or not name else session.scalar(select(User).where(User.username == name))
        stored = user.password_hash if user is not None and user.active else _DUMMY_HASH
    matches = not locked and can_be_a_password(secret) and bcrypt.checkpw(secret.encode(), stored.encode())
    refusal: LoginRefused | None = None
    with uow.write() as session:
        values = rules.settings(session)
        minutes = _int_setting(values, "auth.lockout_minutes", 15)
        if locked or _locked(session, name, where, now, values):
            record_event(session, actor=None, at=now, action="auth.locked", changes={"username": name, "address": where})
            refusal = LoginRefused("login.locked", minutes=minutes)
        else:
            user = session.scalar(select(User).where(User.username == name)) if name else None
            if matches and user is not None and user.active and user.password_hash == stored:
                token, expires = open_session(session, user_id=user.id, address=where, now=now,
                                              hours=_int_setting(values, "auth.session_hours", 12))
                session.execute(delete(LoginFailure).where(LoginFailure.username == name))
                record_event(session, actor=user, at=now, action="auth.login", changes={"address": where})
                return SignedIn(token, to_actor(user), expires)
            session.add(LoginFailure(username=name, address=where, at=now))
            session.execute(delete(LoginFailure).where(LoginFailure.at < now - timedelta(days=1)))
            record_event(session, actor=None, at=now, action="auth.login_failed",
                         changes={"username": name, "address": where})
            refusal = LoginRefused("login.failed")
    raise refusal


@dataclass(frozen=True)
class Identity:
    """Who the company's OpenID provider says signed in (its ID token's claims); `issued_at` is the token's `iat` in
    the portal's local time."""
    subject: str
    email: str = ""
    issuer: str = ""
    email_verified: bool = False
    issued_at: datetime | None = None


SSO_FRESH = timedelta(minutes=5)     # an ID token older than this opens no portal session: sign in again


class SignOnAgain(LoginRefused):
    """The provider's sign-in in this browser is not a fresh one (issued too long ago, or already used for a portal
    session that has ended since): the person signs in with the company account again."""


def sso_subject_text(value: object) -> str:
    """A subject as stored and as compared: NFKC, no control characters, trimmed."""
    return _claim(value, 255)


def _claim(value: object, limit: int) -> str:
    return strip_controls(unicodedata.normalize("NFKC", value if isinstance(value, str) else "")).strip()[:limit]


def _identified(session: Session, subject: str, email: str, verified: bool) -> User | None:
    """The portal user a company account is: the one holding its subject, or else the one user whose e-mail address
    is the account's verified address (two users with one address match neither: nobody is signed in as a guess)."""
    if subject:
        user = session.scalar(select(User).where(User.sso_subject == subject))
        if user is not None:
            return user
    if email and verified:
        found = session.scalars(select(User).where(func.lower(User.email) == email, User.sso_subject.is_(None))
                                .limit(2)).all()
        if len(found) == 1:
            return found[0]
    return None


def sign_in_with_identity(uow: UnitOfWork, *, identity: Identity, address: object, now: datetime) -> SignedIn:
    """A login through the company's single sign-on: the provider has checked who it is; the portal decides whether
    that identity is one of its users, and an active one. Roles, department and level stay the portal's.

    Only a fresh sign-in opens a session, and only once: Streamlit keeps the provider's identity in the browser for
    weeks, and a portal session that expired, or was ended by a logout elsewhere, must not reopen from it. A user
    matched by e-mail is tied to the account's subject from then on. A refusal (unknown identity, disabled user) is
    audited and says which, since the person did prove who they are."""
    subject, email = sso_subject_text(identity.subject), _claim(identity.email, 100).lower()
    issuer, where = _claim(identity.issuer, 200), _address(address)
    issued = identity.issued_at
    if not subject or issued is None or not now - SSO_FRESH <= issued <= now + SSO_FRESH:
        raise SignOnAgain("login.sso_again")
    key = f"{issuer}|{subject}|{issued.isoformat()}"[:300]
    seen = {"subject": subject, "email": email, "issuer": issuer, "address": where}
    try:
        with uow.write() as session:
            if session.scalar(select(LoginSession.id).where(LoginSession.sso_key == key)) is not None:
                raise SignOnAgain("login.sso_again")
            user = _identified(session, subject, email, identity.email_verified)
            if user is not None and user.active:
                if user.sso_subject is None:       # matched by e-mail: by the subject from now on
                    user.sso_subject = subject
                    record_event(session, actor=user, at=now, action="user.sso_subject",
                                 changes={"username": user.username, "sso_subject": subject, "tied": "first sign-on"})
                values = rules.settings(session)
                token, expires = open_session(session, user_id=user.id, address=where, now=now,
                                              hours=_int_setting(values, "auth.session_hours", 12), sso_key=key)
                record_event(session, actor=user, at=now, action="auth.login", changes={**seen, "via": "sso"})
                return SignedIn(token, to_actor(user), expires)
            reason = "unknown" if user is None else "disabled"
            # once per sign-in: the pages a refused person opens next (new tabs included) are not new attempts
            earlier = session.scalars(select(Event.changes).where(Event.action == "auth.sso_refused",
                                                                  Event.at >= issued - SSO_FRESH))
            if not any(isinstance(c, dict) and c.get("sign_in") == key for c in earlier):
                record_event(session, actor=user, at=now, action="auth.sso_refused",
                             changes={**seen, "reason": reason, "sign_in": key})
    except IntegrityError:          # the same sign-in used at the same moment by another tab: that one won
        raise SignOnAgain("login.sso_again") from None
    raise LoginRefused(f"login.sso_{reason}", account=email or subject)


def open_session(session: Session, *, user_id: int, address: str, now: datetime, hours: int,
                 sso_key: str | None = None) -> tuple[str, datetime]:
    """A new session row for a user whose identity is already established; its token."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    expires = now + timedelta(hours=hours)
    session.add(LoginSession(token_hash=_hash(token), user_id=user_id, address=address,
                             created_at=now, expires_at=expires, sso_key=sso_key))
    session.flush()
    return token, expires


def resume(uow: UnitOfWork, *, token: object, now: datetime) -> Actor | None:
    """The user of a live session, or None: unknown, expired or revoked token, disabled user."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN:
        return None
    with uow.read() as session:
        user = session.scalar(
            select(User).join(LoginSession, LoginSession.user_id == User.id)
            .where(LoginSession.token_hash == _hash(token), LoginSession.revoked_at.is_(None),
                   LoginSession.expires_at > now, User.active))
        return to_actor(user) if user is not None else None


def sign_out(uow: UnitOfWork, *, token: object, now: datetime) -> None:
    """Revoke the session: its cookie, and any copy of it, is refused from now on."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN:
        return
    with uow.write() as session:
        row = session.scalar(select(LoginSession).where(LoginSession.token_hash == _hash(token)))
        if row is None or row.revoked_at is not None:
            return
        row.revoked_at, row.revoked_reason = now, "logout"
        record_event(session, actor=session.get(User, row.user_id), at=now, action="auth.logout")


def revoke_user_sessions(session: Session, *, user_id: int, now: datetime, reason: str) -> int:
    """End every live session of a user (disabled, password reset), inside the caller's transaction."""
    result = session.execute(update(LoginSession)
                             .where(LoginSession.user_id == user_id, LoginSession.revoked_at.is_(None))
                             .values(revoked_at=now, revoked_reason=reason))
    return int(result.rowcount or 0)


def purge_ended(uow: UnitOfWork, *, now: datetime, older_than_days: int) -> int:
    """Delete the session rows that ended (logged out, revoked or expired) more than `older_than_days` ago: they
    can never resume, and the audit trail keeps every login and logout. Returns how many went."""
    if older_than_days < 1:
        raise ValueError("older_than_days must be at least 1")
    cutoff = now - timedelta(days=older_than_days)
    with uow.write() as session:
        gone = int(session.execute(delete(LoginSession).where(
            or_(LoginSession.revoked_at < cutoff, LoginSession.expires_at < cutoff))).rowcount or 0)
        record_event(session, actor=None, at=now, action="auth.sessions_purged",
                     changes={"rows": gone, "ended_before": cutoff})
        return gone
