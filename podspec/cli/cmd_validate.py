"""`podspec validate PATH... [-o text|json]`: schema, semantic and policy checks, no Podman needed.

Exit 0 with a one-line summary when every manifest is valid; exit 1 with every problem as
`FILE:LINE:COL: path.to.field: message (hint)` on stderr. `-o json` prints a list of problems
({file, line, column, path, message, hint}) on stdout: empty when valid. `-o markdown` prints a
report for a pull-request comment; `-o github` one `::error file=...,line=...,col=...::` workflow
command per problem (nothing when valid), so that GitHub shows each on its line.
"""

from __future__ import annotations

import typer

from podspec.cli import context
from podspec.cli.application import app
from podspec.cli.common import (
    ALLOW_CAPABILITY_OPTION,
    ALLOW_HOST_PATH_OPTION,
    ALLOW_HOST_PORT_OPTION,
    EXIT_ERROR,
    EXIT_OK,
    PATHS_ARGUMENT,
    POLICY_OPTION,
    REQUIRE_ENCRYPTED_SECRETS_OPTION,
    STRICT_OPTION,
    VALIDATE_OUTPUT_OPTION,
    ValidateOutput,
    guarded,
    print_json,
)
from podspec.errors import ManifestError, PodspecError


@app.command("validate", help="Check manifests against the schema and the semantic rules; exit 1 listing every problem.")
@guarded()
def validate(
    paths: list[str] = PATHS_ARGUMENT,
    output: ValidateOutput = VALIDATE_OUTPUT_OPTION,
    policy: str | None = POLICY_OPTION,
    allow_host_path: list[str] | None = ALLOW_HOST_PATH_OPTION,
    allow_host_port: list[str] | None = ALLOW_HOST_PORT_OPTION,
    allow_capability: list[str] | None = ALLOW_CAPABILITY_OPTION,
    require_encrypted_secrets: bool = REQUIRE_ENCRYPTED_SECRETS_OPTION,
    strict: bool = STRICT_OPTION,
) -> None:
    from podspec import render
    from podspec.run.validate import validate as run_validate

    manifests = context.manifests(paths, context.policy(policy, allow_host_path, allow_host_port, allow_capability, require_encrypted_secrets), strict)
    try:
        result = run_validate(manifests)  # imports yaml and jsonschema: only here
    except ManifestError as error:
        if output is ValidateOutput.text:
            raise  # guarded() prints every problem on stderr and exits 1
        if output is ValidateOutput.json:
            print_json([render.problem_json(p) for p in error.problems])
        elif output is ValidateOutput.markdown:
            typer.echo(render.validate_markdown(None, error.problems), nl=False)
        else:
            typer.echo(render.github_annotations(error.problems), nl=False)
        raise typer.Exit(EXIT_ERROR) from None
    except PodspecError as error:
        if output is not ValidateOutput.github:
            raise
        typer.echo(render.github_error(error, "podspec validate"), nl=False)
        raise typer.Exit(EXIT_ERROR) from None
    for warning in result.desired.warnings:
        context.say_err(f"warning: {warning}")
    if output is ValidateOutput.json:
        print_json([])
    elif output is ValidateOutput.markdown:
        typer.echo(render.validate_markdown(result), nl=False)
    elif output is ValidateOutput.text:
        typer.echo(render.validate_text(result))
    raise typer.Exit(EXIT_OK)  # github: nothing to annotate
