"""The agent's copy of the repository: fetched with the git command line (so the user's SSH keys,
`~/.ssh/config` and credential helpers work) into a bare repository in the agent's state directory.

Every git call is an argument list, never a shell line: nothing from the repository or the flags
is ever interpolated into a shell. Objects are checked as they arrive (fsckObjects). A checkout
holds only the agent's `--path`s; before anything is written, the commit's tree is listed and
refused as a bad commit (InvalidRevision: kept off the host, the agent goes on) when it holds a
symbolic link, a submodule or any mode but a plain or executable file, a name over the file
system's limits or with a control character, a file over MAX_FILE_BYTES, or more than MAX_FILES
files or MAX_CHECKOUT_BYTES in all. The files are then written one by one from `git archive`,
each checked again (a regular file or directory, a relative name without `..`), created anew
without following links; tarfile's "data" filter is not relied on. A name the file system
refuses is a bad commit too. The bare repository is garbage-collected after fetches that move
the branch (unreachable objects of force-pushed commits are dropped).
"""

from __future__ import annotations

import errno
import io
import os
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

from podspec.engine.proc import run_bounded
from podspec.errors import InvalidRevision, SyncError
from podspec.secrets import redact_url

FETCH_TIMEOUT = 300.0
LOCAL_TIMEOUT = 60.0
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
MAX_FILES = 10_000  # files a checkout may hold
MAX_FILE_BYTES = 16 * 2**20  # one file
MAX_CHECKOUT_BYTES = 64 * 2**20  # all of them
MAX_NAME_BYTES = 255  # one path component (NAME_MAX)
MAX_PATH_BYTES = 1024  # a whole path inside the checkout
# Never ask on a terminal; never run a transport helper that runs commands (ext::); check every
# object fetched (a malformed tree or commit is refused by git itself).
_CONFIG = ("-c", "protocol.ext.allow=never", "-c", "gc.auto=0", "-c", "core.hooksPath=/dev/null",
           "-c", "fetch.fsckObjects=true", "-c", "transfer.fsckObjects=true")
# A full collection, unreachable objects dropped at once (the branch is all the agent keeps).
_GC = ("-c", "gc.pruneExpire=now", "-c", "gc.reflogExpire=now", "-c", "gc.reflogExpireUnreachable=now")
_PLAIN_MODES = {"100644", "100755"}


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
            return run_bounded(argv, timeout, env or self.env)  # git, and the ssh it runs, killed on timeout
        except subprocess.TimeoutExpired:
            raise SyncError(f"git timed out after {timeout:g}s while trying to {what or args[0]}",
                            "check that the repository answers; the agent tries again with backoff") from None
        except FileNotFoundError:
            raise SyncError("git is not installed", "install git (apt-get install git)") from None

    def _ok(self, what: str, *args: str, timeout: float = LOCAL_TIMEOUT) -> str:
        done = self._git(*args, timeout=timeout, what=what)
        if done.returncode != 0:
            text = done.stderr.decode(errors="replace").strip().splitlines()
            raise SyncError(f"git could not {what}: {redact_url(text[-1]) if text else f'exit {done.returncode}'}",
                            "check the source URL, the branch and that this user can read the repository")
        return done.stdout.decode(errors="replace").strip()

    def ensure(self) -> None:
        if (self.path / "HEAD").exists():
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        done = run_bounded(["git", "init", "--quiet", "--bare", str(self.path)], LOCAL_TIMEOUT, self.env)
        if done.returncode != 0:
            raise SyncError(f"git could not make {self.path}: {done.stderr.decode(errors='replace').strip()}",
                            "check that the state directory is writable (--state-dir)")

    def fetch(self, source: str, branch: str) -> str:
        """Fetch `branch` of `source`; return the commit it points to.

        The remote-tracking ref is force-updated, so a force-push is seen (and then judged)."""
        self.ensure()
        ref = f"refs/remotes/origin/{branch}"
        before = self._git("rev-parse", "--verify", "--quiet", "--end-of-options", ref + "^{commit}").stdout.strip()
        self._ok(f"fetch branch {branch!r} of {redact_url(source)}", "fetch", "--quiet", "--no-tags", "--prune",
                 "--end-of-options", source, f"+refs/heads/{branch}:{ref}", timeout=FETCH_TIMEOUT)
        head = self._ok(f"read branch {branch!r}", "rev-parse", "--verify", "--end-of-options", ref + "^{commit}")
        if before.decode() != head:
            self.collect()
        return head

    def collect(self) -> None:
        """Garbage-collect the bare repository (what no ref reaches goes); a failure is not the
        agent's concern, the next collection tries again."""
        try:
            self._git(*_GC, "gc", "--quiet", "--prune=now", what="collect garbage")
        except SyncError:
            pass

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
            done = run_bounded(argv, LOCAL_TIMEOUT, env)
        except subprocess.TimeoutExpired:
            return Signature(False, "git verify-commit timed out")
        text = done.stderr.decode(errors="replace").strip()
        if done.returncode == 0:
            return Signature(True, _signer(text))
        last = text.splitlines()[-1] if text else "no signature"
        return Signature(False, last)

    def subject(self, revision: str) -> str:
        return self._ok("read the commit message", "log", "-1", "--format=%s", "--end-of-options", revision)[:200]

    def checkout(self, revision: str, dest: Path, paths: tuple[str, ...] = ()) -> None:
        """Write the files of `revision` under `paths` (all when none) into `dest` (made afresh).
        InvalidRevision when the commit holds what podspec will not write (see the module)."""
        spec = tuple(p.strip("/") or "." for p in paths)
        partial = dest.with_name(dest.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True, mode=0o700)
        try:
            if self._ok("read the commit's tree", "rev-parse", "--verify", "--end-of-options", revision + "^{tree}") != EMPTY_TREE:
                self._listed(revision, spec)
                done = self._git("archive", "--format=tar", "--end-of-options", revision, *spec,
                                 what="read the commit's files")
                if done.returncode != 0:
                    text = done.stderr.decode(errors="replace").strip()
                    if "did not match" in text:  # a --path the commit does not have
                        raise InvalidRevision(f"revision {revision[:12]} has no {' '.join(spec)}: {text}",
                                              "check --path against the repository")
                    raise SyncError(f"git could not read the files of {revision[:12]}: {text}", "")
                _extract(done.stdout, partial, revision)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        shutil.rmtree(dest, ignore_errors=True)
        partial.rename(dest)

    def _listed(self, revision: str, spec: tuple[str, ...]) -> None:
        """Refuse the commit, before anything is written, for what its tree under `spec` holds."""
        done = self._git("ls-tree", "-r", "-z", "--long", "--full-tree", "--end-of-options", revision, "--", *spec,
                         what="list the commit's files")
        if done.returncode != 0:
            raise SyncError(f"git could not list the files of {revision[:12]}: {done.stderr.decode(errors='replace').strip()}", "")
        count = total = 0
        for entry in done.stdout.split(b"\0"):
            if not entry:
                continue
            meta, _, raw = entry.partition(b"\t")
            mode, kind, _, size = meta.split()[:4]
            name = raw.decode(errors="replace")
            bad = _bad_name(raw)
            if bad:
                raise InvalidRevision(f"revision {revision[:12]} holds a file name podspec will not write ({bad}): {name[:120]!r}",
                                      "rename the file in the repository")
            if kind != b"blob" or mode.decode() not in _PLAIN_MODES:
                what = {b"120000": "a symbolic link", b"160000": "a submodule"}.get(mode, f"mode {mode.decode()}")
                raise InvalidRevision(f"revision {revision[:12]} holds {what}: {name[:120]}",
                                      "keep only plain files under --path (no links, submodules or special modes)")
            count, total = count + 1, total + int(size)
            if int(size) > MAX_FILE_BYTES:
                raise InvalidRevision(f"revision {revision[:12]} holds {name[:120]} of {int(size) / 2**20:.1f} MiB, over the "
                                      f"{MAX_FILE_BYTES // 2**20} MiB a checked-out file may have", "keep large files out of --path")
            if count > MAX_FILES or total > MAX_CHECKOUT_BYTES:
                raise InvalidRevision(f"revision {revision[:12]} holds more than podspec checks out ({MAX_FILES} files, "
                                      f"{MAX_CHECKOUT_BYTES // 2**20} MiB)", "narrow --path to the manifests")


def _bad_name(raw: bytes) -> str:
    """Why a path from a commit's tree is no name podspec writes ("" when it is one)."""
    if len(raw) > MAX_PATH_BYTES:
        return f"over {MAX_PATH_BYTES} bytes"
    parts = raw.split(b"/")
    if raw.startswith(b"/") or any(p in (b"", b".", b"..") for p in parts):
        return "not a plain relative path"
    if any(len(p) > MAX_NAME_BYTES for p in parts):
        return f"a name over {MAX_NAME_BYTES} bytes"
    if any(b < 0x20 or b == 0x7F for b in raw):
        return "a control character"
    return ""


def _extract(data: bytes, dest: Path, revision: str) -> None:
    """Write the files of a `git archive` tar under `dest`: directories and regular files only,
    every name checked again, every file created anew (never through a link)."""
    root = os.open(dest, os.O_RDONLY | os.O_DIRECTORY)
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:
            for member in archive:
                if member.type == tarfile.XGLTYPE or member.name == "pax_global_header":
                    continue  # git archive's commit id
                bad = _bad_name(member.name.rstrip("/").encode())
                if bad or not (member.isfile() or member.isdir()):
                    raise InvalidRevision(f"revision {revision[:12]} holds {member.name[:120]!r}, which podspec will not write "
                                          f"({bad or 'not a plain file'})", "keep only plain files under --path")
                _write(root, member, archive)
    except tarfile.TarError as exc:
        raise InvalidRevision(f"revision {revision[:12]}: its files could not be read: {exc}", "") from None
    except OSError as exc:
        if exc.errno in (errno.ENAMETOOLONG, errno.EILSEQ, errno.EINVAL, errno.EEXIST, errno.ELOOP, errno.ENOTDIR):
            raise InvalidRevision(f"revision {revision[:12]} holds a file this file system refuses: "
                                  f"{exc.strerror} ({exc.filename or ''})", "rename the file in the repository") from None
        raise SyncError(f"could not write the files of {revision[:12]}: {exc.strerror}", "check the state directory's disk") from None
    finally:
        os.close(root)


def _write(root: int, member: tarfile.TarInfo, archive: tarfile.TarFile) -> None:
    parts = member.name.rstrip("/").split("/")
    parent = os.dup(root)
    try:
        for part in parts[:-1]:  # each directory opened without following a link
            try:
                os.mkdir(part, 0o700, dir_fd=parent)
            except FileExistsError:
                pass
            child = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=parent)
            os.close(parent)
            parent = child
        if member.isdir():
            try:
                os.mkdir(parts[-1], 0o700, dir_fd=parent)
            except FileExistsError:
                pass
            return
        source = archive.extractfile(member)
        if source is None:
            raise InvalidRevision(f"{member.name[:120]!r} has no content to write", "")
        fd = os.open(parts[-1], os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=parent)
        with os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(source, out)
    finally:
        os.close(parent)


def _signer(text: str) -> str:
    for line in text.splitlines():
        if line.startswith('Good "git" signature for') or line.startswith("Good signature from"):
            return line
        if "GOODSIG" in line:
            return line.split("GOODSIG", 1)[1].strip()
    return text.splitlines()[0] if text else "good signature"
