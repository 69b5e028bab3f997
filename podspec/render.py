"""Diffs, plans, progress and status as text (colour optional) or JSON-able data. Never prints.

The JSON shapes are documented in docs/cli.md ("Exit codes and output") and stable: fields may be
added, never renamed or removed.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from podspec.errors import ManifestError, PodspecError, Problem
from podspec.names import container_in_pod
from podspec.reconcile.changes import UNSET, Action, FieldChange
from podspec.reconcile.diff import Diff
from podspec.reconcile.pod_diff import ContainerDiff, PodDiff

if TYPE_CHECKING:
    from podspec.plan import Plan, Step
    from podspec.reconcile.history import HistoryRecord
    from podspec.reconcile.saved_plan import SavedPlan
    from podspec.run.info import InfoResult
    from podspec.run.lifecycle import LifecycleResult
    from podspec.run.projectfile import Target
    from podspec.run.reports import DeleteResult, HistoryResult, StatusResult, ValidateResult
    from podspec.run.results import ApplyResult, PullEvent, StepEvent
    from podspec.run.sync.state import AgentState
    from podspec.run.targets import TargetOutcome

JSON_VERSION = 1

_COLOURS = {
    Action.CREATE: "32",  # green
    Action.START: "36",  # cyan
    Action.RECREATE: "33",  # yellow
    Action.REPLACE: "35",  # magenta
    Action.REMOVE: "31",  # red
    Action.CONFLICT: "1;31",
    Action.ADOPT: "36",
    Action.HOST: "2",
}
_SIGNS = {
    Action.CREATE: "+",
    Action.START: ">",
    Action.RECREATE: "~",
    Action.REPLACE: "!",
    Action.REMOVE: "-",
    Action.CONFLICT: "x",
    Action.ADOPT: "=",
    Action.HOST: "=",
}
_CONSEQUENCE = {
    Action.CREATE: "create",
    Action.START: "start",
    Action.RECREATE: "recreate this container only",
    Action.REPLACE: "replace the whole pod (volumes kept)",
    Action.REMOVE: "remove",
    Action.CONFLICT: "conflict: will not touch",
    Action.ADOPT: "adopt",
    Action.HOST: "kept on the host",
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
    if counts.get("connect"):
        text += f", {counts['connect']} to connect"
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
    for s in diff.secrets:
        lines.append(style.action(s.action, f"{_SIGNS[s.action]} secret {s.name}: {_CONSEQUENCE[s.action]} ({s.cause})"))
    network = diff.network
    if network is not None and network.diff is not None:
        n = network.diff
        lines.append(style.action(n.action, f"{_SIGNS[n.action]} network {n.name}: {_CONSEQUENCE[n.action]} ({n.cause})"))
    for p in diff.pods:
        lines += _pod_lines(p, style)
    attached = set()
    for a in network.attachments if network is not None else ():
        attached.add(a.pod)
        lines.append(style.paint(f"~ pod {a.pod}: {_ATTACH[a.action.value]} {a.network} ({a.cause})", "33"))
    for name in diff.unchanged_pods:
        if name not in attached:
            lines.append(style.dim(f"  pod {name}: up to date"))
    for kept in diff.kept:
        lines.append(f"  kept {kept}")
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


def diff_json(diff: Diff, warnings: tuple[Problem, ...] = ()) -> dict[str, Any]:
    return {
        "warnings": [problem_json(p) for p in warnings],
        "version": JSON_VERSION,
        "project": diff.project,
        "changed": diff.has_changes,
        "summary": diff.summary(),
        "volumes": [{"name": v.name, "action": v.action.value, "cause": v.cause} for v in diff.volumes],
        "secrets": [{"name": s.name, "action": s.action.value, "cause": s.cause} for s in diff.secrets],
        "networks": _network_json(diff),
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
        "kept": list(diff.kept),
    }


_ATTACH = {"connect": "connect to network", "reconnect": "reconnect to network", "leave-default": "disconnect from network"}


def _network_json(diff: Diff) -> list[dict[str, Any]]:
    """The project network (if it changes) and each pod whose attachment changes."""
    network = diff.network
    if network is None or (network.diff is None and not network.attachments):
        return []
    out: dict[str, Any] = {"name": network.network}
    if network.diff is not None:
        out.update(action=network.diff.action.value, cause=network.diff.cause)
    out["pods"] = [{"name": a.pod, "action": a.action.value, "network": a.network, "cause": a.cause,
                    "names": list(a.names)} for a in network.attachments]
    return [out]


def step_text(step: Step) -> str:
    """`create pod:web  (new pod)  [lane web]`: what, on which typed resource, why, and how it runs
    (a lane's steps run in order; lanes run side by side; `alone` runs by itself, in order)."""
    how = f"lane {step.lane}" if step.lane else "alone"
    return f"{step.kind.value.split('_', 1)[0]} {step.resource}  ({step.cause})  [{how}]"


def plan_text(plan: Plan) -> str:
    if plan.empty:
        return "Plan: nothing to do."
    width = len(str(len(plan.steps)))
    lines = [f"Plan: {len(plan.steps)} step{'s' if len(plan.steps) != 1 else ''}"]
    for i, step in enumerate(plan.steps, start=1):
        lines.append(f"  {i:>{width}}. {step_text(step)}")
    return "\n".join(lines)


def step_json(step: Step) -> dict[str, Any]:
    return {"action": step.kind.value, "resource": str(step.resource), "target": step.target,
            "lane": step.lane or None, "cause": step.cause}


def plan_json(plan: Plan) -> list[dict[str, Any]]:
    return [step_json(s) for s in plan.steps]


def event_text(event: StepEvent) -> str:
    from podspec.run.results import StepStatus

    prefix = f"[{event.index}/{event.total}]"
    if event.status is StepStatus.STARTED:
        return f"{prefix} {event.step.describe()} ..."
    if event.status is StepStatus.DONE:
        return f"{prefix} {event.step.describe()}: done ({event.seconds:.1f}s)"
    return f"{prefix} {event.step.describe()}: FAILED: {event.error}"


# ------------------------------------------------------------------------------------- pulls


def size_text(size: int) -> str:
    """Bytes as Podman shows them: decimal units, three significant figures (5.42 MB)."""
    value, unit = float(size), "B"
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            break
        value /= 1000
    return f"{int(value)} B" if unit == "B" else f"{value:.3g} {unit}"


def pull_line(event: PullEvent) -> str | None:
    """A pull's start, end or failure as one plain line (CI logs); None for progress."""
    from podspec.run.results import PullStatus

    if event.status is PullStatus.STARTED:
        return f"pull {event.reference} (imagePullPolicy {event.policy}) ..."
    if event.status is PullStatus.DONE:
        layers = f", {_plural(event.layers, 'layer')}" if event.layers else ""
        news = "" if event.changed else "; the image is unchanged"
        return (f"pulled {event.reference} in {event.seconds:.1f}s: {size_text(event.size)}{layers}, "
                f"image {event.image_id[:12]}{news}")
    if event.status is PullStatus.FAILED:
        return f"pull of {event.reference} failed after {event.seconds:.1f}s: {event.error}"
    return None


def pull_live_text(event: PullEvent, elapsed: float) -> str:
    """A pull's line in the live display (a terminal): layers and bytes done, speed."""
    from podspec.run.results import PullStatus

    if event.status is PullStatus.STARTED:
        return f"{event.reference}: waiting for the registry"
    if event.status in (PullStatus.DONE, PullStatus.FAILED):
        return pull_line(event) or ""
    p = event.progress
    if p is None:
        return f"{event.reference}: pulling"
    parts = [f"{p.layers_done}/{_plural(p.layers_total, 'layer')}"]
    if p.bytes_total:
        parts.append(f"{size_text(p.bytes_done)} of {size_text(p.bytes_total)}")
        if elapsed > 0:
            parts.append(f"{size_text(int(p.bytes_done / elapsed))}/s")
    return f"{event.reference}: pulling {', '.join(parts)}"


# ------------------------------------------------------------------------------------- apply


def apply_json(result: ApplyResult) -> dict[str, Any]:
    outcome: dict[str, Any] = {"status": result.outcome.value, "steps_done": result.steps_done}
    if result.failure is not None:
        outcome["error"] = result.failure.message
        outcome["not_done"] = [step_json(s) for s in result.failure.not_done]
    if result.ready is not None:
        outcome["ready"] = result.ready
    data = {"version": JSON_VERSION, "project": result.project, "diff": diff_json(result.diff, result.warnings),
            "plan": plan_json(result.plan), "result": outcome, "revision": result.revision,
            "history": result.record.seq if result.record else None,
            "warnings": [problem_json(p) for p in result.warnings]}
    if result.rollback is not None:
        r = result.rollback
        data["rollback"] = {"outcome": r.outcome.value, "reason": r.reason, "restored": list(r.restored),
                            "removed": list(r.removed), "steps_done": r.steps_done, "error": r.error,
                            "seconds": round(r.seconds, 3), "history": r.record.seq if r.record else None}
    if result.restored_seq:
        data["restored"] = result.restored_seq
        data["pinned"] = list(result.pinned)
    return data


def outcome_line(result: ApplyResult) -> str:
    """The line that ends an apply's text output ("" for a failure: see failure_lines)."""
    summary = summary_line(result.diff)
    if result.restored_seq:
        back = f"#{result.restored_seq}" + (f" (revision {short_revision(result.revision)})" if result.revision else "")
        return {"no-changes": f"Nothing to do: the host already runs {back}.",
                "applied": f"Rolled back to {back}: {summary}.",
                "dry-run": f"Dry run of the rollback to {back}: {summary}."}.get(result.outcome.value, "")
    return {"no-changes": "Nothing to do.", "applied": f"Applied: {summary}.",
            "dry-run": f"Dry run: {summary}."}.get(result.outcome.value, "")


def failure_lines(result: ApplyResult) -> list[str]:
    """What a failed apply says on stderr: the error, what was and was not done, the hint."""
    assert result.failure is not None
    f = result.failure
    lines = [
        f"error: {f.message}",
        f"  done: {result.steps_done} step(s); not done: " + (", ".join(s.describe() for s in f.not_done) or "none"),
        f"  hint: {f.hint}",
    ]
    r = result.rollback
    if r is not None and r.restored_ok:
        what = [f"restored {', '.join(r.restored)}" if r.restored else "", f"removed {', '.join(r.removed)}" if r.removed else ""]
        lines.append(f"  rolled back ({r.seconds:.1f}s): " + "; ".join(w for w in what if w)
                     + ("; the manifests' change is still pending (`podspec diff`)"))
    elif r is not None:
        lines.append(f"  the rollback failed too: {r.error} (the next apply or `podspec rollback` converges)")
    return lines


# ------------------------------------------------------------------------------------ status


def status_json(result: StatusResult) -> dict[str, Any]:
    return {"version": JSON_VERSION, "pods": [
        {"name": p.name, "project": p.project, "status": p.status, "drift": list(p.drift), "revision": p.revision,
         "stopped": p.stopped or None,
         "containers": [{"name": c.name, "role": c.role, "state": c.state, "image": c.image, "restarts": c.restarts}
                        for c in p.containers]}
        for p in result.pods], "agents": [a.to_json() for a in result.agents]}


def _when(stamp: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(stamp)) if stamp is not None else "never"


def agent_lines(agent: AgentState) -> list[str]:
    """`podspec status`: one pull agent's state."""
    lines = [f"sync agent  project={agent.project}  {'running' if agent.running else 'not running'} (pid {agent.pid})",
             f"    source:        {agent.source}  branch {agent.branch}  paths {', '.join(agent.paths)}",
             f"    last fetch:    {_when(agent.last_fetch)}" + (f"  head {agent.fetched[:12]}" if agent.fetched else ""),
             f"    applied:       {agent.applied[:12] if agent.applied else 'nothing yet'}"
             + (f"  at {_when(agent.applied_at)}" if agent.applied_at else ""),
             f"    next round:    {_when(agent.next_round) if agent.next_round and agent.running else '-'}",
             f"    drift repairs: {agent.drift_repairs}"]
    if agent.last_error:
        which = f" (revision {agent.error_revision[:12]})" if agent.error_revision else ""
        lines.append(f"    last error{which}: {agent.last_error}")
    lines += [f"    crash loop: pod {pod} held back until {_when(until)}" for pod, until in sorted(agent.crash_loops.items())]
    return lines


def status_text(result: StatusResult) -> str:
    agents = [line for agent in result.agents for line in agent_lines(agent)]
    if not result.pods:
        return "\n".join(["No pods managed by podspec" + (f" in project {result.project!r}." if result.project else "."),
                          *agents])
    width = max((len(c.name) for p in result.pods for c in p.containers), default=0)
    lines = []
    for p in result.pods:
        applied = f"  revision={short_revision(p.revision)}" if p.revision else ""
        stopped = f"  stopped on purpose at {p.stopped} (`podspec start {p.name}` starts it)" if p.stopped else ""
        lines.append(f"pod {p.name}  project={p.project}  {p.status}{applied}{stopped}")
        lines += [f"    {c.name:<{width}}  {c.role:<9} {c.state:<8} {c.image}"
                  + (f"  restarts={c.restarts}" if c.restarts else "") for c in p.containers]
        lines += [f"    drift: {d}" for d in p.drift]
    return "\n".join(lines + agents)


def short_revision(revision: str) -> str:
    """A git commit as 12 hex digits (`-dirty` kept); any other revision as given."""
    head, dirty, _ = revision.partition("-dirty")
    if len(head) == 40 and all(ch in "0123456789abcdef" for ch in head):
        return head[:12] + ("-dirty" if dirty else "")
    return revision


# ----------------------------------------------------------------------------------- history


def history_json(result: HistoryResult) -> dict[str, Any]:
    return {"version": JSON_VERSION, "project": result.project, "records": [r.to_json() for r in result.records]}


def _history_changes(record: HistoryRecord) -> str:
    counts = {k: v for k, v in sorted(record.summary.items()) if v}
    return ", ".join(f"{v} {k}" for k, v in counts.items()) or "none"


def history_text(result: HistoryResult) -> str:
    if not result.records:
        return "No applies recorded" + (f" for project {result.project!r}." if result.project else ".")
    rows = [("#", "TIME (UTC)", "PROJECT", "REVISION", "OUTCOME", "CHANGES", "PODS")]
    for r in result.records:
        pods = ", ".join([*(f"{p}*" for p in r.changed), *r.unchanged, *(f"-{p}" for p in r.removed),
                          *(f"{p}!" for p in r.not_done)])
        rows.append((str(r.seq), r.time.replace("T", " ").rstrip("Z"), r.project, short_revision(r.revision) or "-",
                     r.outcome, _history_changes(r), pods or "-"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) + "  " + row[-1] for row in rows]
    lines.append("pods: name* changed, -name removed, name! not done (failed)")
    errors = [f"#{r.seq} {r.project}: {r.error}" for r in result.records if r.error]
    return "\n".join([line.rstrip() for line in lines] + errors)


# ------------------------------------------------------------------------------------ delete


def delete_json(result: DeleteResult) -> dict[str, Any]:
    return {"version": JSON_VERSION, "project": result.project, "plan": plan_json(result.plan),
            "skipped": list(result.skipped), "dry_run": result.dry_run}


def lifecycle_json(result: LifecycleResult) -> dict[str, Any]:
    return {"version": JSON_VERSION, "command": result.command, "pods": list(result.pods),
            "waves": [list(w) for w in result.waves], "steps": [step_json(s) for s in result.steps],
            "ready": list(result.ready), "not_ready": result.not_ready or None}


def lifecycle_text(result: LifecycleResult) -> str:
    if not result.pods:
        return "No pods podspec manages there."
    if result.command == "stop":
        return (f"Stopped on purpose: {', '.join(result.pods)} (apply and the agent leave "
                f"{'it' if len(result.pods) == 1 else 'them'} stopped until `podspec start`).")
    lines = [f"Started: {', '.join(result.pods)}" + ("" if result.steps else " (running already)")]
    if result.ready:
        lines.append(f"Ready: {', '.join(result.ready)}.")
    return "\n".join(lines)


def volumes_kept_text(result: DeleteResult) -> str | None:
    if not result.volumes_kept:
        return None
    return "Volumes kept: " + ", ".join(result.volumes_kept) + " (pass --volumes to remove them)."


# ------------------------------------------------------------------------- validate and errors


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def validate_text(result: ValidateResult) -> str:
    state = result.desired
    lines = [f"{_plural(len(state.files), 'file')}, {_plural(len(state.pods), 'pod')}, "
             f"{_plural(len(state.claims), 'volume claim')}: valid"]
    lines += [f"{doc}: SOPS-encrypted; its shape is checked, its values are decrypted by diff and apply"
              for doc in state.encrypted if not doc.decrypted]
    return "\n".join(lines)


def problem_json(problem: Problem) -> dict[str, Any]:
    return {"file": problem.origin.file, "line": problem.origin.line, "column": problem.origin.column,
            "path": problem.path, "message": problem.message, "hint": problem.hint}


def error_json(error: PodspecError) -> dict[str, Any]:
    payload: dict[str, Any] = {"type": type(error).__name__, "message": error.message, "hint": error.hint}
    if isinstance(error, ManifestError):
        payload["problems"] = [problem_json(p) for p in error.problems]
    return {"error": payload}


def error_lines(error: PodspecError) -> list[str]:
    """An error as a person reads it on stderr: every problem of bad manifests, then what and how."""
    if isinstance(error, ManifestError):
        return [str(p) for p in error.problems] + [f"error: {error.message}; {error.hint}"]
    return [f"error: {error.message}"] + ([f"  hint: {error.hint}"] if error.hint else [])


def saved_plan_text(plan: SavedPlan, key: bytes | None = None) -> str:
    """The plan file (reconcile/saved_plan.py): JSON, keys sorted, one trailing newline; signed
    with `key` when there is one."""
    from podspec.reconcile.saved_plan import sign, to_json

    data = to_json(plan)
    return json_text(sign(data, key) if key else data) + "\n"


def json_text(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True)


# ----------------------------------------------------------------------- pull-request output
# Markdown as a pull-request comment shows it (a summary table, then each pod's details in a
# collapsible section), and GitHub workflow commands that put each problem on its file and line.
# Everything shown is escaped for its place; secret values are already redacted in the Diff.

_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]|"})


def md_text(text: str) -> str:
    """Plain text safe inside markdown (and a table cell): no HTML, no emphasis, no code spans, one line."""
    import html  # markdown output only

    return " ".join(html.escape(text, quote=False).translate(_MD_SPECIAL).splitlines())


def _md_code(text: str) -> str:
    """Inline code that holds any text (a longer backtick fence when the text has backticks)."""
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text.replace('|', '&#124;')}{pad}{fence}"


def _md_block(lines: list[str], language: str = "") -> list[str]:
    body = "\n".join(lines)
    fence = "`" * max(3, max((len(run) + 1 for run in re.findall(r"`{3,}", body)), default=3))
    return [f"{fence}{language}", *lines, fence]


def _pod_change(p: PodDiff) -> tuple[str, str]:
    """(what changes, why) of a pod, for the summary table."""
    if p.action is not None and p.action is not Action.START:
        return _CONSEQUENCE[p.action], p.cause
    parts = [f"{c.action.value} {container_in_pod(p.name, c.name)}" for c in p.containers]
    if p.action is Action.START:
        parts.insert(0, "start the pod")
    causes = sorted({c.cause for c in p.containers} | ({p.cause} if p.cause else set()))
    return ", ".join(parts), "; ".join(causes)


def diff_markdown(diff: Diff) -> str:
    import html  # markdown output only

    lines = [f"<!-- podspec diff: project {html.escape(diff.project)} -->",
             f"### podspec diff: project {_md_code(diff.project)}", ""]
    if not diff.has_changes:
        lines.append("**No changes**: the host matches the manifests.")
    else:
        lines.append(f"**{md_text(summary_line(diff))}**")
    if diff.conflicts:
        lines += ["", f"**Conflicts**: apply would refuse; {len(diff.conflicts)} object(s) podspec did not create "
                  "stand in the way (see below)."]
    rows = [(f"volume {_md_code(v.name)}", _CONSEQUENCE[v.action], v.cause) for v in diff.volumes]
    rows += [(f"secret {_md_code(s.name)}", _CONSEQUENCE[s.action], s.cause) for s in diff.secrets]
    network = diff.network
    if network is not None and network.diff is not None:
        rows.append((f"network {_md_code(network.diff.name)}", _CONSEQUENCE[network.diff.action], network.diff.cause))
    rows += [(f"pod {_md_code(p.name)}", *_pod_change(p)) for p in diff.pods]
    attachments = network.attachments if network is not None else ()
    rows += [(f"pod {_md_code(a.pod)}", f"{_ATTACH[a.action.value]} {a.network}", a.cause) for a in attachments]
    attached = {a.pod for a in attachments}
    rows += [(f"pod {_md_code(name)}", "up to date", "") for name in diff.unchanged_pods if name not in attached]
    rows += [("kept", "left alone", kept) for kept in diff.kept]
    if rows:
        lines += ["", "| Object | Change | Why |", "| --- | --- | --- |"]
        lines += [f"| {what} | {md_text(change)} | {md_text(why)} |" for what, change, why in rows]
    for p in diff.pods:
        change, why = _pod_change(p)
        summary = f"pod <code>{html.escape(p.name)}</code>: {html.escape(change)}"
        lines += ["", "<details>", f"<summary>{summary}</summary>", ""]
        lines += _md_block(_pod_lines(p, Style(False)), "diff")
        lines += ["", "</details>"]
    return "\n".join(lines) + "\n"


def _problem_markdown(problem: Problem) -> str:
    where = f"**{problem.origin.line}:{problem.origin.column}** " if problem.origin.line > 0 else ""
    path = f"{_md_code(problem.path)}: " if problem.path else ""
    hint = f" ({md_text(problem.hint)})" if problem.hint else ""
    return f"- {where}{path}{md_text(problem.message)}{hint}"


def validate_markdown(result: ValidateResult | None, problems: tuple[Problem, ...] = ()) -> str:
    """The validation report: valid (with what was read), or a table of files with problems and
    each file's problems in a collapsible section."""
    import html  # markdown output only

    lines = ["<!-- podspec validate -->", "### podspec validate", ""]
    if not problems:
        text, *encrypted = validate_text(result).split("\n") if result is not None else ["valid"]
        return "\n".join([*lines, f"**Valid**: {md_text(text.removesuffix(': valid'))}.",
                          *(["", *(f"- {md_text(e)}" for e in encrypted)] if encrypted else [])]) + "\n"
    by_file: dict[str, list[Problem]] = {}
    for problem in problems:
        by_file.setdefault(problem.origin.file, []).append(problem)
    lines += [f"**{_plural(len(problems), 'problem')}** in {_plural(len(by_file), 'file')}; "
              "nothing can be applied until they are fixed.", "",
              "| File | Problems |", "| --- | ---: |"]
    lines += [f"| {_md_code(name)} | {len(found)} |" for name, found in by_file.items()]
    for name, found in by_file.items():
        lines += ["", "<details open>", f"<summary><code>{html.escape(name)}</code>: {_plural(len(found), 'problem')}</summary>",
                  "", *(_problem_markdown(p) for p in found), "", "</details>"]
    return "\n".join(lines) + "\n"


def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_property(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


def github_annotations(problems: tuple[Problem, ...], title: str = "podspec validate") -> str:
    """One `::error file=F,line=L,col=C,title=T::message` workflow command per problem, escaped as
    GitHub's runner expects, so that each lands on its file and line in the pull request."""
    lines = []
    for p in problems:
        props = [f"file={_gh_property(p.origin.file)}"]
        if p.origin.line > 0:
            props.append(f"line={p.origin.line}")
            if p.origin.column > 0:
                props.append(f"col={p.origin.column}")
        props.append(f"title={_gh_property(title)}")
        message = (f"{p.path}: " if p.path else "") + p.message + (f" ({p.hint})" if p.hint else "")
        lines.append(f"::error {','.join(props)}::{_gh_data(message)}")
    return "\n".join(lines) + ("\n" if lines else "")


def github_error(error: PodspecError, title: str = "podspec") -> str:
    """An error that is not about a place in a file, as one workflow command."""
    return f"::error title={_gh_property(title)}::{_gh_data(error.message + (f' ({error.hint})' if error.hint else ''))}\n"


# ------------------------------------------------------------------------ several targets


def target_header(target: Target) -> str:
    return f"== target {target.name} ({target.where}) =="


def targets_json(outcomes: Sequence[TargetOutcome[Any]], shape: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    """`{version, targets: {NAME: {connection, seconds, ...the command's JSON... | error | skipped}}}`,
    keyed by target."""
    def one(o: TargetOutcome[Any]) -> dict[str, Any]:
        if o.skipped:
            return {"skipped": o.skipped}
        return error_json(o.error) if o.error is not None else shape(o.result)

    return {"version": JSON_VERSION, "targets": {
        o.target.name: {"connection": o.target.where, "seconds": round(o.seconds, 3), **one(o)} for o in outcomes}}


def targets_summary(outcomes: Sequence[TargetOutcome[Any]], state: Callable[[Any], str]) -> str:
    """A line per target after their outputs: `  NAME  STATE  (1.2s)`, and the totals."""
    def of(o: TargetOutcome[Any]) -> str:
        return "skipped" if o.skipped else "error" if o.error is not None else state(o.result)

    states = [of(o) for o in outcomes]
    width = max(len(o.target.name) for o in outcomes)
    lines = [f"== summary: {len(outcomes)} targets =="]
    lines += [f"  {o.target.name:<{width}}  {s:<16} ({o.seconds:.1f}s)" for o, s in zip(outcomes, states, strict=True)]
    counts = ", ".join(f"{states.count(s)} {s}" for s in sorted(set(states)))
    return "\n".join([*lines, f"  {counts}"])


# -------------------------------------------------------------------------------------- info


def info_json(result: InfoResult) -> dict[str, Any]:
    h = result.host
    return {"version": JSON_VERSION, "podman": {
        "version": h.version, "rootless": h.rootless, "uid": h.uid, "url": result.url, "chosen_by": result.chosen_by,
        "unprivileged_port_start": h.unprivileged_port_start},
        "lock_dir": str(result.lock_dir), "state_dir": str(result.state_dir)}


def info_text(result: InfoResult) -> str:
    h = result.host
    ports = (f"{h.unprivileged_port_start} (net.ipv4.ip_unprivileged_port_start)" if h.unprivileged_port_start is not None
             else f"unknown (a remote host; {h.port_start}, Linux's default, is assumed)")
    lines = [f"Podman {h.version}, {h.kind}", f"  at {result.url} (chosen by {result.chosen_by})"]
    if h.rootless:
        lines.append(f"  host ports it can publish: from {ports}")
    lines += [f"locks: {result.lock_dir}", f"state: {result.state_dir}"]
    return "\n".join(lines)
