"""The client's long-lived objects (dataset store, ledger), built once from settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from client_node.core.config import ClientSettings
from client_node.datasets.store import DatasetStore
from client_node.ledger import PrivacyLedger, make_engine


@dataclass
class ClientContext:
    """Everything a client operation needs besides its arguments."""

    settings: ClientSettings = field(default_factory=ClientSettings)

    @cached_property
    def datasets(self) -> DatasetStore:
        return DatasetStore(self.settings.datasets_dir)

    @cached_property
    def ledger(self) -> PrivacyLedger:
        return PrivacyLedger(make_engine(self.settings.db_url))
