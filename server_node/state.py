"""The server's long-lived objects, built once at start-up from settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine

from server_node.adapters.intake import IntakePolicy
from server_node.core.config import ServerSettings
from server_node.core.db import make_engine
from server_node.hosting import HostedModels
from server_node.inference.backend import make_backend
from server_node.jobs.runner import JobContext, job_worker
from server_node.pipeline.pool import ModelPool
from shared.adapters import AdapterLimits
from shared.durable import Worker
from shared.models.resolve import resolve_model
from shared.storage import ArtifactStore


@dataclass
class ServerState:
    settings: ServerSettings
    engine: Engine
    hosted: HostedModels
    store: ArtifactStore
    policy: IntakePolicy
    jobs: JobContext
    workers: list[Worker] = field(default_factory=list)

    @classmethod
    def from_settings(cls, settings: ServerSettings) -> ServerState:
        engine = make_engine(settings.db_url)
        hosted = HostedModels.from_specs(settings.base_models, settings.expert_model)
        store = ArtifactStore(settings.artifacts_dir)
        embedder = resolve_model(settings.embedding_model) if settings.embedding_model else None
        pool = ModelPool(expert=hosted.expert, embedder=embedder, compute=settings.compute())
        return cls(
            settings=settings, engine=engine, hosted=hosted, store=store,
            policy=IntakePolicy(
                limits=AdapterLimits(max_total_bytes=settings.max_adapter_bytes, max_rank=settings.max_rank),
                max_epsilon=settings.max_epsilon, allow_non_private=settings.allow_non_private,
            ),
            jobs=JobContext(settings=settings, engine=engine, store=store, hosted=hosted, pool=pool,
                            backend=make_backend(settings, hosted, pool)),
        )

    def start_workers(self) -> None:
        self.store.sweep_incoming()
        self.workers = [job_worker(self.jobs) for _ in range(self.settings.workers)]
        for worker in self.workers:
            worker.start()

    def stop_workers(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.jobs.backend.close()
