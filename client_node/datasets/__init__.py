"""Private dataset intake, validation and local storage."""

from client_node.datasets.intake import IntakeReport, ParsedDataset, parse_dataset, read_dataset
from client_node.datasets.store import DatasetStore, StoredDataset
from shared.records import Record, records_sha256

__all__ = [
    "DatasetStore",
    "IntakeReport",
    "ParsedDataset",
    "Record",
    "StoredDataset",
    "parse_dataset",
    "read_dataset",
    "records_sha256",
]
