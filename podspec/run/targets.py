"""Running one workflow on several targets (podspec.toml), side by side, one thread per target.

Each target has its own connection and its own manifests; a failure on one does not stop the
others. One verdict covers them all (verdict): failed if any failed, else changes if any has
changes pending, else ok; the CLI maps it to its exit code.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import Enum
from typing import Generic, TypeVar

from podspec.errors import PodspecError
from podspec.run.projectfile import Target

R = TypeVar("R")



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

    @property
    def value(self) -> R:
        """The result of a target that did not fail."""
        assert self.result is not None, f"target {self.target.name} failed"
        return self.result


def each(targets: Sequence[Target], work: Callable[[Target], R]) -> tuple[TargetOutcome[R], ...]:
    """`work` on every target at once; outcomes in the targets' order. A podspec error on one target
    is that target's outcome; anything else is a bug and is raised."""
    if not targets:
        return ()
    with ThreadPoolExecutor(max_workers=len(targets), thread_name_prefix="target") as pool:
        futures = [(target, pool.submit(work, target)) for target in targets]
        outcomes: list[TargetOutcome[R]] = []
        for target, future in futures:
            try:
                outcomes.append(TargetOutcome(target, result=future.result()))
            except PodspecError as error:
                outcomes.append(TargetOutcome(target, error=error))
    return tuple(outcomes)


def verdict(outcomes: Sequence[TargetOutcome[R]], failed: Callable[[R], bool] = lambda r: False,
            changed: Callable[[R], bool] = lambda r: False) -> Verdict:
    """Failed if a target raised or its result counts as failed, else changes if a result has
    changes pending, else ok."""
    results = [o.result for o in outcomes if o.error is None and o.result is not None]
    if any(o.error is not None for o in outcomes) or any(failed(r) for r in results):
        return Verdict.FAILED
    return Verdict.CHANGES if any(changed(r) for r in results) else Verdict.OK
