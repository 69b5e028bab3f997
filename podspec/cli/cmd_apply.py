"""`podspec apply`: make the host match the manifests with the fewest Podman operations."""

from __future__ import annotations

import sys
from typing import Any, Optional

import typer

from podspec.cli import context
from podspec.cli.app import app
from podspec.cli.common import (
    ALLOW_CAPABILITY_OPTION,
    ALLOW_HOST_PATH_OPTION,
    ALLOW_HOST_PORT_OPTION,
    CONNECTION_OPTION,
    EXIT_CHANGES,
    EXIT_ERROR,
    EXIT_OK,
    OUTPUT_OPTION,
    PARALLEL_OPTION,
    PATHS_ARGUMENT,
    POLICY_OPTION,
    PROJECT_OPTION,
    URL_OPTION,
    OutputFormat,
    check_prune_flags,
    guarded,
    print_json,
)


@app.command("apply")
@guarded()
def apply(
    paths: list[str] = PATHS_ARGUMENT,
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the plan, change nothing (exit 2 when there are changes)."),
    prune: bool = typer.Option(False, "--prune", help="Also remove pods of this project that left the manifests."),
    prune_volumes: bool = typer.Option(False, "--prune-volumes", help="With --prune: also remove this project's volumes that left the manifests."),
    adopt: bool = typer.Option(False, "--adopt", help="Replace pods and containers podspec did not create that hold needed names; use such volumes as they are."),
    wait: bool = typer.Option(False, "--wait", help="Wait until every container runs and every health check passes."),
    timeout: float = typer.Option(120.0, "--timeout", help="Seconds --wait waits."),
    lock_timeout: float = typer.Option(60.0, "--lock-timeout", help="Seconds to wait for another apply of the same project."),
    parallel: int = PARALLEL_OPTION,
    output: OutputFormat = OUTPUT_OPTION,
    project: Optional[str] = PROJECT_OPTION,
    url: Optional[str] = URL_OPTION,
    connection: Optional[str] = CONNECTION_OPTION,
    policy: Optional[str] = POLICY_OPTION,
    allow_host_path: Optional[list[str]] = ALLOW_HOST_PATH_OPTION,
    allow_host_port: Optional[list[str]] = ALLOW_HOST_PORT_OPTION,
    allow_capability: Optional[list[str]] = ALLOW_CAPABILITY_OPTION,
) -> None:
    """Create, start, recreate and remove exactly what differs from the manifests."""
    from podspec import render
    from podspec.reconcile import diff as differ
    from podspec.reconcile import planner
    from podspec.run.lock import project_lock

    check_prune_flags(prune, prune_volumes)

    as_json = output is OutputFormat.json
    say = context.say_err if as_json else typer.echo
    desired = context.load_desired(paths, policy=context.policy_from(policy, allow_host_path, allow_host_port, allow_capability))
    name = context.project_name(project, paths)
    report: dict[str, Any] = {"version": render.JSON_VERSION, "project": name}
    with context.open_engine(url, connection) as engine:
        wait_note = lambda: context.say_err(f"waiting for another podspec applying project {name!r} ...")
        with project_lock(engine.lock_key, name, lock_timeout, on_wait=wait_note):
            observed = engine.observe()
            observed = context.prepare_images(engine, desired, observed, say, pull=not dry_run)
            result = differ.compute(desired, observed, name, prune=prune, prune_volumes=prune_volumes, adopt=adopt)
            if not as_json:
                typer.echo(render.diff_text(result, colour=context.colour_wanted()))
            plan = planner.build(result)  # conflicts raise here, before any change
            report.update(diff=render.diff_json(result), plan=render.plan_json(plan))
            if not as_json and not plan.empty:
                typer.echo(render.plan_text(plan))
            if dry_run:
                report["result"] = {"status": "dry-run", "steps_done": 0}
                if as_json:
                    print_json(report)
                raise typer.Exit(EXIT_OK if plan.empty else EXIT_CHANGES)
            if plan.empty:
                report["result"] = {"status": "no-changes", "steps_done": 0}
                if not as_json:
                    typer.echo("Nothing to do.")
            else:
                _run(plan, engine, parallel, as_json, report)
            if wait:
                from podspec.run.wait import wait_ready

                wait_ready(engine, desired, timeout, say)
                report["result"]["ready"] = True
    if as_json:
        print_json(report)
    elif not plan.empty:
        typer.echo(f"Applied: {render.summary_line(result)}.")
    raise typer.Exit(EXIT_OK)


def _run(plan, engine, parallel: int, as_json: bool, report: dict[str, Any]) -> None:
    """Execute the plan with progress output; on a failed step report it and exit 1."""
    from podspec import render
    from podspec.errors import StepFailed
    from podspec.run.executor import StepStatus, execute

    # On a terminal the display is live: one step at a time, its line is rewritten when it ends;
    # several at a time, each step's start is shown too. Elsewhere (CI logs): one line per step.
    terminal = sys.stdout.isatty() and not as_json
    rewrite = terminal and parallel == 1

    def progress(event) -> None:
        if as_json:
            return
        if event.status is StepStatus.STARTED:
            if terminal:
                typer.echo(render.event_text(event), nl=not rewrite)
            return
        typer.echo(("\r\x1b[K" if rewrite else "") + render.event_text(event))

    try:
        execute(plan, engine, progress, parallel=parallel)
    except StepFailed as failure:
        report["result"] = {
            "status": "failed", "steps_done": len(failure.done), "error": failure.message,
            "not_done": [render.step_json(s) for s in failure.not_done],
        }
        if as_json:
            print_json(report)
        else:
            context.say_err(f"error: {failure.message}")
            context.say_err(f"  done: {len(failure.done)} step(s); not done: " +
                            (", ".join(s.describe() for s in failure.not_done) or "none"))
            context.say_err(f"  hint: {failure.hint}")
        raise typer.Exit(EXIT_ERROR) from None
    report["result"] = {"status": "applied", "steps_done": len(plan.steps)}
