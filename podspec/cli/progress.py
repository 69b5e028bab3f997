"""How the CLI shows what a workflow tells it while it runs (the run.listener.Listener protocol)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from podspec import render
from podspec.run.results import StepStatus

if TYPE_CHECKING:
    from podspec.reconcile.diff import Diff
    from podspec.reconcile.planner import Plan
    from podspec.run.results import StepEvent


class TextListener:
    """Text mode: progress on stdout, warnings on stderr.

    On a terminal the display is live: one step at a time, its line is rewritten when it ends;
    several at a time, each step's start is shown too. Elsewhere (CI logs): one line per step.
    """

    def __init__(self, *, colour: bool, terminal: bool, parallel: int, show_diff: bool = True) -> None:
        self.colour = colour
        self.terminal = terminal
        self.rewrite = terminal and parallel == 1
        self.show_diff = show_diff

    def info(self, text: str) -> None:
        typer.echo(text)

    def note(self, text: str) -> None:
        typer.echo(text, err=True)

    def warning(self, text: str) -> None:
        typer.echo(f"warning: {text}", err=True)

    def diffed(self, diff: Diff) -> None:
        if self.show_diff:
            typer.echo(render.diff_text(diff, colour=self.colour))

    def planned(self, plan: Plan) -> None:
        if not plan.empty or not self.show_diff:
            typer.echo(render.plan_text(plan))

    def step(self, event: StepEvent) -> None:
        if event.status is StepStatus.STARTED:
            if self.terminal:
                typer.echo(render.event_text(event), nl=not self.rewrite)
            return
        typer.echo(("\r\x1b[K" if self.rewrite else "") + render.event_text(event))


class JsonListener:
    """JSON mode: stdout holds the JSON document alone; notes and warnings go to stderr."""

    def info(self, text: str) -> None:
        typer.echo(text, err=True)

    def note(self, text: str) -> None:
        typer.echo(text, err=True)

    def warning(self, text: str) -> None:
        typer.echo(f"warning: {text}", err=True)

    def diffed(self, diff: Diff) -> None:
        pass

    def planned(self, plan: Plan) -> None:
        pass

    def step(self, event: StepEvent) -> None:
        pass
