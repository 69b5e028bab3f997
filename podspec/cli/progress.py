"""How the CLI shows what a workflow tells it while it runs (listeners: run/listener.py).

render and the result types are imported when first shown, not with this module: a command makes its
listener before the workflow starts reading the host, and what is imported before that read starts
is waited for (run/reading.py)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import typer

from podspec.cli.common import ProgressMode
from podspec.run.listener import Listener

if TYPE_CHECKING:
    from podspec.plan import Plan
    from podspec.reconcile.diff import Diff
    from podspec.run.results import PullEvent, StepEvent


class PullDisplay:
    """Pulls as they run. Plain: a line per start and per end. Live (a terminal): one line per
    image, rewritten in place as layers and bytes arrive; the block stays on screen at the end."""

    def __init__(self, mode: ProgressMode, terminal: bool) -> None:
        self.mode = (ProgressMode.tty if terminal else ProgressMode.plain) if mode is ProgressMode.auto else mode
        self.lines: dict[str, str] = {}  # reference -> its live line, in the order pulls started
        self.started: dict[str, float] = {}
        self.drawn = 0  # lines of the live block on screen

    def show(self, event: PullEvent) -> None:
        from podspec import render
        from podspec.run.results import PullStatus

        if self.mode is ProgressMode.quiet:
            return
        if self.mode is ProgressMode.plain:
            line = render.pull_line(event)
            if line is not None:
                typer.echo(line)
            return
        if event.status is PullStatus.STARTED:
            self.started[event.reference] = time.monotonic()
        elapsed = time.monotonic() - self.started.get(event.reference, time.monotonic())
        self.lines[event.reference] = render.pull_live_text(event, elapsed)
        self._draw()

    def _draw(self) -> None:
        up = f"\x1b[{self.drawn}F" if self.drawn else ""
        # color=True: the cursor movements must reach the terminal even when --progress tty is forced
        typer.echo(up + "".join(f"\x1b[K{line}\n" for line in self.lines.values()), nl=False, color=True)
        self.drawn = len(self.lines)


class TextListener(Listener):
    """Text mode: progress on stdout, warnings on stderr.

    On a terminal the display is live: one step at a time, its line is rewritten when it ends;
    several at a time, each step's start is shown too. Elsewhere (CI logs): one line per step.
    """

    def __init__(self, *, colour: bool, terminal: bool, parallel: int, show_diff: bool = True,
                 progress: ProgressMode = ProgressMode.auto) -> None:
        self.colour = colour
        self.terminal = terminal
        self.rewrite = terminal and parallel == 1
        self.show_diff = show_diff
        self.pulls = PullDisplay(progress, terminal)

    def pull(self, event: PullEvent) -> None:
        self.pulls.show(event)

    def info(self, text: str) -> None:
        typer.echo(text)

    def note(self, text: str) -> None:
        typer.echo(text, err=True)

    def warning(self, text: str) -> None:
        typer.echo(f"warning: {text}", err=True)

    def diffed(self, diff: Diff) -> None:
        from podspec import render

        if self.show_diff:
            typer.echo(render.diff_text(diff, colour=self.colour))

    def planned(self, plan: Plan) -> None:
        from podspec import render

        if not plan.empty or not self.show_diff:
            typer.echo(render.plan_text(plan))

    def step(self, event: StepEvent) -> None:
        from podspec import render
        from podspec.run.results import StepStatus

        if event.status is StepStatus.STARTED:
            if self.terminal:
                typer.echo(render.event_text(event), nl=not self.rewrite)
            return
        typer.echo(("\r\x1b[K" if self.rewrite else "") + render.event_text(event))


class JsonListener(Listener):
    """JSON mode: stdout holds the JSON document alone; notes and warnings go to stderr."""

    def info(self, text: str) -> None:
        typer.echo(text, err=True)

    def note(self, text: str) -> None:
        typer.echo(text, err=True)

    def warning(self, text: str) -> None:
        typer.echo(f"warning: {text}", err=True)

    # diff, plan, pulls and steps: nothing (stdout holds the document alone, and no progress goes
    # to stderr either)
