"""Users and API tokens of a case's web application (created by `ascertain users`)."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import insert, select

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


def new_token(case: Case, name: str) -> str:
    """A new API token for the user (shown once; only its sha256 is kept)."""
    with case.store.begin() as c:
        row = c.execute(select(s.web_users.c.id).where(s.web_users.c.name == name)).first()
        if row is None:
            raise AscertainError(name, "is not a user of this case", f"add it with `ascertain users add CASE {name}`")
        token = secrets.token_urlsafe(32)
        c.execute(insert(s.web_tokens).values(token_sha256=_sha(token), user_id=row.id, created_at=now()))
    case.store.audit("users token", {"name": name})
    return token


def by_token(case: Case, token: str) -> User | None:
    with case.store.engine.connect() as c:
        row = c.execute(select(s.web_users).join(s.web_tokens).where(s.web_tokens.c.token_sha256 == _sha(token))
                        ).mappings().first()
    return User(row["id"], row["name"], row["role"]) if row else None


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
