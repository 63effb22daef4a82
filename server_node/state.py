"""The server's long-lived objects, built once at start-up from settings."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from server_node.adapters.intake import IntakePolicy
from server_node.core.config import ServerSettings
from server_node.core.db import make_engine
from server_node.hosting import HostedModels
from server_node.storage import ArtifactStore
from shared.adapters import AdapterLimits


@dataclass
class ServerState:
    settings: ServerSettings
    engine: Engine
    hosted: HostedModels
    store: ArtifactStore
    policy: IntakePolicy

    @classmethod
    def from_settings(cls, settings: ServerSettings) -> ServerState:
        return cls(
            settings=settings,
            engine=make_engine(settings.db_url),
            hosted=HostedModels.from_specs(settings.base_models, settings.expert_model),
            store=ArtifactStore(settings.artifacts_dir),
            policy=IntakePolicy(
                limits=AdapterLimits(max_total_bytes=settings.max_adapter_bytes, max_rank=settings.max_rank),
                max_epsilon=settings.max_epsilon, allow_non_private=settings.allow_non_private,
            ),
        )
