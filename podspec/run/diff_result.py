"""What diff returns: plain frozen data for render (text, JSON, markdown) and for the exit code.
Apart from run/results.py (apply's results and events, re-exported there): a no-op diff defines
this class alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # types only
    from podspec.model import DesiredState
    from podspec.reconcile.diff import Diff
    from podspec.reconcile.saved_plan import SavedPlan


@dataclass(frozen=True)
class DiffResult:
    """A diff's outcome: the desired state, what differs, and the plan to save (if asked)."""

    desired: DesiredState
    diff: Diff
    saved: SavedPlan | None = None  # --save-plan: the plan to write (None when conflicts stop it)
