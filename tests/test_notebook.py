"""examples/notebook.ipynb, run top to bottom in a fresh kernel: the loop layer, defined in a
cell, shows its table with PASS; the broken copy, FAIL, the diagnosis and a heatmap."""

from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).parents[1] / "examples" / "notebook.ipynb"


def test_the_example_notebook_runs_and_shows_tables_and_a_heatmap(tmp_path):
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    for cell in notebook.cells:  # what the last run stored counts for nothing
        if cell.cell_type == "code":
            cell.outputs = []
    NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    ).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error" or o.get("name") == "stderr"]
    shown = [o.data for o in outputs if o.output_type == "execute_result" and "text/html" in o.data]
    passing, failing = shown
    assert "PASS" in passing["text/html"] and "FAIL" not in passing["text/html"]
    assert "err/allowed" in passing["text/html"]  # the table's header
    assert "FAIL" in failing["text/html"] and "diagnosis: dX: matches a backward" in failing[
        "text/plain"
    ].replace("\n", " ")
    assert failing["text/html"].count('<img alt="heatmap" src="data:image/png;base64,') == 2
