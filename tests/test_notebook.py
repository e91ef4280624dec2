"""The quickstart notebook's code runs as written (executed cell by cell, without Jupyter)."""

import json
import re
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "quickstart.ipynb"
# nbformat 4.5's schema for a cell id
CELL_ID = re.compile(r"^[a-zA-Z0-9-_]{1,64}$")


def test_every_cell_has_a_unique_nbformat_id() -> None:
    notebook = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    assert (notebook["nbformat"], notebook["nbformat_minor"]) >= (4, 5)
    ids = [cell.get("id", "") for cell in notebook["cells"]]
    assert all(CELL_ID.match(cell_id) for cell_id in ids), ids
    assert len(set(ids)) == len(ids)


@pytest.mark.slow
def test_quickstart_notebook_runs() -> None:
    import matplotlib

    matplotlib.use("Agg")  # no display in CI; Jupyter uses its inline backend
    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    namespace: dict[str, object] = {}
    for cell in cells:
        if cell["cell_type"] == "code":
            exec(compile("".join(cell["source"]), str(NOTEBOOK), "exec"), namespace)
    assert namespace["aug"] is not None
    # the plot cell drew one bar per cluster (its rule count) and one per query (the tokens augment injected)
    by_cluster, by_query = namespace["fig"].axes
    clusters, tokens = namespace["clusters"], namespace["tokens"]
    assert [bar.get_height() for bar in by_cluster.patches] == [len(c.rule_ids) for c in clusters]
    assert [bar.get_width() for bar in by_query.patches] == tokens
    assert max(tokens) > 0 and min(tokens) == 0  # a cooking query gets rules, the chess one none
