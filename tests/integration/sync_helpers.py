"""Real git repositories and a real `podspec sync` process, for the pull agent's tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests.integration.manifests import PROJECT

ROOT = Path(__file__).resolve().parents[2]


def git_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(HOME=str(home), GIT_CONFIG_NOSYSTEM="1", GIT_AUTHOR_NAME="Test", GIT_AUTHOR_EMAIL="test@example.com",
               GIT_COMMITTER_NAME="Test", GIT_COMMITTER_EMAIL="test@example.com")
    return env


class Repo:
    """A git repository made in the test: the source the agent follows."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.home = path.parent / "git-home"
        self.home.mkdir(exist_ok=True)
        path.mkdir()
        self.git("init", "--quiet", "--initial-branch", "main")

    def git(self, *args: str) -> str:
        done = subprocess.run(["git", "-C", str(self.path), *args], capture_output=True, text=True,
                              env=git_env(self.home), check=False)
        assert done.returncode == 0, f"git {args}: {done.stderr}"
        return done.stdout.strip()

    def commit(self, files: dict[str, str], message: str = "change", config: tuple[str, ...] = (), sign: bool = False) -> str:
        """Replace the manifests directory with `files`; commit; return the commit id."""
        manifests = self.path / "manifests"
        if manifests.exists():
            self.git("rm", "-r", "--quiet", "manifests")
        manifests.mkdir(exist_ok=True)
        for name, text in files.items():
            (manifests / name).write_text(text)
        self.git("add", "-A")
        self.git(*config, "commit", "--quiet", "--allow-empty", "-m", message, *(("-S",) if sign else ()))
        return self.head()

    def head(self) -> str:
        return self.git("rev-parse", "HEAD")


def sync_argv(podman, repo: Repo, state: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "podspec", "sync", str(repo.path), "--url", podman.url, "--project", PROJECT,
            "--state-dir", str(state), "--path", "manifests", *args]


def sync_env(repo: Repo) -> dict[str, str]:
    env = git_env(repo.home)
    env.pop("CONTAINER_HOST", None)
    env["PYTHONPATH"] = str(ROOT)
    return env


def once(podman, repo: Repo, state: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(sync_argv(podman, repo, state, "--once", *args), capture_output=True, text=True,
                          env=sync_env(repo), timeout=300, check=False)


class Agent:
    """A long-running `podspec sync` process; its log (stderr) goes to a file."""

    def __init__(self, podman, repo: Repo, state: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.log_path = state.parent / f"agent-{time.monotonic_ns()}.log"
        self.state = state
        self._log = self.log_path.open("w")
        self._terminated = False  # SIGTERM or SIGINT sent
        self.process = subprocess.Popen(sync_argv(podman, repo, state, *args), stdout=subprocess.DEVNULL,
                                        stderr=self._log, env={**sync_env(repo), **(env or {})})

    def log(self) -> str:
        return self.log_path.read_text()

    def lines(self) -> list[dict]:
        """The log lines, with --log-format json."""
        return [json.loads(line) for line in self.log().splitlines() if line.startswith("{")]

    def agent_state(self) -> dict:
        path = self.state / PROJECT / "agent.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)
        self._terminated = self._terminated or signum in (signal.SIGTERM, signal.SIGINT)

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM (once: a second one may land while Python finalizes, after it has put the default
        handler back, and kill the agent that was exiting cleanly), then its exit code."""
        if self.process.poll() is None and not self._terminated:
            self.signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self._log.close()

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()
        self._log.close()

    def __enter__(self) -> Agent:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._log.close()


def wait_until(check: Callable[[], object], timeout: float, what: str, agent: Agent | None = None) -> object:
    """Poll `check` until it returns something true; fail after `timeout` seconds (a deadline)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if agent is not None and agent.process.poll() is not None:
            raise AssertionError(f"the agent exited ({agent.process.returncode}) before {what}:\n{agent.log()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s: {what}" + (f"\nagent log:\n{agent.log()}" if agent else ""))
        time.sleep(0.1)


def containers(podman) -> list[str]:
    out = podman.podman("ps", "-a", "--format", "{{.Names}}").stdout
    return sorted(line for line in out.splitlines() if line.strip() and not line.endswith("-infra"))


def ids(podman) -> dict[str, str]:
    """Every container's name (infra containers too) -> its ID."""
    out = podman.podman("ps", "-a", "--no-trunc", "--format", "{{.Names}} {{.ID}}").stdout
    return dict(line.split() for line in out.splitlines() if line.strip())


def running(podman, name: str) -> bool:
    done = podman.podman("inspect", "--format", "{{.State.Running}}", name, check=False)
    return done.returncode == 0 and done.stdout.strip() == "true"
