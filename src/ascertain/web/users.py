"""Users and API tokens of a case's web application (created by `ascertain users`)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, insert, select, update

from ascertain.case import Case
from ascertain.errors import AscertainError
from ascertain.store import schema as s
from ascertain.store.db import now
from ascertain.web.policy import ROLES

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$")
_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))  # verified for unknown names (same cost as a real check)


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: str


ANONYMOUS = User(0, "anonymous", "public")


def add_user(case: Case, name: str, role: str, password: str | None) -> User:
    if not NAME_RE.match(name):
        raise AscertainError(name, "is not a usable user name", "use letters, digits, '.', '_', '@' or '-'")
    if role not in ROLES:
        raise AscertainError("--role", f"unknown role {role!r}", f"choose one of {', '.join(ROLES)}")
    if password is not None and len(password) < 12:
        raise AscertainError("password", "is shorter than 12 characters", "choose a longer password")
    with case.store.begin() as c:
        if c.execute(select(s.web_users.c.id).where(s.web_users.c.name == name)).first():
            raise AscertainError(name, "is already a user of this case", "choose another name")
        uid = c.execute(insert(s.web_users).values(
            name=name, role=role, password_hash=_hasher.hash(password) if password else None,
            created_at=now())).inserted_primary_key[0]
    case.store.audit("users add", {"name": name, "role": role})
    return User(uid, name, role)


TOKEN_DAYS = 90


def _user_id(c, name: str) -> int:
    row = c.execute(select(s.web_users.c.id).where(s.web_users.c.name == name)).first()
    if row is None:
        raise AscertainError(name, "is not a user of this case", f"add it with `ascertain users add CASE {name}`")
    return row.id


def _stamp(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).isoformat(timespec="seconds")


def new_token(case: Case, name: str, days: int = TOKEN_DAYS) -> str:
    """A new API token for the user, valid for `days` (shown once; only its sha256 is kept)."""
    if days < 1:
        raise AscertainError("--days", "must be at least 1", "give the number of days the token works")
    with case.store.begin() as c:
        uid = _user_id(c, name)
        token = secrets.token_urlsafe(32)
        c.execute(insert(s.web_tokens).values(token_sha256=_sha(token), user_id=uid, created_at=now()))
        c.execute(insert(s.web_token_expiry).values(
            token_sha256=_sha(token), expires_at=_stamp(dt.datetime.now(dt.UTC) + dt.timedelta(days=days))))
    case.store.audit("users token", {"name": name, "days": days})
    return token


def by_token(case: Case, token: str) -> User | None:
    """The token's user, unless the token is unknown, revoked or expired."""
    sha = _sha(token)
    with case.store.engine.connect() as c:
        row = c.execute(select(s.web_users).join(s.web_tokens).where(s.web_tokens.c.token_sha256 == sha)
                        ).mappings().first()
        expires = c.execute(select(s.web_token_expiry.c.expires_at)
                            .where(s.web_token_expiry.c.token_sha256 == sha)).scalar()
    if row is None or (expires is not None and expires <= now()):
        return None
    return User(row["id"], row["name"], row["role"])


def start_session(case: Case, user: User) -> str:
    """A new sign-in session (its nonce goes in the signed cookie; the server can end it)."""
    nonce = secrets.token_hex(16)
    with case.store.begin() as c:
        c.execute(insert(s.web_sessions).values(nonce=nonce, user_id=user.id, started_at=now()))
    return nonce


def session_user(case: Case, uid: int, nonce: str, max_seconds: int) -> User | None:
    """The user of a live session: started by this user, not ended, not older than max_seconds."""
    with case.store.engine.connect() as c:
        row = c.execute(select(s.web_sessions).where(s.web_sessions.c.nonce == nonce)).mappings().first()
    if row is None or row["user_id"] != uid or row["ended_at"] is not None:
        return None
    if row["started_at"] < _stamp(dt.datetime.now(dt.UTC) - dt.timedelta(seconds=max_seconds)):
        return None
    return by_id(case, uid)


def end_session(case: Case, nonce: str) -> None:
    with case.store.begin() as c:
        c.execute(update(s.web_sessions).where(s.web_sessions.c.nonce == nonce, s.web_sessions.c.ended_at.is_(None))
                  .values(ended_at=now()))


def _end_all(c, uid: int) -> int:
    return c.execute(update(s.web_sessions).where(s.web_sessions.c.user_id == uid,
                                                  s.web_sessions.c.ended_at.is_(None)).values(ended_at=now())).rowcount


def _drop_tokens(c, uid: int) -> int:
    shas = [r for (r,) in c.execute(select(s.web_tokens.c.token_sha256).where(s.web_tokens.c.user_id == uid))]
    if shas:
        c.execute(delete(s.web_token_expiry).where(s.web_token_expiry.c.token_sha256.in_(shas)))
        c.execute(delete(s.web_tokens).where(s.web_tokens.c.user_id == uid))
    return len(shas)


def revoke(case: Case, name: str) -> dict:
    """Every token of the user stops working and every session of it ends; the user stays."""
    with case.store.begin() as c:
        uid = _user_id(c, name)
        out = {"name": name, "tokens_revoked": _drop_tokens(c, uid), "sessions_ended": _end_all(c, uid)}
    case.store.audit("users revoke", out)
    return out


def remove_user(case: Case, name: str) -> dict:
    """The user, its tokens and its sessions are gone (the audit log keeps what it did)."""
    with case.store.begin() as c:
        uid = _user_id(c, name)
        out = {"name": name, "tokens_revoked": _drop_tokens(c, uid), "sessions_ended": _end_all(c, uid)}
        c.execute(delete(s.web_sessions).where(s.web_sessions.c.user_id == uid))
        c.execute(delete(s.web_users).where(s.web_users.c.id == uid))
    case.store.audit("users remove", out)
    return out


def set_password(case: Case, name: str, password: str) -> dict:
    """A new password; the user's sessions end (its tokens keep working: `users revoke` ends those)."""
    if len(password) < 12:
        raise AscertainError("password", "is shorter than 12 characters", "choose a longer password")
    with case.store.begin() as c:
        uid = _user_id(c, name)
        c.execute(update(s.web_users).where(s.web_users.c.id == uid).values(password_hash=_hasher.hash(password)))
        out = {"name": name, "sessions_ended": _end_all(c, uid)}
    case.store.audit("users passwd", out)
    return out


def by_id(case: Case, uid: int) -> User | None:
    with case.store.engine.connect() as c:
        row = c.execute(select(s.web_users).where(s.web_users.c.id == uid)).mappings().first()
    return User(row["id"], row["name"], row["role"]) if row else None


def check_password(case: Case, name: str, password: str) -> User | None:
    with case.store.engine.connect() as c:
        row = c.execute(select(s.web_users).where(s.web_users.c.name == name)).mappings().first()
    try:
        if not (row and row["password_hash"]):  # the same work as for a known name: no timing tells them apart
            _hasher.verify(_DUMMY_HASH, password)
        elif _hasher.verify(row["password_hash"], password):
            return User(row["id"], row["name"], row["role"])
    except (VerificationError, InvalidHashError):
        pass
    return None


def list_users(case: Case) -> list[dict]:
    with case.store.engine.connect() as c:
        return [{"name": r.name, "role": r.role, "created_at": r.created_at}
                for r in c.execute(select(s.web_users).order_by(s.web_users.c.name))]


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
