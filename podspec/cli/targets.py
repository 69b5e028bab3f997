"""`--target NAME` (repeatable) and `--target all`: diff, apply or status on the targets of
podspec.toml, side by side (run/targets.py): each returns the targets' outcomes, which show_* turn
into output per target (JSON keyed by target) and exit_code into one exit code for the command.

While applying, each target's progress lines are shown as they happen, prefixed with `[NAME]`;
the results follow in the file's order of the targets, each under a `== target NAME (...) ==`
header.

Targets that name the same manifests share one request (its revision, origin and project name found
once) and one load of the files (run/manifests.LoadOnce): a fleet of hosts running one set of
manifests reads and checks them once, not once per host.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from podspec.cli import completion, context
from podspec.cli.common import EXIT_CHANGES, EXIT_ERROR, EXIT_OK, print_json
from podspec.errors import UsageError
from podspec.run.listener import Listener

if TYPE_CHECKING:
    from podspec.plan import Plan
    from podspec.reconcile.diff import Diff
    from podspec.run.apply import ApplyRequest, DiffRequest
    from podspec.run.projectfile import Target
    from podspec.run.reports import StatusResult
    from podspec.run.results import ApplyResult, DiffResult, PullEvent, StepEvent
    from podspec.run.targets import TargetOutcome

R = TypeVar("R")
Q = TypeVar("Q", bound="DiffRequest")

PATHS_ARGUMENT = typer.Argument(
    None, help="Manifest files or directories (recursive, *.yaml/*.yml), or - for stdin; none with --target.",
)
TARGET_OPTION = typer.Option(
    None, "--target", "-t", metavar="NAME", autocompletion=completion.targets,
    help="Run on this target of podspec.toml (repeatable; `all`: every target), side by side.",
)
PARALLEL_TARGETS_OPTION = typer.Option(
    16, "--parallel-targets", min=1, max=64, metavar="N",
    help="With --target: how many targets run at once (the others wait for a free place, in the file's order).",
)
CANARY_OPTION = typer.Option(
    None, "--canary", metavar="NAME", autocompletion=completion.targets,
    help="With --target and --wait: apply to this target first (repeatable); the others only if it became "
         "ready, else they are left as they are.",
)


def chosen(names: Sequence[str], paths: Sequence[str] = (), url: str | None = None, connection: str | None = None,
           identity: str | None = None) -> tuple[Target, ...]:
    """The targets named, checked against what else was given on the command line."""
    found = context.project_file()
    if found is None:
        raise UsageError("--target needs a podspec.toml in this directory or above it",
                         "write one with [targets.NAME] tables (see docs/gitops-push.md), or pass manifests and --url")
    if paths:
        raise UsageError("--target takes its manifests from podspec.toml; give no paths with it",
                         f"edit the target's manifests in {found.path}, or drop --target")
    if url or connection or identity:
        raise UsageError("--target takes its connection from podspec.toml; --url, --connection and --identity do not go with it",
                         f"edit the target in {found.path}, or drop --target")
    return found.select(list(names))


def paths_needed(paths: Sequence[str] | None) -> list[str]:
    if not paths:
        raise UsageError("give manifest files or directories (or - for stdin), or --target NAME from podspec.toml",
                         "for example: podspec diff manifests/")
    return list(paths)


def per_manifests(make: Callable[[Sequence[str]], Q]) -> Callable[[Target], Q]:
    """Each target's request, made once for each set of manifests (the targets' threads ask for it
    side by side: the first makes it, the others wait), with one LoadOnce its targets share."""
    from podspec.run.manifests import LoadOnce

    made: dict[tuple[str, ...], Q] = {}
    lock = threading.Lock()

    def request(target: Target) -> Q:
        files = tuple(target.manifests)
        with lock:
            if files not in made:
                made[files] = replace(make(files), shared=LoadOnce())
            return made[files]

    return request


def connector(target: Target) -> Callable[[], Any]:
    return context.connector(target.url, target.connection, target.identity)


class Prefixed(Listener):
    """A Listener for one target among several: every line it shows starts with `[NAME] `."""

    def __init__(self, name: str, *, show: bool) -> None:
        self.prefix = f"[{name}] "
        self.show = show  # text mode: progress on stdout; JSON mode: notes and warnings only, on stderr

    def _out(self, text: str, err: bool = False) -> None:
        typer.echo("\n".join(self.prefix + line for line in text.splitlines()), err=err)

    def info(self, text: str) -> None:
        self._out(text, err=not self.show)

    def note(self, text: str) -> None:
        self._out(text, err=True)

    def warning(self, text: str) -> None:
        self._out(f"warning: {text}", err=True)

    def diffed(self, diff: Diff) -> None:
        from podspec import render

        if self.show:
            self._out(render.diff_text(diff))

    def planned(self, plan: Plan) -> None:
        from podspec import render

        if self.show and not plan.empty:
            self._out(render.plan_text(plan))

    def pull(self, event: PullEvent) -> None:
        """Pulls as plain lines (targets run side by side: no live display)."""
        from podspec import render

        line = render.pull_line(event) if self.show else None
        if line is not None:
            self._out(line)

    def step(self, event: StepEvent) -> None:
        from podspec import render
        from podspec.run.results import StepStatus

        if self.show and event.status is not StepStatus.STARTED:
            self._out(render.event_text(event))


def _errors(outcome: TargetOutcome[Any]) -> None:
    from podspec import render

    assert outcome.error is not None
    for line in render.error_lines(outcome.error):
        context.say_err(f"[{outcome.target.name}] {line}")


def _format(output: Any) -> str:
    """The output format's name (commands have their own enums of formats)."""
    return str(getattr(output, "value", output))


def _markdown(outcomes: Sequence[TargetOutcome[DiffResult]]) -> str:
    """One pull-request comment for every target: a section each, with the diff's own markdown."""
    from podspec import render

    parts = []
    for o in outcomes:
        parts.append(f"## target `{o.target.name}` ({o.target.where})\n")
        if o.error is not None:
            parts.append(f"**error**: {o.error.message}" + (f" (hint: {o.error.hint})" if o.error.hint else "") + "\n")
        else:
            parts.append(render.diff_markdown(o.value.diff))
    return "\n".join(parts)


def exit_code(outcomes: Sequence[TargetOutcome[R]], failed: Callable[[R], bool] = lambda r: False,
              changed: Callable[[R], bool] = lambda r: False) -> int:
    """One exit code for every target: 1 if any failed, else 2 if any has changes pending, else 0."""
    from podspec.run.targets import Verdict, verdict

    return {Verdict.OK: EXIT_OK, Verdict.CHANGES: EXIT_CHANGES, Verdict.FAILED: EXIT_ERROR}[
        verdict(outcomes, failed, changed)]


def diff(targets: Sequence[Target], make: Callable[[Sequence[str]], DiffRequest],
         limit: int) -> tuple[TargetOutcome[DiffResult], ...]:
    """diff on the targets, `limit` at once (notes and warnings on stderr, prefixed); `make` makes the
    request for a set of manifests."""
    from podspec.run.apply import diff as run_diff
    from podspec.run.targets import each

    request = per_manifests(make)
    return each(targets, lambda t: run_diff(request(t), connector(t), Prefixed(t.name, show=False)), limit)


def show_diff(outcomes: Sequence[TargetOutcome[DiffResult]], output: Any) -> None:
    from podspec import render

    if _format(output) == "json":
        print_json(render.targets_json(outcomes, lambda r: render.diff_json(r.diff, r.desired.warnings)))
    elif _format(output) == "markdown":
        typer.echo(_markdown(outcomes), nl=False)
    else:
        _each_text(outcomes, lambda r: render.diff_text(r.diff, colour=context.colour_wanted()))
        _summary(outcomes, lambda r: "changes pending" if r.diff.has_changes else "no changes")


def apply(targets: Sequence[Target], make: Callable[[Sequence[str]], ApplyRequest], output: Any, limit: int,
          canary: Sequence[str] = (), wait: bool = False) -> tuple[TargetOutcome[ApplyResult], ...]:
    """apply on the targets, `limit` at once; in text mode each target's progress shows as it happens;
    `make` makes the request for a set of manifests. With `canary`: those targets first, the others
    only once every canary is applied and ready."""
    from podspec.run.apply import apply as run_apply
    from podspec.run.targets import each, staged

    request = per_manifests(make)
    show = _format(output) != "json"
    work: Callable[[Target], ApplyResult] = lambda t: run_apply(request(t), connector(t), Prefixed(t.name, show=show))
    if not canary:
        return each(targets, work, limit)
    unknown = sorted(set(canary) - {t.name for t in targets})
    if unknown:
        raise UsageError(f"--canary names {', '.join(unknown)}, which is not among the targets chosen",
                         "name a target given with --target (or in podspec.toml, with --target all)")
    if not wait:
        raise UsageError("--canary needs --wait: the other targets go only once the canary is seen ready",
                         "add --wait (and --timeout for how long to wait)")
    return staged(targets, work, canary, passed=lambda r: not r.failed and r.ready is not False, limit=limit)


def show_apply(outcomes: Sequence[TargetOutcome[ApplyResult]], output: Any) -> None:
    from podspec import render

    if _format(output) == "json":
        print_json(render.targets_json(outcomes, render.apply_json))
        return
    for o in outcomes:
        typer.echo(render.target_header(o.target))
        if o.error is not None:
            _errors(o)
            continue
        if o.skipped:
            context.say_err(f"[{o.target.name}] {o.skipped}")
            continue
        r: ApplyResult = o.value
        if r.failed:
            for line in render.failure_lines(r):
                context.say_err(f"[{o.target.name}] {line}")
        else:
            typer.echo(render.outcome_line(r))
    _summary(outcomes, lambda r: "failed" if r.failed else "not ready" if r.ready is False else "applied")


def status(targets: Sequence[Target], project: str | None, limit: int) -> tuple[TargetOutcome[StatusResult], ...]:
    from podspec.run.status import status as run_status
    from podspec.run.targets import each

    return each(targets, lambda t: run_status(project, connector(t)), limit)


def show_status(outcomes: Sequence[TargetOutcome[StatusResult]], output: Any) -> None:
    from podspec import render

    if _format(output) == "json":
        print_json(render.targets_json(outcomes, render.status_json))
    else:
        _each_text(outcomes, render.status_text)


def _each_text(outcomes: Sequence[TargetOutcome[Any]], text: Callable[[Any], str]) -> None:
    """Each target's header, then its error or its result as text."""
    from podspec import render

    for o in outcomes:
        typer.echo(render.target_header(o.target))
        if o.error is not None:
            _errors(o)
        else:
            typer.echo(text(o.value))


def _summary(outcomes: Sequence[TargetOutcome[Any]], state: Callable[[Any], str]) -> None:
    """One line per target (its state and time), after their outputs: what a fleet operator reads first."""
    from podspec import render

    if len(outcomes) > 1:
        typer.echo(render.targets_summary(outcomes, state))
