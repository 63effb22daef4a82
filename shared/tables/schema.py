"""A table's schema: what is public about it (column names and kinds, the label's values, and any
categories or bounds the owner declares public). It travels in the adapter's template, so it must hold
nothing learned from private rows beyond what the owner accepts as public."""

from __future__ import annotations

from enum import StrEnum
from itertools import pairwise

from pydantic import BaseModel, ConfigDict, Field, model_validator

MAX_COLUMNS = 128


class ColumnKind(StrEnum):
    CATEGORICAL = "categorical"
    INTEGER = "integer"
    FLOAT = "float"

    @property
    def numeric(self) -> bool:
        return self is not ColumnKind.CATEGORICAL


def cuts_fit(cuts: list[float], lower: float, upper: float) -> bool:
    """``lower <= c1 < c2 < ... < ck < upper``."""
    return (not cuts or lower <= cuts[0]) and all(a < b for a, b in pairwise([*cuts, upper]))


class ColumnSpec(BaseModel):
    """A column and what is public about it (its categories or its bounds), if anything."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    kind: ColumnKind
    categories: list[str] | None = Field(None, description="public domain of a categorical column")
    lower: float | None = None
    upper: float | None = None
    bins: int = Field(32, ge=1, le=10_000, description="equal bins between public bounds (without cut points)")
    cuts: list[float] | None = Field(None, max_length=1000, description=(
        "public cut points of a numeric column, increasing strictly within its bounds (the first may equal the "
        "lower bound, for a bin of that value alone): its bins are [lower, c1], (c1, c2], ..., (ck, upper]. Skewed "
        "columns need them (equal width puts almost every capital gain in one bin)."))

    @model_validator(mode="after")
    def _cuts_inside_bounds(self) -> ColumnSpec:
        if self.cuts is None:
            return self
        if not self.kind.numeric or self.lower is None or self.upper is None:
            raise ValueError(f"column {self.name!r}: cut points need a numeric column with public bounds")
        if not cuts_fit(self.cuts, self.lower, self.upper):
            raise ValueError(f"column {self.name!r}: cut points must increase strictly within the bounds "
                             f"[{self.lower}, {self.upper}] (the first may equal the lower bound)")
        return self

    @property
    def declared(self) -> bool:
        """Whether the owner declared this column's domain: its categories, or its numeric bounds."""
        return self.categories is not None if self.kind is ColumnKind.CATEGORICAL else \
            self.lower is not None and self.upper is not None

    def edges(self) -> list[float]:
        """The public bin edges of a numeric column with bounds: its cut points, else ``bins`` equal bins."""
        if self.lower is None or self.upper is None:
            raise ValueError(f"column {self.name!r} has no public bounds")
        if self.cuts is not None:
            return [self.lower, *self.cuts, self.upper]
        step = (self.upper - self.lower) / self.bins
        return [self.lower + i * step for i in range(self.bins)] + [self.upper]


class TableSchema(BaseModel):
    """The columns in file order and the label column (a categorical one, whose values are public)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    columns: list[ColumnSpec] = Field(min_length=1, max_length=MAX_COLUMNS)
    label: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> TableSchema:
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError("column names must be unique")
        if self.label is not None:
            if self.label not in names:
                raise ValueError(f"label column {self.label!r} is not a column")
            spec = self.column(self.label)
            if spec.kind is not ColumnKind.CATEGORICAL or not spec.categories or len(spec.categories) < 2:
                raise ValueError("the label column must be categorical with at least 2 public categories")
        return self

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def features(self) -> list[ColumnSpec]:
        """Every column but the label."""
        return [c for c in self.columns if c.name != self.label]

    @property
    def undeclared(self) -> list[str]:
        """Columns whose domain the owner has not declared (a DP release would have to read it off the rows)."""
        return [c.name for c in self.columns if not c.declared]

    @property
    def labels(self) -> list[str]:
        return list(self.column(self.label).categories or []) if self.label else []

    def column(self, name: str) -> ColumnSpec:
        for spec in self.columns:
            if spec.name == name:
                return spec
        raise KeyError(name)
