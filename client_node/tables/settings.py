"""How a table run builds its training examples (HARMONIC on the client)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from client_node.tables.marginals import MarginalSettings
from shared.protocol import MAX_EXAMPLE_ROWS


class NeighbourSource(StrEnum):
    AUTO = "auto"  # the DP reference pool under DP, the private rows without
    REFERENCE = "reference"  # rows sampled from noisy per-label histograms: one private row per example
    MARGINALS = "marginals"  # rows synthesized by AIM or MST: one private row per example, the joint kept
    PRIVATE = "private"  # the other private rows (HARMONIC as published): non-private runs only


class TableSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    neighbours: int = Field(5, ge=0, le=32, description="k: example rows shown with each target row")
    neighbour_source: NeighbourSource = NeighbourSource.AUTO
    label_consistency: bool = Field(True, description="drop targets whose neighbours mostly carry another label")
    empty_share: float = Field(0.25, ge=0, le=1, description=(
        "share of examples without neighbours: the server's bootstrap writes its first rows from that bare prompt"))
    reference_share: float = Field(0.1, gt=0, lt=1, description="share of epsilon and delta the reference pool takes")
    reference_factor: float = Field(10.0, gt=0, le=1000, description="reference rows per private row")
    example_rows: int = Field(1000, ge=0, le=MAX_EXAMPLE_ROWS, description=(
        "reference rows sent with the server's job for its prompts to show (post-processing of the pool's DP "
        "release), as training showed them; 0: the server's prompts show rows the model wrote itself"))
    marginals: MarginalSettings = Field(default_factory=MarginalSettings,
                                        description="neighbour_source 'marginals': the release that makes the pool")
    seed: int = 0
