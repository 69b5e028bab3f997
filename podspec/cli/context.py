"""What the commands share beyond flags: the environment, the connection, the terminal.

The CLI reads the environment for every setting (os.environ, the working directory, whether stdout
is a terminal) and hands what it read to the workflows as plain values. Below it, os.environ is read
only where a process is started or a default place is found when the caller passed no environment:
the ssh tunnel and podman.connect, git (run/revision.py, run/sync/git.py), the lock directory
(run/lock.py).
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from podspec.engine.protocol import Engine
    from podspec.policy import Policy
    from podspec.reconcile.saved_plan import SavedPlan
    from podspec.run.manifests import Manifests
    from podspec.run.project import ProjectName
    from podspec.run.projectfile import ProjectFile
    from podspec.secrets import RegistryCredential


@functools.cache
def project_file() -> ProjectFile | None:
    """podspec.toml in the working directory or above it (up to the git repository's top), if any."""
    from podspec.run.project import find

    found = find(Path.cwd())
    if found is None:
        return None
    from podspec.run.projectfile import load

    return load(found)


def environment() -> Mapping[str, str]:
    """The environment, over the defaults podspec.toml gives (PODSPEC_PROJECT, PODSPEC_POLICY, ...)."""
    found = project_file()
    return {**found.as_env(), **os.environ} if found is not None else os.environ


def project_given(flag: str | None) -> str | None:
    """A project named on purpose (--project, else $PODSPEC_PROJECT or podspec.toml's), checked by the
    project-name rule, for the commands that take no manifests (status, history, rollback, stop, start)."""
    from podspec.run.project import given

    return given(flag, environment())


def project_flag(flag: str | None) -> str | None:
    """--project alone (stop and start: no project without it), checked by the project-name rule."""
    from podspec.run.project import given

    return given(flag, {})


def project_name(flag: str | None, paths: Sequence[str]) -> ProjectName:
    """The project: given on purpose, else the default unique to the manifests' source (run/project.py)."""
    from podspec.run.project import resolve

    return resolve(flag, environment(), list(paths), Path.cwd(), origin(paths))


def origin(paths: Sequence[str]) -> str:
    """The source of the manifests at `paths`, recorded on what podspec creates (run/origin.py);
    $PODSPEC_ORIGIN when set (a pipeline that copies the files elsewhere names its source)."""
    given = os.environ.get("PODSPEC_ORIGIN", "").strip()
    if given:
        return given
    import socket

    from podspec.run.origin import of_paths

    return of_paths(list(paths), Path.cwd(), socket.gethostname())


def revision(flag: str | None, paths: Sequence[str]) -> str:
    """--revision, else the git commit of the repository holding the first manifest ("-dirty" when
    the manifests differ from it), else ""."""
    if flag is not None:
        return flag
    from podspec.run.revision import git_revision

    return git_revision(list(paths), Path.cwd())


def plan_key() -> bytes | None:
    """$PODSPEC_PLAN_KEY: the key saved plans are signed with and checked against (HMAC-SHA256)."""
    key = os.environ.get("PODSPEC_PLAN_KEY", "")
    return key.encode() if key else None


def saved_plan(path: str | None, paths: Sequence[str], project: str | None, prune: bool, prune_volumes: bool,
               adopt: bool, force_conflicts: bool = False) -> SavedPlan | None:
    """apply --plan FILE: the plan read (its signature checked when PODSPEC_PLAN_KEY is set), the
    command line checked against it; None without --plan."""
    if path is None:
        return None
    from podspec.run.saved_plan import check_flags, read_plan

    saved = read_plan(path, plan_key())
    explicit = project or os.environ.get("PODSPEC_PROJECT")
    named = project_name(project, paths) if paths and not explicit else None
    resolved = (named.name, named.former) if named is not None else None
    check_flags(saved, path, paths, explicit, resolved, prune, prune_volumes, adopt, force_conflicts)
    return saved


def connector(url: str | None, connection: str | None, identity: str | None = None) -> Callable[[], Engine]:
    """Opens the engine when a workflow asks for it: diff and apply call it on a thread that reads the
    host while the manifests load (run/reading.py). An ssh:// URL's tunnel is started at once, so that
    the SSH handshake overlaps the rest of the start-up; it talks to no Podman before connect()
    (engine/ssh.py)."""
    if url and url.startswith("ssh://"):
        from podspec.engine.ssh import prestart

        prestart(url, identity or os.environ.get("CONTAINER_SSHKEY") or None, os.environ)
    # Imported here, before the workflow starts reading the host on a thread (run/reading.py): the
    # thread then sends its first request at once instead of importing alongside the manifests' loading.
    from podspec.engine.podman import connect as open_podman
    from podspec.run import paths

    def connect() -> Engine:
        # A private service started for the command lives in this user's runtime directory.
        return open_podman(url, connection, os.environ, identity, runtime=paths.runtime_dir(os.environ, os.geteuid()))

    return connect


def lock_lease() -> float | None:
    """The host-side lock's lease: $PODSPEC_LOCK_LEASE seconds, else None: the default
    (run/hostlock.py, imported only by a command that takes the lock)."""
    from podspec.errors import UsageError

    raw = os.environ.get("PODSPEC_LOCK_LEASE", "")
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = -1
    if value <= 0:
        raise UsageError(f"PODSPEC_LOCK_LEASE={raw!r} is not a number of seconds", "set it to e.g. 900, or unset it")
    return value


def probe_image() -> str:
    """The image of the probe helper (httpGet and tcpSocket probes): $PODSPEC_PROBE_IMAGE, else ""
    (busybox; engine/probes.py)."""
    return os.environ.get("PODSPEC_PROBE_IMAGE", "").strip()


def user_dirs() -> tuple[Path, Path]:
    """This user's lock and state directories: system ones for root, the user's own otherwise."""
    from podspec.run import paths

    return paths.lock_dir(os.environ, os.geteuid()), paths.state_dir(os.environ, os.geteuid())


def policy(profile: str | None, host_paths: list[str] | None, host_ports: list[str] | None,
           capabilities: list[str] | None, require_encrypted_secrets: bool = False) -> Policy:
    from podspec.run.manifests import policy_from

    return policy_from(profile, host_paths, host_ports, capabilities, environment(), require_encrypted_secrets)


def manifests(paths: Sequence[str], checked: Policy | None, strict: bool = False, age_key_file: str | None = None) -> Manifests:
    """The manifests a command reads; SOPS-encrypted files among them are decrypted with the keys of
    this environment (and `--age-key-file`)."""
    from podspec.run.manifests import Manifests

    return Manifests(tuple(paths), checked, sys.stdin, strict, decrypt=decryptor(age_key_file))


def decryptor(age_key_file: str | None) -> Callable[[str, bytes], bytes]:
    """sops with this environment; `--age-key-file` wins over $SOPS_AGE_KEY_FILE (a relative path is
    taken from the working directory). run/sops.py is imported only when a file is encrypted."""
    env = dict(os.environ)
    if age_key_file:
        env["SOPS_AGE_KEY_FILE"] = str(Path(age_key_file).absolute())

    def decrypt(file: str, raw: bytes) -> bytes:
        from podspec.run.sops import Sops

        return Sops(env)(file, raw)

    return decrypt


def colour_wanted() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def terminal() -> bool:
    return sys.stdout.isatty()


def say_err(text: str) -> None:
    typer.echo(text, err=True)


def write_file(path: str, text: str) -> None:
    from podspec.errors import UsageError

    try:
        Path(path).write_text(text)
    except OSError as error:
        raise UsageError(f"cannot write {path}: {error.strerror}", "check the path and its permissions") from None


def registry_credentials(authfile: str | None) -> tuple[RegistryCredential, ...]:
    """The credentials of an auth file for pulls: `--authfile`, else $REGISTRY_AUTH_FILE (as `podman
    kube play` reads them), else none (the Podman service then uses its own auth file). A file that
    cannot be read is an error naming it, never showing what it holds."""
    from podspec.errors import UsageError
    from podspec.secrets import credentials_from_auth_json

    path, how = (authfile, "--authfile") if authfile else (os.environ.get("REGISTRY_AUTH_FILE"), "REGISTRY_AUTH_FILE")
    if not path:
        return ()
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise UsageError(f"cannot read the auth file {path} (from {how}): {exc.strerror or exc}",
                         "give an auth file that exists (podman login --authfile FILE REGISTRY writes one)") from None
    try:
        found = credentials_from_auth_json(text, f"the auth file {path}")
    except ValueError as exc:
        raise UsageError(f"the auth file {path} (from {how}) is not in Podman's auth.json format: {exc}",
                         'it holds {"auths": {"REGISTRY": {"auth": "base64 of user:password"}}}') from None
    return tuple(found[k] for k in sorted(found))
