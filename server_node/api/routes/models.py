"""The models this server hosts."""

from __future__ import annotations

from fastapi import APIRouter

from server_node.api.deps import CurrentClient, StateDep
from shared.protocol import ModelInfo, ModelRole, ModelsPublic

router = APIRouter(prefix="/models", tags=["models"])


@router.get("", response_model=ModelsPublic)
def read_models(state: StateDep, _client: CurrentClient) -> ModelsPublic:
    """Base models (train your adapter on one of these) and the expert."""
    data = [ModelInfo(model_id=m.signature.model_id, role=ModelRole.BASE, weights_sha256=m.signature.weights_sha256,
                      chat=m.resolved.chat) for m in state.hosted.base.values()]
    if state.hosted.expert is not None:
        data.append(ModelInfo(model_id=state.hosted.expert.model_id, role=ModelRole.EXPERT, chat=state.hosted.expert.chat))
    return ModelsPublic(data=data)
