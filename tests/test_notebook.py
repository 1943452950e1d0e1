"""The Colab notebook runs top to bottom in smoke mode on CPU."""
import os

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PATH = os.path.join(ROOT, "notebooks", "gmn_colab.ipynb")


def test_notebook_has_no_outputs_and_few_cells():
  nb = nbformat.read(PATH, as_version=4)
  assert len(nb.cells) < 20
  assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
  assert "SMOKE = True" in nb.cells[1].source


def test_notebook_runs_in_smoke_mode(tmp_path):
  nb = nbformat.read(PATH, as_version=4)
  nb.cells[1].source = nb.cells[1].source.replace(
      '"/tmp/gmn_notebook_run"', repr(str(tmp_path / "run")))
  NotebookClient(nb, timeout=900, kernel_name="python3",
                 resources={"metadata": {"path": ROOT}}).execute()
