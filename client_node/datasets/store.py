"""Private datasets on local disk, named by content hash, with a fixed held-out split for evaluation."""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from shared.conditions import ConditionSpace
from shared.errors import DatasetNotFoundError, DatasetValidationError
from shared.records import Record, records_sha256
from shared.tables import Row, TableSchema, parse_row_json, row_json

RECORDS_FILE = "records.jsonl"
INFO_FILE = "dataset.json"


@dataclass(frozen=True)
class StoredDataset:
    """A dataset as stored: its id (content hash prefix), description, and the train/held-out split."""

    dataset_id: str
    name: str
    task: str
    sha256: str
    records: tuple[Record, ...]
    holdout_indices: tuple[int, ...]
    created_at: str
    schema: TableSchema | None = None  # a table: each record's text is one row as JSON
    conditions: ConditionSpace | None = None  # declared domains of the records' conditions

    @property
    def kind(self) -> str:
        return "table" if self.schema is not None else "text"

    @property
    def train_rows(self) -> list[Row]:
        return [_row(r) for r in self.train_records]

    @property
    def holdout_rows(self) -> list[Row]:
        return [_row(r) for r in self.holdout_records]

    @property
    def train_records(self) -> list[Record]:
        held = set(self.holdout_indices)
        return [r for i, r in enumerate(self.records) if i not in held]

    @property
    def holdout_records(self) -> list[Record]:
        return [self.records[i] for i in self.holdout_indices]

    def summary(self) -> dict[str, object]:
        out: dict[str, object] = {
            "dataset_id": self.dataset_id, "name": self.name, "task": self.task, "kind": self.kind, "sha256": self.sha256,
            "records": len(self.records), "train": len(self.records) - len(self.holdout_indices),
            "holdout": len(self.holdout_indices), "created_at": self.created_at}
        if self.schema is not None:
            out["schema"] = self.schema.model_dump(mode="json", exclude_defaults=True)
        if self.conditions is not None:
            out["conditions"] = self.conditions.domains
        return out


class DatasetStore:
    """Datasets under ``root/<dataset_id>/``; writes are atomic, the same content maps to the same id."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def add_table(self, rows: list[Row], schema: TableSchema, *, name: str, task: str, holdout_fraction: float = 0.1,
                  seed: int = 0) -> StoredDataset:
        """Store a table's rows (each as a text record: its JSON in column order) with their schema."""
        records = [Record(text=row_json(row, schema.names)) for row in rows]
        return self.add(records, name=name, task=task, holdout_fraction=holdout_fraction, seed=seed, schema=schema)

    def add(
        self, records: list[Record], *, name: str, task: str, holdout_fraction: float = 0.1, seed: int = 0,
        schema: TableSchema | None = None, conditions: ConditionSpace | None = None,
    ) -> StoredDataset:
        """Store records (idempotent on content) and fix a seeded held-out split.

        Raises:
            DatasetValidationError: too few records to keep a held-out split, or a bad fraction.
        """
        if not 0 < holdout_fraction < 1:
            raise DatasetValidationError(f"holdout_fraction must be in (0, 1), got {holdout_fraction}")
        if len(records) < 2:
            raise DatasetValidationError(
                f"a dataset needs at least 2 records (one held out), got {len(records)}",
                detail={"problems": [{"line": 0, "problem": "too few records"}]},
            )
        if not task.strip():
            raise DatasetValidationError("a dataset needs a task description (it becomes the data-free prompt)")
        sha = records_sha256(records)
        if schema is not None:  # the same rows under another schema are another dataset
            sha = hashlib.sha256(f"{sha}\n{schema.model_dump_json()}".encode()).hexdigest()
        if conditions is not None:  # ... and the same records under other declared domains
            sha = hashlib.sha256(f"{sha}\nconditions {conditions.model_dump_json()}".encode()).hexdigest()
        dataset_id = sha[:16]
        if (self.root / dataset_id / INFO_FILE).is_file():
            return self.get(dataset_id)
        n_holdout = min(len(records) - 1, max(1, round(len(records) * holdout_fraction)))
        order = list(range(len(records)))
        random.Random(seed).shuffle(order)
        info = {"dataset_id": dataset_id, "name": name, "task": " ".join(task.split()), "sha256": sha,
                "holdout_indices": sorted(order[:n_holdout]), "created_at": datetime.now(UTC).isoformat(),
                "records": len(records)}
        if schema is not None:
            info["schema"] = schema.model_dump(mode="json")
        if conditions is not None:
            info["conditions"] = conditions.model_dump(mode="json")
        self.root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self.root, prefix=".incoming-") as tmp:
            work = Path(tmp) / dataset_id
            work.mkdir()
            with (work / RECORDS_FILE).open("w", encoding="utf-8") as out:
                for record in records:
                    out.write(json.dumps(record.fields(), ensure_ascii=False, sort_keys=True) + "\n")
            (work / INFO_FILE).write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")
            target = self.root / dataset_id
            if target.exists():  # a half-written directory from a crash: replace it
                shutil.rmtree(target)
            work.rename(target)
        return self.get(dataset_id)

    def get(self, dataset_id: str) -> StoredDataset:
        """Load a stored dataset.

        Raises:
            DatasetNotFoundError: no dataset with that id.
        """
        folder = self.root / dataset_id
        if not dataset_id.isalnum() or not (folder / INFO_FILE).is_file():
            raise DatasetNotFoundError(f"no dataset {dataset_id!r} in {self.root}", detail={"dataset_id": dataset_id})
        info = json.loads((folder / INFO_FILE).read_text())
        with (folder / RECORDS_FILE).open(encoding="utf-8") as handle:
            records = tuple(Record.from_fields(json.loads(line)) for line in handle if line.strip())
        return StoredDataset(
            dataset_id=info["dataset_id"], name=info["name"], task=info["task"], sha256=info["sha256"],
            records=records, holdout_indices=tuple(info["holdout_indices"]), created_at=info["created_at"],
            schema=TableSchema.model_validate(info["schema"]) if info.get("schema") else None,
            conditions=ConditionSpace.model_validate(info["conditions"]) if info.get("conditions") else None,
        )

    def ids(self) -> list[str]:
        """Stored dataset ids in a stable order (by id), without reading their records."""
        if not self.root.is_dir():
            return []
        return [p.name for p in sorted(self.root.iterdir()) if p.name.isalnum() and (p / INFO_FILE).is_file()]

    def list(self) -> list[StoredDataset]:
        return [self.get(dataset_id) for dataset_id in self.ids()]


def _row(record: Record) -> Row:
    row = parse_row_json(record.text)
    assert row is not None, "a stored table record is one JSON object"
    return row
