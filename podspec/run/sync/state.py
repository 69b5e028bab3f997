"""What the agent keeps on disk, under `--state-dir`/PROJECT/:

    repo.git/            the bare repository it fetches into
    checkouts/REVISION/  the files of the applied revision (self-heal re-applies them)
    agent.json           its state, for `podspec status` and for a restart (written atomically)

and the revision record: every revision it applies or refuses goes to the host's history (`podspec
history`): applies through the apply workflow, refusals through `HostHistory`.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Protocol

from podspec.engine.protocol import Engine

STATE_FILE = "agent.json"


def default_state_dir(env: dict[str, str] | Any, root: bool) -> Path:
    """/var/lib/podspec/sync for root; $XDG_STATE_HOME/podspec/sync (~/.local/state/...) otherwise
    (run/paths.py keeps the choice for every part of podspec)."""
    from podspec.run import paths

    return (paths.SYSTEM_STATE if root else paths.user_state_dir(env)) / "sync"


@dataclass(frozen=True)
class AgentState:
    project: str
    source: str
    branch: str
    paths: tuple[str, ...] = ()
    pid: int = 0
    running: bool = False  # False once the agent exited cleanly (or after --once)
    last_fetch: float | None = None  # wall-clock seconds
    fetched: str | None = None  # the branch's head at the last fetch
    applied: str | None = None  # the revision on the host
    applied_at: float | None = None
    last_error: str | None = None
    error_revision: str | None = None
    refused: str | None = None  # the last head refused for its content (invalid manifests or policy)
    rejected: str | None = None  # the last head refused for trust (unsigned, a rewind); judged again each round
    failures: int = 0  # failed rounds in a row (the backoff's count)
    next_round: float | None = None  # wall-clock seconds
    crash_loops: dict[str, float] = field(default_factory=dict)  # pod -> held until (wall clock)
    drift_repairs: int = 0

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["paths"] = list(self.paths)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AgentState:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["paths"] = tuple(values.get("paths") or ())
        values["crash_loops"] = dict(values.get("crash_loops") or {})
        return cls(**values)


def make_private(*directories: Path) -> None:
    """Make each directory (and its parents) and leave it 0700: the agent's state holds the
    repository, its checkouts and what it applied; whoever starts the agent (root included), no one
    else reads them. A directory of another user's is left as it is (never chmod someone else's)."""
    for directory in directories:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        info = directory.stat()
        if info.st_uid == os.geteuid() and stat.S_IMODE(info.st_mode) != 0o700:
            directory.chmod(0o700)


def project_dir(state_dir: Path, project: str) -> Path:
    return state_dir / project


def write(state_dir: Path, state: AgentState) -> None:
    path = project_dir(state_dir, state.project) / STATE_FILE
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(json.dumps(state.to_json(), indent=2, sort_keys=True) + "\n")
    os.replace(partial, path)


def read(state_dir: Path, project: str) -> AgentState | None:
    path = project_dir(state_dir, project) / STATE_FILE
    try:
        return AgentState.from_json(json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None


def read_all(state_dir: Path, project: str | None) -> tuple[AgentState, ...]:
    """The agents' states under `state_dir`: of `project`, or of every project. An agent whose
    process is gone (killed, or the host restarted) is not `running`, whatever its file says."""
    if project is not None:
        names = [project]
    else:
        try:
            names = sorted(p.name for p in state_dir.iterdir() if (p / STATE_FILE).is_file())
        except OSError:
            return ()
    found = (read(state_dir, name) for name in names)
    return tuple(replace(s, running=s.running and _alive(s.pid)) for s in found if s is not None)


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


# ------------------------------------------------------------------------------- the record


@dataclass(frozen=True)
class Revision:
    """One revision the agent acted on, for the host's history."""

    project: str
    revision: str
    outcome: str  # applied, no-changes, failed, invalid, refused
    message: str = ""  # the error, or the commit's subject
    source: str = ""
    branch: str = ""
    steps: int = 0


class HistoryWriter(Protocol):
    """Where the agent records the revisions that never reached an apply (HostHistory)."""

    def record(self, entry: Revision) -> None: ...


class HostHistory:
    """Records on the host, in the history `podspec history` lists (run/history.py), for the
    revisions that never reached an apply: refused as invalid, unsigned or a rewind. (Applies,
    including the agent's drift repairs, are recorded by the apply workflow itself, with the
    revision the agent passes in ApplyRequest.revision.)"""

    def __init__(self, connect: Callable[[], Engine]) -> None:
        self.connect = connect

    def record(self, entry: Revision) -> None:
        from contextlib import closing

        from podspec.run import history

        with closing(self.connect()) as engine:
            history.record(engine, history.record_of(entry.project, entry.revision, entry.outcome, error=entry.message))
