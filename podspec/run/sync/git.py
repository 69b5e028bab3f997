"""The agent's copy of the repository: fetched with the git command line (so the user's SSH keys,
`~/.ssh/config` and credential helpers work) into a bare repository in the agent's state directory.

Every git call is an argument list, never a shell line: nothing from the repository or the flags
is ever interpolated into a shell. Checkouts are written by `git archive` read with tarfile's
"data" filter, which refuses absolute paths, `..` and links that leave the directory.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

from podspec.errors import InvalidRevision, SyncError

FETCH_TIMEOUT = 300.0
LOCAL_TIMEOUT = 60.0
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
# Never ask on a terminal; never run a transport helper that runs commands (ext::).
_CONFIG = ("-c", "protocol.ext.allow=never", "-c", "gc.auto=0", "-c", "core.hooksPath=/dev/null")


@dataclass(frozen=True)
class Signature:
    ok: bool
    detail: str  # git's own words: who signed with which key, or why it is refused


class Repository:
    """A bare repository at `path`, made on first use."""

    def __init__(self, path: Path, env: dict[str, str] | None = None) -> None:
        self.path = path
        self.env = dict(env if env is not None else os.environ)
        self.env["GIT_TERMINAL_PROMPT"] = "0"
        self.env.setdefault("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")
        for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY"):
            self.env.pop(name, None)

    def _git(self, *args: str, timeout: float = LOCAL_TIMEOUT, env: dict[str, str] | None = None,
             what: str = "") -> subprocess.CompletedProcess[bytes]:
        argv = ["git", *_CONFIG, "--git-dir", str(self.path), *args]
        try:
            return subprocess.run(argv, capture_output=True, timeout=timeout, env=env or self.env, check=False)
        except subprocess.TimeoutExpired:
            raise SyncError(f"git timed out after {timeout:g}s while trying to {what or args[0]}",
                            "check that the repository answers; the agent tries again with backoff") from None
        except FileNotFoundError:
            raise SyncError("git is not installed", "install git (apt-get install git)") from None

    def _ok(self, what: str, *args: str, timeout: float = LOCAL_TIMEOUT) -> str:
        done = self._git(*args, timeout=timeout, what=what)
        if done.returncode != 0:
            text = done.stderr.decode(errors="replace").strip().splitlines()
            raise SyncError(f"git could not {what}: {text[-1] if text else f'exit {done.returncode}'}",
                            "check the source URL, the branch and that this user can read the repository")
        return done.stdout.decode(errors="replace").strip()

    def ensure(self) -> None:
        if (self.path / "HEAD").exists():
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(["git", "init", "--quiet", "--bare", str(self.path)], capture_output=True,
                              env=self.env, check=False, timeout=LOCAL_TIMEOUT)
        if done.returncode != 0:
            raise SyncError(f"git could not make {self.path}: {done.stderr.decode(errors='replace').strip()}",
                            "check that the state directory is writable (--state-dir)")

    def fetch(self, source: str, branch: str) -> str:
        """Fetch `branch` of `source`; return the commit it points to.

        The remote-tracking ref is force-updated, so a force-push is seen (and then judged)."""
        self.ensure()
        ref = f"refs/remotes/origin/{branch}"
        self._ok(f"fetch branch {branch!r} of {source}", "fetch", "--quiet", "--no-tags", "--prune",
                 "--end-of-options", source, f"+refs/heads/{branch}:{ref}", timeout=FETCH_TIMEOUT)
        return self._ok(f"read branch {branch!r}", "rev-parse", "--verify", "--end-of-options", ref + "^{commit}")

    def has(self, revision: str) -> bool:
        return self._git("cat-file", "-e", "--end-of-options", revision + "^{commit}").returncode == 0

    def descends(self, ancestor: str, revision: str) -> bool:
        """Whether `revision` is `ancestor` or has it in its history (False when `ancestor` is unknown)."""
        if not self.has(ancestor):
            return False
        return self._git("merge-base", "--is-ancestor", "--end-of-options", ancestor, revision).returncode == 0

    def verify(self, revision: str, allowed_signers: Path | None, gpg_home: Path | None) -> Signature:
        """Whether `revision` carries a good signature by an allowed key.

        SSH signatures are checked against `allowed_signers` (git's gpg.ssh.allowedSignersFile);
        OpenPGP ones against the keyring in `gpg_home` (GNUPGHOME). A kind of signature with no
        trust source given is refused."""
        env = dict(self.env)
        args = ["-c", f"gpg.ssh.allowedSignersFile={allowed_signers or '/dev/null'}"]
        if gpg_home is not None:
            env["GNUPGHOME"] = str(gpg_home)  # every key in this keyring is trusted (git's default trust level)
        else:
            env["GNUPGHOME"] = str(self.path / "no-gpg-keyring")  # trust no OpenPGP key
        argv = ["git", *_CONFIG, *args, "--git-dir", str(self.path), "verify-commit", "--raw", "--end-of-options", revision]
        try:
            done = subprocess.run(argv, capture_output=True, timeout=LOCAL_TIMEOUT, env=env, check=False)
        except subprocess.TimeoutExpired:
            return Signature(False, "git verify-commit timed out")
        text = done.stderr.decode(errors="replace").strip()
        if done.returncode == 0:
            return Signature(True, _signer(text))
        last = text.splitlines()[-1] if text else "no signature"
        return Signature(False, last)

    def subject(self, revision: str) -> str:
        return self._ok("read the commit message", "log", "-1", "--format=%s", "--end-of-options", revision)[:200]

    def checkout(self, revision: str, dest: Path) -> None:
        """Write the files of `revision` into `dest` (made afresh)."""
        done = self._git("archive", "--format=tar", "--end-of-options", revision, what="read the commit's files")
        if done.returncode != 0:
            raise SyncError(f"git could not read the files of {revision[:12]}: "
                            f"{done.stderr.decode(errors='replace').strip()}", "")
        partial = dest.with_name(dest.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        if self._ok("read the commit's tree", "rev-parse", "--verify", "--end-of-options", revision + "^{tree}") != EMPTY_TREE:
            try:
                with tarfile.open(fileobj=io.BytesIO(done.stdout), mode="r:") as archive:
                    archive.extractall(partial, filter="data")
            except tarfile.TarError as exc:  # FilterError: a link or path that leaves the checkout
                shutil.rmtree(partial, ignore_errors=True)
                raise InvalidRevision(f"revision {revision[:12]} holds a file podspec will not write: {exc}",
                                      "remove links to absolute paths or outside the repository") from None
        shutil.rmtree(dest, ignore_errors=True)
        partial.rename(dest)


def _signer(text: str) -> str:
    for line in text.splitlines():
        if line.startswith('Good "git" signature for') or line.startswith("Good signature from"):
            return line
        if "GOODSIG" in line:
            return line.split("GOODSIG", 1)[1].strip()
    return text.splitlines()[0] if text else "good signature"
