"""`podspec diff`: what apply would change, field by field; exit 0 none, 2 changes, 1 error."""

from __future__ import annotations

from typing import Optional

import typer

from podspec.cli import context, targets
from podspec.cli.application import app
from podspec.cli.common import (
    AGE_KEY_FILE_OPTION,
    ALLOW_CAPABILITY_OPTION,
    ALLOW_HOST_PATH_OPTION,
    ALLOW_HOST_PORT_OPTION,
    CONNECTION_OPTION,
    DIFF_OUTPUT_OPTION,
    EXIT_CHANGES,
    EXIT_ERROR,
    EXIT_OK,
    FORCE_CONFLICTS_OPTION,
    IDENTITY_OPTION,
    POLICY_OPTION,
    PROJECT_OPTION,
    REQUIRE_ENCRYPTED_SECRETS_OPTION,
    STRICT_OPTION,
    URL_OPTION,
    DiffOutput,
    guarded,
    print_json,
)
from podspec.errors import UsageError


@app.command("diff")
@guarded()
def diff(
    paths: Optional[list[str]] = targets.PATHS_ARGUMENT,
    prune: bool = typer.Option(False, "--prune", help="Include pods of the project that left the manifests."),
    prune_volumes: bool = typer.Option(False, "--prune-volumes", help="With --prune: include this project's volumes that left the manifests."),
    adopt: bool = typer.Option(False, "--adopt", help="Show objects podspec did not create as replaced, not as conflicts."),
    force_conflicts: bool = FORCE_CONFLICTS_OPTION,
    save_plan: Optional[str] = typer.Option(
        None, "--save-plan", metavar="FILE",
        help="Also write the plan to FILE (versioned JSON, no secret values) for `podspec apply --plan FILE`.",
    ),
    output: DiffOutput = DIFF_OUTPUT_OPTION,
    project: Optional[str] = PROJECT_OPTION,
    url: Optional[str] = URL_OPTION,
    connection: Optional[str] = CONNECTION_OPTION,
    identity: Optional[str] = IDENTITY_OPTION,
    age_key_file: Optional[str] = AGE_KEY_FILE_OPTION,
    target: Optional[list[str]] = targets.TARGET_OPTION,
    parallel_targets: int = targets.PARALLEL_TARGETS_OPTION,
    policy: Optional[str] = POLICY_OPTION,
    allow_host_path: Optional[list[str]] = ALLOW_HOST_PATH_OPTION,
    allow_host_port: Optional[list[str]] = ALLOW_HOST_PORT_OPTION,
    allow_capability: Optional[list[str]] = ALLOW_CAPABILITY_OPTION,
    require_encrypted_secrets: bool = REQUIRE_ENCRYPTED_SECRETS_OPTION,
    strict: bool = STRICT_OPTION,
) -> None:
    """Show what `apply` would change and why. Exit 0: no changes; 2: changes pending; 1: error or conflict."""
    from podspec.cli.progress import JsonListener
    from podspec.run.apply import DiffRequest
    from podspec.run.apply import diff as run_diff

    checked = context.policy(policy, allow_host_path, allow_host_port, allow_capability, require_encrypted_secrets)
    make = lambda files: DiffRequest(
        manifests=context.manifests(files, checked, strict, age_key_file),
        project=(named := context.project_name(project, files)).name, former=named.former, prune=prune, prune_volumes=prune_volumes, adopt=adopt,
        save_plan=save_plan is not None, revision=context.revision(None, files) if save_plan else "",
        origin=context.origin(files), force_conflicts=force_conflicts, probe_image=context.probe_image(),
    )
    if target:
        if save_plan is not None:
            raise UsageError("--save-plan saves the plan of one host; it does not go with --target",
                             "save one plan per target: podspec diff --save-plan FILE --url ... MANIFESTS")
        outcomes = targets.diff(targets.chosen(target, paths or (), url, connection, identity), make,
                                parallel_targets)
        targets.show_diff(outcomes, output)
        raise typer.Exit(targets.exit_code(outcomes, failed=lambda r: bool(r.diff.conflicts), changed=lambda r: r.diff.has_changes))
    request = make(targets.paths_needed(paths))
    result = run_diff(request, context.connector(url, connection, identity), JsonListener())  # notes and warnings: stderr
    from podspec import render  # after the run: imported before it, it would delay reading the host
    if output is DiffOutput.json:
        print_json(render.diff_json(result.diff, result.desired.warnings))
    elif output is DiffOutput.markdown:
        typer.echo(render.diff_markdown(result.diff), nl=False)
    else:
        typer.echo(render.diff_text(result.diff, colour=context.colour_wanted()))
    if result.diff.conflicts:
        if output is DiffOutput.text:
            context.say_err("error: conflicts with objects podspec did not create; apply would refuse (see above)"
                            + ("; no plan saved" if save_plan else ""))
        raise typer.Exit(EXIT_ERROR)
    if save_plan is not None and result.saved is not None:
        key = context.plan_key()
        context.write_file(save_plan, render.saved_plan_text(result.saved, key))
        context.say_err(f"wrote the plan to {save_plan} ({len(result.saved.steps)} steps{', signed' if key else ''}); "
                        f"carry it out with: {result.saved.command(save_plan, with_project=project is not None)}")
    raise typer.Exit(EXIT_CHANGES if result.diff.has_changes else EXIT_OK)
