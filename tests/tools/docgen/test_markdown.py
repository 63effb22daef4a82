"""Markdown helpers: cells stay one cell, the generated part is replaced and nothing else."""

from __future__ import annotations

import pytest

from tools.docgen.markdown import BEGIN, END, cell, prose, replace_generated, table


def test_cell_escapes_pipes_and_tags_but_not_code() -> None:
    assert cell("a | b <data_dir> `x <y>`") == "a \\| b \\<data_dir> `x <y>`"
    assert prose(prose("<a>")) == "\\<a>"  # idempotent
    assert prose("``device``\n  and  more") == "`device` and more"


def test_table_shape() -> None:
    assert table(["a", "b"], [(1, "x|y")]).splitlines() == ["| a | b |", "|---|---|", "| 1 | x\\|y |"]


def test_replace_generated_keeps_the_hand_written_parts() -> None:
    page = f"intro\n{BEGIN}\nold\n{END}\noutro\n"
    assert replace_generated(page, "new") == f"intro\n{BEGIN}\n\nnew\n\n{END}\noutro\n"
    with pytest.raises(ValueError, match="markers"):
        replace_generated("no markers", "new")
