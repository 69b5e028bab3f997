"""The dependency rule: the pure core imports neither podman nor typer (see design.md)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "podspec"
# Only these may import the outside world: the engine (podman) and the CLI (typer).
ALLOWED = {"podman": ("engine",), "typer": ("cli",), "click": ()}


def imported_modules(path: Path, depth: int = 1) -> set[str]:
    """Absolute imports of a file, cut to their first `depth` dotted parts."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(".".join(alias.name.split(".")[:depth]) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(".".join(node.module.split(".")[:depth]))
    return names


def test_core_imports_neither_podman_nor_typer():
    offenders = []
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 5, "the package was not found"
    for path in files:
        part = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
        for module in imported_modules(path) & ALLOWED.keys():
            if part not in ALLOWED[module]:
                offenders.append(f"{path.relative_to(PACKAGE.parent)} imports {module}")
    assert offenders == []


def test_the_check_sees_an_offending_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nfrom podman import PodmanClient\nimport typer.testing\n")
    assert imported_modules(bad) == {"os", "podman", "typer"}


def test_core_reaches_neither_the_engine_nor_the_cli():
    # Indirectly importing podman or typer through podspec's own outer layers counts too.
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        part = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
        layers = {m for m in imported_modules(path, depth=2) if m in ("podspec.engine", "podspec.cli")}
        if part == "engine":
            layers.discard("podspec.engine")
        if part in ("cli", "__main__"):  # the composition root and its entry point
            layers.clear()
        if part == "engine" and "podspec.cli" in layers or part not in ("engine", "cli") and layers:
            offenders.append(f"{path.relative_to(PACKAGE.parent)} imports {sorted(layers)}")
    assert offenders == []
