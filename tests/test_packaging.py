"""The built wheel ships only the `cascade` package (plus its data), never `models` or `solvers`."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_top_level_names(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    (wheel,) = tmp_path.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names}
    assert top == {"cascade", wheel.name.split("-")[0] + "-" + wheel.name.split("-")[1] + ".dist-info"}
    assert "cascade/data/demo_food_plant.yaml" in names


def test_nothing_reads_the_shared_folder():
    for path in [*ROOT.joinpath("cascade").rglob("*.py"), *ROOT.joinpath("tests").rglob("*.py")]:
        if path.name == "test_packaging.py":
            continue
        assert "../shared" not in path.read_text(encoding="utf-8"), path
