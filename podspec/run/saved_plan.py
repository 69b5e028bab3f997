"""Saved plans on disk: what `diff --save-plan` writes and `apply --plan` reads (the rules are pure:
reconcile/saved_plan.py).

    make(request, desired, observed, diff)  -> SavedPlan   (host seen before any image check)
    read_plan(path)                         -> SavedPlan   (UsageError when not a plan file)
    file_digests(paths)                     -> ((file, "sha256:..."), ...)
    check_manifests(saved, paths)           raises StalePlan when a manifest file changed
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from podspec.errors import StalePlan, UsageError
from podspec.model import DesiredState
from podspec.observed import ObservedState
from podspec.reconcile import planner
from podspec.reconcile import saved_plan as S
from podspec.reconcile.diff import Diff
from podspec.reconcile.saved_plan import SavedPlan

STALE_HINT = ("make a new plan (podspec diff --save-plan FILE), review it and apply that one; "
              "nothing was changed on the host")


def file_digests(paths: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """Each manifest file under `paths`, as the loader names and reads it, with its digest."""
    from podspec.loader.sources import read

    found, _ = read(tuple(paths), None)
    return tuple((s.name, S.digest(s.raw)) for s in found)


def make(paths: Sequence[str], project: str, revision: str, desired: DesiredState, observed: ObservedState, diff: Diff,
         prune: bool, prune_volumes: bool, adopt: bool, created: str, force_conflicts: bool = False) -> SavedPlan:
    """The plan to save; `observed` is the host as first read (before any image check)."""
    if "-" in paths:
        raise UsageError("a plan cannot be saved for manifests read from standard input",
                         "name the manifest files, so that apply --plan can check them again")
    plan = planner.build(diff)  # conflicts raise: no plan to save
    return SavedPlan(
        project=project, paths=tuple(paths), files=file_digests(paths),
        host=S.host_view(desired, observed, project, prune, prune_volumes), steps=S.saved_steps(plan), summary=diff.summary(),
        created=created, revision=revision, prune=prune, prune_volumes=prune_volumes, adopt=adopt,
        force_conflicts=force_conflicts,
    )


def read_plan(path: str, key: bytes | None = None) -> SavedPlan:
    """The plan file; with `key` ($PODSPEC_PLAN_KEY) only a plan signed with it, else UsageError."""
    try:
        text = Path(path).read_text()
    except OSError as error:
        raise UsageError(f"cannot read the plan {path}: {error.strerror or error}", "check the path") from None
    try:
        data = json.loads(text)
    except ValueError:
        raise UsageError(f"{path} is not a podspec plan file (not JSON)",
                         "make one with `podspec diff --save-plan FILE`") from None
    if key is None:
        return S.from_json(data, path)
    why = S.signature_problem(data, key) if isinstance(data, dict) else "it is not a plan file"
    if why is not None:
        raise UsageError(f"refused the plan {path}: {why}; nothing was changed",
                         "apply only a plan saved by `podspec diff --save-plan` with the same PODSPEC_PLAN_KEY")
    return replace(S.from_json(data, path), signed=True)


def stale(differences: list[str]) -> StalePlan:
    return StalePlan("stale plan: " + "; ".join(differences), STALE_HINT)


def check_manifests(saved: SavedPlan) -> None:
    """Refuse, before the host is read, a plan whose manifest files changed."""
    differences = S.stale_manifests(saved.files, file_digests(saved.paths))
    if differences:
        raise stale(differences)


def check_flags(saved: SavedPlan, file: str, paths: Sequence[str], project: str | None, resolved: tuple[str, str] | None,
                prune: bool, prune_volumes: bool, adopt: bool, force_conflicts: bool = False) -> None:
    """A plan file is data anyone who handles it could edit: what it asks for beyond the steps
    (manifests, project, --prune, --prune-volumes, --adopt, --force-conflicts) must be restated on
    the command line, where it was reviewed (the workflow file, the operator's command), and
    agree; a plan signed with $PODSPEC_PLAN_KEY takes them from the file. Either way a flag that
    says otherwise is refused. `resolved`: the project the command line's paths give, and the name an
older podspec gave them (a host may keep that one: reconcile/former.py)."""
    named = bool(project) or (resolved is not None and saved.project not in resolved)
    restate = f"carry it out with: {saved.command(file, with_project=named)}"
    if saved.signed:
        if paths and tuple(paths) != saved.paths:
            raise UsageError(f"the plan was made for {' '.join(saved.paths)}, not {' '.join(paths)}", restate)
    elif tuple(paths) != saved.paths:
        raise UsageError(
            f"the plan was made for {' '.join(saved.paths)}; apply --plan needs its manifests and options on the command "
            f"line{', not ' + ' '.join(paths) if paths else ''}: a plan file cannot ask for more than was reviewed",
            f"{restate} (or sign plans: set PODSPEC_PLAN_KEY when saving and applying them)")
    if project and project != saved.project:
        raise UsageError(f"the plan was made for project {saved.project!r}, not {project!r}", restate)
    if not saved.signed and not project and resolved and saved.project not in resolved:
        raise UsageError(f"the plan was made for project {saved.project!r}, but its manifests make project {resolved[0]!r}",
                         f"if that is the project you reviewed, {restate}")
    for flag, given, planned in (("--prune", prune, saved.prune), ("--prune-volumes", prune_volumes, saved.prune_volumes),
                                 ("--adopt", adopt, saved.adopt), ("--force-conflicts", force_conflicts, saved.force_conflicts)):
        if given and not planned:
            raise UsageError(f"the plan was made without {flag}",
                             f"make a new plan with `podspec diff {flag} --save-plan FILE`, or drop {flag}")
        if planned and not given and not saved.signed:
            raise UsageError(f"the plan asks for {flag}, which the command line does not: refused, nothing was changed",
                             f"if you reviewed a plan with {flag}, {restate}")
