"""Bearer tokens: made with a CSPRNG, shown once, stored as sha256, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from server_node.models import ClientToken
from shared.errors import AuthenticationError, TokenNameTakenError

TOKEN_PREFIX = "pst_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, *, name: str) -> tuple[ClientToken, str]:
    """Create a client and its token; the plain token is returned once and never stored."""
    if session.scalar(select(ClientToken).where(ClientToken.name == name)) is not None:
        raise TokenNameTakenError(f"a client named {name!r} already exists", detail={"name": name})
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ClientToken(client_id=uuid.uuid4().hex, name=name, token_sha256=hash_token(token))
    session.add(row)
    session.commit()
    return row, token


def authenticate(session: Session, token: str | None) -> ClientToken:
    """The client a bearer token belongs to.

    Raises:
        AuthenticationError: missing or unknown token.
    """
    if not token:
        raise AuthenticationError("missing bearer token; send 'Authorization: Bearer <token>'")
    digest = hash_token(token)
    row = session.scalar(select(ClientToken).where(ClientToken.token_sha256 == digest))
    if row is None or not hmac.compare_digest(row.token_sha256, digest):
        raise AuthenticationError("unknown bearer token")
    return row
