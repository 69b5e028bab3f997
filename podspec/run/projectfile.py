"""The optional project file, `podspec.toml`: the project's name, its security policy and its named
targets (hosts), found by walking up from the working directory as git finds `.git`.

    project = "shop"                       # else $PODSPEC_PROJECT / --project, else the default (run/project.py)

    [policy]                               # the defaults of --policy and --allow-* (flags and
    profile = "baseline"                   # PODSPEC_* variables still win over these)
    allow_host_paths = ["/srv/shop"]
    allow_host_ports = [8080]
    allow_capabilities = ["NET_ADMIN"]
    allow_annotations = ["run.oci.keep_original_groups"]   # runtime annotations let through (prefix: "run.oci.*")
    require_encrypted_secrets = true       # every Secret SOPS-encrypted (docs/secrets-in-git.md)

    [targets.edge]                         # `--target edge`, or `--target all`
    url = "ssh://deploy@edge.example.com/run/podman/podman.sock"
    identity = "~/.ssh/deploy_ed25519"     # optional
    manifests = ["manifests/"]             # relative to this file

    [targets.lab]
    connection = "lab"                     # a `podman system connection` name, instead of url
    manifests = ["manifests/webserver.yaml"]

The search stops at the top of the git repository (the directory holding `.git`) or at the root.
Unknown keys are errors (a typo must not silently drop a target's policy), reported with the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from podspec.errors import PodspecError, UsageError
from podspec.run.project import FILE_NAME, find  # noqa: F401  (find: where every command looks, kept light)

ALL = "all"


@dataclass(frozen=True)
class Target:
    name: str
    manifests: tuple[str, ...]  # absolute, or as given when absolute already
    url: str | None = None
    connection: str | None = None
    identity: str | None = None

    @property
    def where(self) -> str:
        return self.url or f"connection {self.connection}"


@dataclass(frozen=True)
class ProjectFile:
    path: Path
    project: str | None = None
    policy: str | None = None
    allow_host_paths: tuple[str, ...] = ()
    allow_host_ports: tuple[str, ...] = ()
    allow_capabilities: tuple[str, ...] = ()
    allow_annotations: tuple[str, ...] = ()
    targets: tuple[Target, ...] = ()
    require_encrypted_secrets: bool = False

    def as_env(self) -> dict[str, str]:
        """The file's settings as the PODSPEC_* variables they default (the real environment wins)."""
        env = {}
        if self.project:
            env["PODSPEC_PROJECT"] = self.project
        if self.policy:
            env["PODSPEC_POLICY"] = self.policy
        for key, values in (("PODSPEC_ALLOW_HOST_PATHS", self.allow_host_paths),
                            ("PODSPEC_ALLOW_HOST_PORTS", self.allow_host_ports),
                            ("PODSPEC_ALLOW_CAPABILITIES", self.allow_capabilities),
                            ("PODSPEC_ALLOW_ANNOTATIONS", self.allow_annotations)):
            if values:
                env[key] = ",".join(values)
        if self.require_encrypted_secrets:
            env["PODSPEC_REQUIRE_ENCRYPTED_SECRETS"] = "1"
        return env

    def select(self, names: list[str] | tuple[str, ...]) -> tuple[Target, ...]:
        """The targets named (in the file's order), `all` for every one."""
        known = {t.name: t for t in self.targets}
        if not known:
            raise UsageError(f"{self.path} names no targets", "add a [targets.NAME] table with url (or connection) and manifests")
        if ALL in names:
            return self.targets
        unknown = sorted(set(names) - set(known))
        if unknown:
            raise UsageError(f"no target named {', '.join(repr(n) for n in unknown)} in {self.path}",
                             f"known targets: {', '.join(known)} (or `all`)")
        return tuple(t for t in self.targets if t.name in names)


_TOP = {"project", "policy", "targets"}
_POLICY = {"profile", "allow_host_paths", "allow_host_ports", "allow_capabilities", "allow_annotations",
           "require_encrypted_secrets"}
_TARGET = {"url", "connection", "identity", "manifests"}


def load(path: Path) -> ProjectFile:
    import tomllib  # only when there is a file: most commands run without one

    try:
        data = tomllib.loads(path.read_text())
    except OSError as error:
        raise PodspecError(f"cannot read {path}: {error.strerror}", "check the file and its permissions") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise PodspecError(f"{path}: not valid TOML: {error}", "fix the syntax (see https://toml.io)") from None
    _only(data, _TOP, str(path))
    policy = _table(data, "policy", str(path))
    _only(policy, _POLICY, f"{path} [policy]")
    targets = _table(data, "targets", str(path))
    return ProjectFile(
        path=path,
        project=_string(data, "project", str(path)),
        policy=_string(policy, "profile", f"{path} [policy]"),
        allow_host_paths=_strings(policy, "allow_host_paths", f"{path} [policy]"),
        allow_host_ports=_strings(policy, "allow_host_ports", f"{path} [policy]"),
        allow_capabilities=_strings(policy, "allow_capabilities", f"{path} [policy]"),
        allow_annotations=_strings(policy, "allow_annotations", f"{path} [policy]"),
        targets=tuple(_target(path, name, raw) for name, raw in targets.items()),
        require_encrypted_secrets=_bool(policy, "require_encrypted_secrets", f"{path} [policy]"),
    )


def _target(path: Path, name: str, raw: Any) -> Target:
    where = f"{path} [targets.{name}]"
    if not isinstance(raw, dict):
        raise PodspecError(f"{where}: must be a table", "write [targets.NAME] with url (or connection) and manifests")
    if name == ALL:
        raise PodspecError(f"{where}: `all` is reserved (--target all runs every target)", "rename the target")
    _only(raw, _TARGET, where)
    url, connection = _string(raw, "url", where), _string(raw, "connection", where)
    if bool(url) == bool(connection):
        raise PodspecError(f"{where}: give exactly one of url and connection",
                           "url = \"ssh://user@host/run/podman/podman.sock\", or connection = \"NAME\"")
    manifests = _strings(raw, "manifests", where)
    if not manifests:
        raise PodspecError(f"{where}: no manifests", "manifests = [\"manifests/\"] (paths relative to the file)")
    base = path.parent
    return Target(name, tuple(str(base / m) for m in manifests), url, connection, _string(raw, "identity", where))


def _only(table: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise PodspecError(f"{where}: unknown key{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}",
                           f"allowed here: {', '.join(sorted(allowed))}")


def _table(data: Mapping[str, Any], key: str, where: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise PodspecError(f"{where}: {key} must be a table", f"write [{key}]")
    return value


def _string(data: Mapping[str, Any], key: str, where: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise PodspecError(f"{where}: {key} must be a string", f'write {key} = "..."')
    return value or None


def _strings(data: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in value):
        raise PodspecError(f"{where}: {key} must be a list", f'write {key} = ["..."]')
    return tuple(str(v) for v in value)


def _bool(data: Mapping[str, Any], key: str, where: str) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise PodspecError(f"{where}: {key} must be true or false", f"write {key} = true")
    return value
