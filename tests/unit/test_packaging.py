"""The wheel ships what an installed podspec needs: the schema and the console script."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_wheel_contains_schema_and_entry_point(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True, cwd=tmp_path,
    )
    (wheel,) = tmp_path.glob("podspec-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        assert "podspec/schemas/manifest.schema.json" in names
        assert "podspec/loader/__init__.py" in names and "podspec/engine/__init__.py" in names
        entry_points = next(n for n in names if n.endswith("entry_points.txt"))
        assert "podspec = podspec.__main__:main" in archive.read(entry_points).decode()
        assert not any(n.startswith(("tests/", "tools/", "bench/")) for n in names)
