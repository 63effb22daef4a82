"""FastAPI dependencies: state, database session, the authenticated client."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from server_node.core.security import authenticate
from server_node.models import ClientToken
from server_node.state import ServerState


def get_state(request: Request) -> ServerState:
    return request.app.state.server  # type: ignore[no-any-return]


StateDep = Annotated[ServerState, Depends(get_state)]


def get_db(state: StateDep) -> Iterator[Session]:
    with Session(state.engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_db)]


def get_current_client(request: Request, session: SessionDep) -> ClientToken:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return authenticate(session, token.strip() if scheme.lower() == "bearer" else None)


CurrentClient = Annotated[ClientToken, Depends(get_current_client)]
