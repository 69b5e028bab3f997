"""Diffs, plans, progress and status as text (colour optional) or JSON-able data. Never prints.

The JSON shapes are documented in README.md ("Output for machines") and stable: fields may be
added, never renamed or removed.
"""

from __future__ import annotations

import json
from typing import Any

from podspec.reconcile.diff import UNSET, Action, ContainerDiff, Diff, FieldChange, PodDiff
from podspec.reconcile.planner import Plan, Step
from podspec.run.executor import StepEvent, StepStatus

JSON_VERSION = 1

_COLOURS = {
    Action.CREATE: "32",  # green
    Action.START: "36",  # cyan
    Action.RECREATE: "33",  # yellow
    Action.REPLACE: "35",  # magenta
    Action.REMOVE: "31",  # red
    Action.CONFLICT: "1;31",
    Action.ADOPT: "36",
}
_SIGNS = {
    Action.CREATE: "+",
    Action.START: ">",
    Action.RECREATE: "~",
    Action.REPLACE: "!",
    Action.REMOVE: "-",
    Action.CONFLICT: "x",
    Action.ADOPT: "=",
}
_CONSEQUENCE = {
    Action.CREATE: "create",
    Action.START: "start",
    Action.RECREATE: "recreate this container only",
    Action.REPLACE: "replace the whole pod (volumes kept)",
    Action.REMOVE: "remove",
    Action.CONFLICT: "conflict: will not touch",
    Action.ADOPT: "adopt",
}


class Style:
    def __init__(self, colour: bool) -> None:
        self.colour = colour

    def paint(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.colour else text

    def action(self, action: Action, text: str) -> str:
        return self.paint(text, _COLOURS[action])

    def dim(self, text: str) -> str:
        return self.paint(text, "2")


def value_text(value: Any) -> str:
    if value is UNSET:
        return "(unset)"
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _field_lines(fields: tuple[FieldChange, ...], indent: str) -> list[str]:
    return [f"{indent}{f.path}: {value_text(f.old)} -> {value_text(f.new)}" for f in fields]


def _container_lines(c: ContainerDiff, style: Style, indent: str) -> list[str]:
    head = f"{indent}{_SIGNS[c.action]} container {c.name}: {_CONSEQUENCE[c.action]} ({c.cause})"
    return [style.action(c.action, head), *_field_lines(c.fields, indent + "    ")]


def _pod_lines(p: PodDiff, style: Style) -> list[str]:
    lines = []
    if p.action is not None:
        lines.append(style.action(p.action, f"{_SIGNS[p.action]} pod {p.name}: {_CONSEQUENCE[p.action]} ({p.cause})"))
    else:
        lines.append(f"  pod {p.name}")
    lines += _field_lines(p.fields, "    ")
    if p.action in (Action.CREATE, Action.REPLACE):
        names = ", ".join(c.name for c in p.containers if c.action is Action.CREATE)
        if names:
            lines.append(style.dim(f"    containers: {names}"))
        for c in p.containers:
            if c.action is not Action.CREATE:
                lines += _container_lines(c, style, "    ")
    else:
        for c in p.containers:
            lines += _container_lines(c, style, "    ")
    return lines


def summary_line(diff: Diff) -> str:
    counts = diff.summary()
    parts = [f"{counts[k]} to {k}" for k in ("create", "recreate", "replace", "start", "remove")]
    text = ", ".join(parts)
    if counts["adopt"]:
        text += f", {counts['adopt']} to adopt"
    if counts["conflict"]:
        text += f", {counts['conflict']} conflict{'s' if counts['conflict'] != 1 else ''}"
    return text


def diff_text(diff: Diff, colour: bool = False) -> str:
    style = Style(colour)
    lines: list[str] = [f"project {diff.project}"]
    for v in diff.volumes:
        lines.append(style.action(v.action, f"{_SIGNS[v.action]} volume {v.name}: {_CONSEQUENCE[v.action]} ({v.cause})"))
    for p in diff.pods:
        lines += _pod_lines(p, style)
    for name in diff.unchanged_pods:
        lines.append(style.dim(f"  pod {name}: up to date"))
    if not diff.has_changes:
        lines.append("No changes: the host matches the manifests.")
    else:
        lines.append(f"Summary: {summary_line(diff)}.")
    return "\n".join(lines)


def _field_json(f: FieldChange) -> dict[str, Any]:
    out: dict[str, Any] = {"path": f.path}
    if f.old is not UNSET:
        out["old"] = f.old
    if f.new is not UNSET:
        out["new"] = f.new
    return out


def diff_json(diff: Diff) -> dict[str, Any]:
    return {
        "version": JSON_VERSION,
        "project": diff.project,
        "changed": diff.has_changes,
        "summary": diff.summary(),
        "volumes": [{"name": v.name, "action": v.action.value, "cause": v.cause} for v in diff.volumes],
        "pods": [
            {
                "name": p.name,
                "action": p.action.value if p.action else None,
                "cause": p.cause,
                "fields": [_field_json(f) for f in p.fields],
                "containers": [
                    {
                        "name": c.name,
                        "role": c.role.value,
                        "action": c.action.value,
                        "cause": c.cause,
                        "fields": [_field_json(f) for f in c.fields],
                    }
                    for c in p.containers
                ],
            }
            for p in diff.pods
        ],
        "unchanged_pods": list(diff.unchanged_pods),
    }


def step_text(step: Step) -> str:
    return f"{step.describe()}  ({step.cause})"


def plan_text(plan: Plan) -> str:
    if plan.empty:
        return "Plan: nothing to do."
    width = len(str(len(plan.steps)))
    lines = [f"Plan: {len(plan.steps)} step{'s' if len(plan.steps) != 1 else ''}"]
    for i, step in enumerate(plan.steps, start=1):
        lines.append(f"  {i:>{width}}. {step_text(step)}")
    return "\n".join(lines)


def step_json(step: Step) -> dict[str, Any]:
    return {"action": step.kind.value, "target": step.target, "cause": step.cause}


def plan_json(plan: Plan) -> list[dict[str, Any]]:
    return [step_json(s) for s in plan.steps]


def event_text(event: StepEvent) -> str:
    prefix = f"[{event.index}/{event.total}]"
    if event.status is StepStatus.STARTED:
        return f"{prefix} {event.step.describe()} ..."
    if event.status is StepStatus.DONE:
        return f"{prefix} {event.step.describe()}: done ({event.seconds:.1f}s)"
    return f"{prefix} {event.step.describe()}: FAILED: {event.error}"
