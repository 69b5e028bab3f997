"""`podspec apply`: make the host match the manifests with the fewest Podman operations."""

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
    EXIT_CHANGES,
    EXIT_ERROR,
    EXIT_OK,
    FORCE_CONFLICTS_OPTION,
    IDENTITY_OPTION,
    OUTPUT_OPTION,
    PARALLEL_OPTION,
    POLICY_OPTION,
    PROJECT_OPTION,
    REQUIRE_ENCRYPTED_SECRETS_OPTION,
    STRICT_OPTION,
    URL_OPTION,
    OutputFormat,
    ProgressMode,
    guarded,
    print_json,
)
from podspec.errors import UsageError


@app.command("apply")
@guarded()
def apply(
    paths: Optional[list[str]] = typer.Argument(
        None, help="Manifest files or directories (recursive, *.yaml/*.yml), or - for stdin. With --plan: the plan's; "
        "with --target: the target's."),
    plan_file: Optional[str] = typer.Option(
        None, "--plan", metavar="FILE",
        help="Carry out exactly the plan `podspec diff --save-plan FILE` saved; refuse it, changing nothing, "
        "if the manifests or the host changed since.",
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the plan, change nothing (exit 2 when there are changes)."),
    prune: bool = typer.Option(False, "--prune", help="Also remove pods of this project that left the manifests."),
    prune_volumes: bool = typer.Option(False, "--prune-volumes", help="With --prune: also remove this project's volumes that left the manifests."),
    adopt: bool = typer.Option(False, "--adopt", help="Replace pods and containers podspec did not create that hold needed names; use such volumes as they are."),
    force_conflicts: bool = FORCE_CONFLICTS_OPTION,
    wait: bool = typer.Option(False, "--wait", help="Wait until every container runs and every health check passes."),
    timeout: float = typer.Option(120.0, "--timeout", help="Seconds --wait waits."),
    rollback_on_failure: bool = typer.Option(
        False, "--rollback-on-failure",
        help="When a step fails, or (with --wait) what changed is not ready in time, put back what ran before "
             "(the previous state of each changed pod, its images by ID; volumes untouched) and exit 1."),
    lock_timeout: float = typer.Option(60.0, "--lock-timeout", help="Seconds to wait for another apply of the same project."),
    parallel: int = PARALLEL_OPTION,
    revision: Optional[str] = typer.Option(
        None, "--revision", metavar="REV",
        help="What is applied, recorded in the host's history. Default: the git commit of the manifests (-dirty when they differ from it).",
    ),
    output: OutputFormat = OUTPUT_OPTION,
    project: Optional[str] = PROJECT_OPTION,
    url: Optional[str] = URL_OPTION,
    connection: Optional[str] = CONNECTION_OPTION,
    identity: Optional[str] = IDENTITY_OPTION,
    age_key_file: Optional[str] = AGE_KEY_FILE_OPTION,
    target: Optional[list[str]] = targets.TARGET_OPTION,
    parallel_targets: int = targets.PARALLEL_TARGETS_OPTION,
    canary: Optional[list[str]] = targets.CANARY_OPTION,
    policy: Optional[str] = POLICY_OPTION,
    allow_host_path: Optional[list[str]] = ALLOW_HOST_PATH_OPTION,
    allow_host_port: Optional[list[str]] = ALLOW_HOST_PORT_OPTION,
    allow_capability: Optional[list[str]] = ALLOW_CAPABILITY_OPTION,
    require_encrypted_secrets: bool = REQUIRE_ENCRYPTED_SECRETS_OPTION,
    strict: bool = STRICT_OPTION,
    progress: ProgressMode = typer.Option(
        ProgressMode.auto, "--progress",
        help="How pulls show: auto (tty on a terminal, else plain), tty (live, per image), plain (a line per "
             "pull start and end, with size and duration), quiet. -o json shows none.",
    ),
    parallel_pulls: int = typer.Option(3, "--parallel-pulls", min=1, max=16, help="How many images to pull at once."),
    authfile: Optional[str] = typer.Option(
        None, "--authfile", metavar="FILE",
        help="Credentials for pulls, in Podman's auth.json format (podman login --authfile FILE). "
             "Default: $REGISTRY_AUTH_FILE, else the Podman service's own.",
    ),
) -> None:
    """Create, start, recreate and remove exactly what differs from the manifests."""
    from podspec.cli.progress import JsonListener, TextListener
    from podspec.run.apply import ApplyRequest
    from podspec.run.apply import apply as run_apply

    if canary and not target:
        raise UsageError("--canary stages a rollout across targets; it needs --target",
                         "for example: podspec apply --target all --canary edge --wait")
    if target and plan_file is not None:
        raise UsageError("--plan carries out the plan saved for one host; it does not go with --target",
                         "apply each target's saved plan with its own --url, or drop --plan")
    saved = context.saved_plan(plan_file, paths or [], project, prune, prune_volumes, adopt, force_conflicts)
    if saved is not None:
        paths, project, prune, prune_volumes, adopt = list(saved.paths), saved.project, saved.prune, saved.prune_volumes, saved.adopt
        force_conflicts = saved.force_conflicts
    if not paths and not target:
        raise UsageError("no manifests given",
                         "name manifest files or directories, a saved plan with --plan FILE, or --target NAME from podspec.toml")
    checked = context.policy(policy, allow_host_path, allow_host_port, allow_capability, require_encrypted_secrets)
    credentials = context.registry_credentials(authfile)
    make = lambda files: ApplyRequest(
        manifests=context.manifests(files, checked, strict, age_key_file),
        project=(named := context.project_name(project, files)).name, former=named.former, prune=prune, prune_volumes=prune_volumes, adopt=adopt,
        dry_run=dry_run, wait=wait, wait_timeout=timeout, lock_timeout=lock_timeout, lock_lease=context.lock_lease(), parallel=parallel,
        revision=context.revision(revision, files), saved=saved,
        pull_parallel=parallel_pulls, credentials=credentials, probe_image=context.probe_image(),
        origin=context.origin(files), force_conflicts=force_conflicts,
        rollback_on_failure=rollback_on_failure,
    )
    if target:
        outcomes = targets.apply(targets.chosen(target, paths or (), url, connection, identity), make, output,
                                 parallel_targets, canary or (), wait)
        targets.show_apply(outcomes, output)
        raise typer.Exit(targets.exit_code(outcomes, failed=lambda r: r.failed, changed=lambda r: r.pending))
    request = make(targets.paths_needed(paths))
    as_json = output is OutputFormat.json
    listener = JsonListener() if as_json else TextListener(
        colour=context.colour_wanted(), terminal=context.terminal(), parallel=parallel, progress=progress)
    result = run_apply(request, context.connector(url, connection, identity), listener)
    from podspec import render  # after the run: imported before it, it would delay reading the host
    from podspec.run.results import Outcome

    if as_json:
        print_json(render.apply_json(result))
    elif result.failed:
        for line in render.failure_lines(result):
            context.say_err(line)
    elif result.outcome is not Outcome.DRY_RUN:  # a dry run ends with its plan
        typer.echo(render.outcome_line(result))
    if result.failed:
        raise typer.Exit(EXIT_ERROR)
    raise typer.Exit(EXIT_CHANGES if result.pending else EXIT_OK)
