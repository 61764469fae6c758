"""The notebooks in ``notebooks/`` run top to bottom (their cells hold their own checks) and are stored without outputs.

Each notebook's code cells are executed in order in one namespace from the repository root, as a
reader running them would; no Jupyter kernel is needed. A notebook that fails an ``assert`` or
raises fails its test.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_and_is_stripped(path, monkeypatch, tmp_path):
    pytest.importorskip("matplotlib")
    notebook = json.loads(path.read_text(encoding="utf-8"))
    code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    assert code, "a notebook without code"
    for cell in code:
        assert not cell.get("outputs") and cell.get("execution_count") is None, "outputs must be stripped in git"
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace: dict = {"__name__": "__main__"}
    for k, cell in enumerate(code):
        source = "".join(cell["source"])
        exec(compile(source, f"{path.name} cell {k}", "exec"), namespace)  # noqa: S102 - the notebook's own code
