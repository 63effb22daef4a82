import pytest
import torch

from client_node.evaluation.privacy.dcr import closest_distances, summarize


def test_distance_to_the_closest_reference_row() -> None:
    refs = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    queries = torch.nn.functional.normalize(torch.tensor([[1.0, 0.0], [1.0, 1.0], [-1.0, 0.0]]), dim=1)
    got = closest_distances(queries, refs, chunk=2)
    assert got == pytest.approx([0.0, 1 - 2**-0.5, 1.0], abs=1e-6)


def test_summary_against_the_holdout_reference() -> None:
    summary = summarize([0.0, 0.1, 0.2, 0.3, 0.4], holdout_p05=0.15)
    assert summary.median == pytest.approx(0.2)
    assert summary.share_closer_than_holdout_p05 == pytest.approx(0.4)
    assert summary.n == 5
