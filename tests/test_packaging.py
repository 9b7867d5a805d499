"""A non-editable install (what Colab's `pip install git+...` gives) carries the code and the bundled data."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_ships_every_package_and_the_bundled_data(tmp_path):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            str(ROOT),
            "-w",
            str(tmp_path),
        ],
        check=True,
    )
    (wheel,) = tmp_path.glob("lossbook-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = (
        "lossbook/model.py",
        "lossbook/data.py",
        "lossbook/convert/__init__.py",
        "lossbook/losses/base.py",
        "lossbook/plots/curves.py",
    )
    for module in modules:
        assert module in names
    repository_csvs = {
        f"lossbook/bundled_data/{path.relative_to(ROOT / 'data')}" for path in (ROOT / "data").rglob("*.csv")
    }
    assert repository_csvs and repository_csvs <= names


def test_every_subpackage_is_declared():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+

    declared = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "lossbook").rglob("__init__.py")}
    assert on_disk <= declared, f"add {sorted(on_disk - declared)} to [tool.setuptools] packages"
