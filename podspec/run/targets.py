"""Running one workflow on several targets (podspec.toml): a fleet of hosts in one command.

- Side by side, with a bound: at most `limit` targets at once (a thread each); the others wait for a
  free place, in the file's order. Each target has its own connection and its own manifests.
- A failure on one target is that target's outcome; the others go on.
- Staged (`canary`): the canary targets run first; the rest run only if every canary succeeded (and
  `passed` says its result is good, e.g. ready); otherwise they are skipped, changing nothing.
- One verdict covers them all (verdict): failed if any failed or was skipped, else changes if any
  has changes pending, else ok; the CLI maps it to its exit code.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import Enum
from typing import Generic, TypeVar

from podspec.errors import PodspecError
from podspec.run.projectfile import Target

R = TypeVar("R")

DEFAULT_LIMIT = 16  # targets at once: each mostly waits on its host, but each costs an ssh process and a thread


class Verdict(Enum):
    """What the targets' outcomes add up to."""

    OK = "ok"
    CHANGES = "changes"  # changes pending on at least one target, none failed
    FAILED = "failed"  # at least one target failed


@dataclass(frozen=True)
class TargetOutcome(Generic[R]):
    target: Target
    result: R | None = None
    error: PodspecError | None = None
    skipped: str = ""  # why the target was not run (a staged rollout whose canary failed)
    seconds: float = 0.0  # how long its work took

    @property
    def value(self) -> R:
        """The result of a target that did not fail."""
        assert self.result is not None, f"target {self.target.name} failed"
        return self.result


def _one(target: Target, work: Callable[[Target], R]) -> TargetOutcome[R]:
    began = time.monotonic()
    try:
        result = work(target)
    except PodspecError as error:
        return TargetOutcome(target, error=error, seconds=time.monotonic() - began)
    return TargetOutcome(target, result=result, seconds=time.monotonic() - began)


def each(targets: Sequence[Target], work: Callable[[Target], R],
         limit: int = DEFAULT_LIMIT) -> tuple[TargetOutcome[R], ...]:
    """`work` on every target, at most `limit` at once; outcomes in the targets' order. A podspec error
    on one target is that target's outcome; anything else is a bug and is raised."""
    if not targets:
        return ()
    if limit < 1:
        raise ValueError("limit must be at least 1")
    with ThreadPoolExecutor(max_workers=min(len(targets), limit), thread_name_prefix="target") as pool:
        futures = [pool.submit(_one, target, work) for target in targets]
        return tuple(future.result() for future in futures)


def staged(targets: Sequence[Target], work: Callable[[Target], R], canary: Sequence[str],
           passed: Callable[[R], bool], limit: int = DEFAULT_LIMIT) -> tuple[TargetOutcome[R], ...]:
    """The `canary` targets first (side by side); the others only if every canary's work succeeded and
    `passed` its result. Outcomes in the targets' order; the skipped say which canary stopped them."""
    first = [t for t in targets if t.name in canary]
    rest = [t for t in targets if t.name not in canary]
    done = {o.target.name: o for o in each(first, work, limit)}
    bad = sorted(name for name, o in done.items() if o.error is not None or o.result is None or not passed(o.result))
    if bad:
        why = f"not run: the canary {', '.join(bad)} did not succeed"
        done.update({t.name: TargetOutcome(t, skipped=why) for t in rest})
    else:
        done.update({o.target.name: o for o in each(rest, work, limit)})
    return tuple(done[t.name] for t in targets)


def verdict(outcomes: Sequence[TargetOutcome[R]], failed: Callable[[R], bool] = lambda r: False,
            changed: Callable[[R], bool] = lambda r: False) -> Verdict:
    """Failed if a target raised, was skipped or its result counts as failed, else changes if a result has
    changes pending, else ok."""
    results = [o.result for o in outcomes if o.error is None and o.result is not None]
    if any(o.error is not None or o.skipped for o in outcomes) or any(failed(r) for r in results):
        return Verdict.FAILED
    return Verdict.CHANGES if any(changed(r) for r in results) else Verdict.OK
