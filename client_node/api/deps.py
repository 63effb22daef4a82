"""FastAPI dependencies: the client state and the operator's bearer token."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request

from client_node.state import ClientState
from shared.errors import AuthenticationError


def get_state(request: Request) -> ClientState:
    return request.app.state.client  # type: ignore[no-any-return]


StateDep = Annotated[ClientState, Depends(get_state)]


def require_operator(request: Request, state: StateDep) -> None:
    expected = state.ctx.settings.api_token
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if expected is None or scheme.lower() != "bearer" or not hmac.compare_digest(token.strip(), expected.get_secret_value()):
        raise AuthenticationError("missing or wrong operator token (Authorization: Bearer <PRIVSYNTH_CLIENT_API_TOKEN>)")


Operator = Depends(require_operator)
