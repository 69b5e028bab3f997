#!/usr/bin/env bash
# The static checks .ci/run runs before the tests: ruff (style, bugs, complexity), mypy (types) and
# import-linter (the pipeline's layers; the pure core imports no Podman, typer, process or socket).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
status=0
echo "+ ruff check" >&2
.venv/bin/ruff check podspec tests bench tools || status=1
echo "+ mypy" >&2
.venv/bin/mypy || status=1
echo "+ lint-imports" >&2
.venv/bin/lint-imports --no-cache >/dev/null || .venv/bin/lint-imports --no-cache || status=1
exit $status
