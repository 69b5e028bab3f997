"""Running one workflow on several targets (podspec.toml), side by side, one thread per target.

Each target has its own connection and its own manifests; a failure on one does not stop the
others. One exit code covers them all (exit_code): 1 if any failed, else 2 if any has changes
pending, else 0.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, TypeVar

from podspec.errors import PodspecError
from podspec.run.projectfile import Target

R = TypeVar("R")

EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2


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


def exit_code(outcomes: Sequence[TargetOutcome[R]], failed: Callable[[R], bool] = lambda r: False,
              changed: Callable[[R], bool] = lambda r: False) -> int:
    results = [o.result for o in outcomes if o.error is None and o.result is not None]
    if any(o.error is not None for o in outcomes) or any(failed(r) for r in results):
        return EXIT_ERROR
    return EXIT_CHANGES if any(changed(r) for r in results) else EXIT_OK
