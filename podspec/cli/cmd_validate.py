"""`podspec validate PATH... [-o text|json]`: schema and semantic checks, no Podman needed.

Exit 0 with a one-line summary when every manifest is valid; exit 1 with every problem as
`FILE:LINE:COL: path.to.field: message (hint)` on stderr. `-o json` prints a list of problems
({file, line, column, path, message, hint}) on stdout: empty when valid.
"""

from __future__ import annotations

import sys
from typing import Any

import typer

from podspec.cli.app import app
from podspec.cli.common import EXIT_ERROR, OUTPUT_OPTION, PATHS_ARGUMENT, OutputFormat, guarded, print_json
from podspec.errors import ManifestError, Problem


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def problem_json(problem: Problem) -> dict[str, Any]:
    return {
        "file": problem.origin.file, "line": problem.origin.line, "column": problem.origin.column,
        "path": problem.path, "message": problem.message, "hint": problem.hint,
    }


@app.command("validate", help="Check manifests against the schema and the semantic rules; exit 1 listing every problem.")
@guarded()
def validate(paths: list[str] = PATHS_ARGUMENT, output: OutputFormat = OUTPUT_OPTION) -> None:
    from podspec.loader import load  # imports yaml and jsonschema: only when validating

    stdin = sys.stdin if "-" in paths else None
    try:
        state = load(paths, stdin=stdin)
    except ManifestError as error:
        if output is not OutputFormat.json:
            raise  # guarded() prints every problem on stderr and exits 1
        print_json([problem_json(p) for p in error.problems])
        raise typer.Exit(EXIT_ERROR)
    if output is OutputFormat.json:
        print_json([])
        return
    typer.echo(
        f"{_plural(len(state.files), 'file')}, {_plural(len(state.pods), 'pod')}, "
        f"{_plural(len(state.claims), 'volume claim')}: valid"
    )
