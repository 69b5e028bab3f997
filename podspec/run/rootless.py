"""Before any change: what the Podman the manifests go to cannot do because it runs rootless.

The engine reads the facts once (rootless or root, the unprivileged port start, which host paths its
user can read); the pure core decides (reconcile/rootless.py); this raises RootlessLimitError with
every problem, file:line:col and what to do instead.

GET /info costs Podman a few hundred milliseconds, so it is asked only when it can matter: a local
service's kind and the port start are known without it (the socket's peer credentials, the
sysctl), root Podman has no such limits, and manifests that could meet none (host ports at or
above the port start, no hostNetwork, hostPath, resources or capability in question) need no more.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from podspec.engine.protocol import Engine
from podspec.errors import PolicyError, RootlessLimitError
from podspec.model import DesiredState
from podspec.observed import HostFacts

if TYPE_CHECKING:
    from podspec.policy import Policy
from podspec.reconcile import rootless


def check_links(engine: Engine, desired: DesiredState, policy: Policy | None) -> None:
    """hostPath mounts (subPath included) checked where Podman will follow them: each path resolved
    on the host must stay in the policy's allowed directories (one engine call, none when the
    manifests mount no host path or the policy is privileged)."""
    if policy is None:
        return
    from podspec.policy import host_path_candidates, link_problems

    mounts, roots = host_path_candidates(desired, policy)
    if not mounts:
        return
    problems = link_problems(desired, policy, engine.resolved_host_paths(mounts + roots))
    if problems:
        raise PolicyError(problems)


def check(engine: Engine, desired: DesiredState) -> None:
    quick = engine.local_facts()
    if quick is not None and not quick.rootless:
        return
    if not rootless.needs_check(desired, (quick or HostFacts(rootless=True)).port_start):
        return
    facts = engine.host()
    if not facts.rootless:
        return
    paths = rootless.host_paths(desired)
    readable = engine.readable_host_paths(paths) if paths else {}
    problems = rootless.limits(desired, facts, readable)
    if problems:
        raise RootlessLimitError(problems, f"{facts.kind} Podman {facts.version} at {engine.url}")
