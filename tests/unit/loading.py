"""Loading a manifest written by a test: the loader's problems as text, the file's path as F."""

from __future__ import annotations

import textwrap
from pathlib import Path

from podspec.errors import ManifestError
from podspec.loader import load


def problems(tmp_path: Path, text: str) -> list[str]:
    """The problems of one manifest file holding `text` (dedented); [] when it loads."""
    path = tmp_path / "m.yaml"
    path.write_text(textwrap.dedent(text))
    try:
        load([str(path)])
    except ManifestError as error:
        return [str(p).replace(str(path), "F") for p in error.problems]
    return []
