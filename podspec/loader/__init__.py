"""The loader: manifest files -> the frozen desired state, or every problem found in one pass.

    load(["manifests/"])                      -> DesiredState
    load(["-"], stdin=sys.stdin)              -> DesiredState
    load(["broken.yaml"])                     raises ManifestError(problems)

Stages, one module each: sources (paths -> bytes, bounded), yamlpos (bytes -> documents with
positions; safe and bounded), schema (JSON Schema, problems at the offending node), build
(documents -> frozen model, defaults normalized), semantics (checks across documents and files).
The loader never imports podman or typer and never raises anything but ManifestError.

One run reports everything that can be found: every document that can be read is checked against
the schema (YAML problems such as a duplicate key do not stop that), and every document that passes
the schema is built and takes part in the semantic checks, within itself and across documents and
files, even when building it found problems (a bad IP address, a quantity out of range). Only a
document that fails the schema is left out of the semantic checks: its model cannot be trusted.

Fields that only mean something to a cluster (scheduling, namespaces, service accounts, cluster
storage, ...) are accepted and come back as `DesiredState.warnings`, one Problem each ("ignored on a
single Podman host"), and so are values Podman takes and a Kubernetes API server refuses (portable.py:
`protocol: tcp`, a pod named with capitals); `load(..., strict=True)` reports them as errors instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Sequence, TextIO

from podspec.errors import KeyUnavailable, ManifestError, Origin, Problem
from podspec.model import IMAGE_MOUNTS_ANNOTATION, ConfigMap, DesiredState, Pod, Secret, VolumeClaim

if TYPE_CHECKING:
    from podspec.loader.sops import Decrypt, Sealed
    from podspec.model import AbsentPod, EncryptedDocument, Service

__all__ = ["load", "ManifestError"]

MAX_PODS = 5000  # pods of all the manifests at once, Deployments' copies counted: far beyond what one host runs


def _while_room(found: Sequence[Any], pods: list[Pod]) -> Any:
    """The sources, until the pods built from them are more than MAX_PODS."""
    for source in found:
        if len(pods) > MAX_PODS:
            return
        yield source


def _until_full(documents: Sequence[Any], pods: list[Pod], problems: list[Problem], file: str) -> Any:
    """The documents, until the pods built from them (the caller builds each before asking for the
    next) are more than MAX_PODS: then one problem, at the document that went over, and no further
    reading (copies of many Deployments could exhaust the memory)."""
    for document in documents:
        yield document
        if len(pods) > MAX_PODS:
            problems.append(Problem(
                Origin(file, *document.start), "",
                f"the manifests make more than {MAX_PODS} pods (a Deployment makes one per replica), more than "
                "one Podman host runs; nothing after this document was read",
                "split them over hosts (targets in podspec.toml), or run them on Kubernetes",
            ))
            return


def _kind_of(data: object) -> str:
    if isinstance(data, list):
        return "a list"
    if isinstance(data, str):
        return "a string"
    if isinstance(data, bool):
        return "a boolean"
    if isinstance(data, (int, float)):
        return "a number"
    return type(data).__name__


def _beside(found: list[Problem], reading: tuple[Problem, ...]) -> list[Problem]:
    """Schema problems not already said by a YAML problem at the same node or above it.

    A value the YAML reader could not take (an undefined alias, an invalid number, an unsupported
    tag) is read as null or kept as text; the schema complaining about it would say it twice.
    """
    if not reading:
        return found
    said = {p.path for p in reading if p.path}

    def repeats(path: str) -> bool:
        return any(path == s or path.startswith((s + ".", s + "[")) for s in said)

    return [p for p in found if not repeats(p.path)]


def _sops_metadata(data: object) -> bool:
    """Whether a document may be SOPS-encrypted (loader/sops.py, imported only then, says for sure)."""
    return isinstance(data, dict) and "sops" in data


class _Plain:
    """What loader/sops.py's Sealed does for a file without SOPS metadata: nothing."""

    wanted = False

    @staticmethod
    def keep(document: object, problems: list[Problem]) -> list[Problem]:
        return problems

    @staticmethod
    def mark(made: object, document: object) -> object:
        return made


PLAIN = _Plain()


def _on_host(documents: list[Any], problems: list[Problem], warnings: list[Problem]) -> list[Any]:
    """The documents that mean something on one host: a cluster-only object (a ServiceAccount, a
    Role, ...; kubefields.CLUSTER_OBJECTS) is left out with one warning (its YAML problems still count)."""
    from podspec.loader.kubefields import cluster_object

    kept = []
    for document in documents:
        if (ignored := cluster_object(document)) is None:
            kept.append(document)
        else:
            problems += document.problems
            warnings.append(ignored)
    return kept


def _sealed(name: str, documents: list) -> Sealed:
    from podspec.loader.sops import Sealed

    return Sealed(name, documents)


def _across_pods(pods: list[Pod], services: list[Service], problems: list[Problem], warnings: list[Problem]) -> list[Pod]:
    """The checks and additions that span pods: volumes-from annotations, Services (their warnings,
    a proxy container in each pod a Service reaches on another port, loader/services.py; the
    nodePorts chosen and a balancer pod per NodePort or LoadBalancer Service, loader/balancers.py).
    `services` is updated in place (the chosen nodePorts)."""
    if any(key.startswith("io.podman.annotations.volumes-from/") for pod in pods for key, _ in pod.annotations):
        from podspec.loader import volumes_from

        problems += volumes_from.check(pods)
    if any(key.startswith(IMAGE_MOUNTS_ANNOTATION) for pod in pods for key, _ in pod.annotations):
        from podspec.loader import image_mounts

        problems += image_mounts.check(pods)
    if not services:
        return pods
    from podspec.loader.services import link_services, with_proxies

    service_problems, service_warnings = link_services(services, pods)
    problems += service_problems
    warnings += service_warnings
    pods, proxy_problems = with_proxies(services, pods)
    problems += proxy_problems
    if any(s.published for s in services):
        from podspec.loader.balancers import balancer_pods, with_node_ports

        services[:], port_problems = with_node_ports(services)
        balancers, balancer_problems = balancer_pods(services, pods)
        problems += port_problems + balancer_problems
        pods = pods + balancers
    return pods


def load(
    paths: Sequence[str],
    stdin: TextIO | None = None,
    extra_checks: Callable[[DesiredState], Sequence[Problem]] | None = None,
    strict: bool = False,
    defined_elsewhere: bool = False,
    decrypt: Decrypt | None = None,
) -> DesiredState:
    """Read, check and build every manifest under `paths` ("-" reads `stdin`).

    `extra_checks` runs on the pods and claims that could be built, in the same pass, so that its
    problems (the security policy's) come with the manifests' own in one report.

    Returns the desired state (pods and claims sorted by name, files in the order read, warnings
    in the order found), or raises ManifestError carrying every problem found. With `strict`, the
    warnings are problems too.

    A SOPS-encrypted file is decrypted by `decrypt` (in memory); without it (validate) only its
    documents' shape is checked (loader/sops.py).
    """
    from podspec.loader import kubefields, portable, schema, semantics, sources
    from podspec.loader.build import build
    from podspec.loader.link import link
    from podspec.loader.yamlpos import decode, parse

    found, problems = sources.read(paths, stdin)
    pods: list[Pod] = []
    claims: list[VolumeClaim] = []
    config_maps: list[ConfigMap] = []
    secrets: list[Secret] = []
    absent: list[AbsentPod] = []
    services: list[Service] = []
    # by class name: AbsentPod and Service are defined only for manifests that have them (model.EXTRA)
    built: dict[str, list] = {"Pod": pods, "VolumeClaim": claims, "ConfigMap": config_maps, "Secret": secrets,
                              "AbsentPod": absent, "Service": services}
    warnings: list[Problem] = []
    encrypted: list[EncryptedDocument] = []
    error: type[ManifestError] = ManifestError
    read: list[Any] = []  # every document's data: no message may quote a value of theirs that may be secret
    for source in _while_room(found, pods):
        text, problem = decode(source.raw, source.name)
        if problem is not None or text is None:
            problems += [problem] if problem is not None else []
            continue
        documents, parse_problems = parse(text, source.name)
        problems += parse_problems
        documents = [d for d in documents if d.data is not None]
        sealed: Sealed | _Plain = PLAIN
        if not parse_problems and any(_sops_metadata(d.data) for d in documents) and (opened := _sealed(source.name, documents)).wanted:
            sealed = opened
            documents = opened.decrypt(source.raw, decrypt, parse) if decrypt is not None else opened.shapes()
            problems += opened.problems
            warnings += opened.warnings
            error = KeyUnavailable if opened.host_side else error
            encrypted += opened.described
            if not documents:
                continue
        if not documents and not parse_problems:
            problems.append(Problem(
                Origin(source.name), "", "empty file: no manifest documents",
                "add a Pod, Deployment, Job, Service, PersistentVolumeClaim, ConfigMap or Secret, or remove the file",
            ))
        read += [d.data for d in documents]
        documents = _on_host(documents, problems, warnings)
        for document in _until_full(documents, pods, problems, source.name):
            if not isinstance(document.data, dict):
                if document.problems:
                    problems += document.problems
                else:
                    problems.append(Problem(
                        Origin(source.name, *document.start), "",
                        f"a manifest document must be a mapping (apiVersion, kind, metadata, spec), "
                        f"got {_kind_of(document.data)}",
                    ))
                continue
            # Every stage that can run does: a document with YAML problems (a duplicate key, an
            # unsupported tag) is still checked against the schema, and one that passes the schema
            # is built and takes part in the semantic checks even if building found problems.
            problems += document.problems
            schema_problems = sealed.keep(document, schema.check(document))
            problems += _beside(schema_problems, document.problems)
            if schema_problems:
                continue
            warnings += kubefields.warnings(document)
            warnings += portable.warnings(document)
            before = len(problems)
            made = build(document, problems, warnings)
            problems[before:] = sealed.keep(document, problems[before:])
            for one in made if isinstance(made, list) else () if made is None else (made,):
                built[type(one).__name__].append(sealed.mark(one, document))  # a Deployment with replicas: one pod per copy
    pods, link_problems, link_warnings = link(pods, config_maps, secrets, defined_elsewhere)
    problems += link_problems
    warnings += link_warnings
    problems += semantics.check(pods, claims, config_maps, secrets, absent)
    warnings += semantics.secret_references(pods)
    pods = _across_pods(pods, services, problems, warnings)
    if warnings:
        warnings = _scrubbed(warnings, read)
    state = DesiredState(
        pods=tuple(sorted(pods, key=lambda p: p.name)),
        claims=tuple(sorted(claims, key=lambda c: c.name)),
        files=tuple(s.name for s in found),
        config_maps=tuple(sorted(config_maps, key=lambda c: c.name)),
        secrets=tuple(sorted(secrets, key=lambda c: c.name)),
        absent_pods=tuple(sorted(absent, key=lambda a: a.name)),
        services=tuple(sorted(services, key=lambda s: s.name)),
        warnings=tuple(warnings),
        encrypted=tuple(encrypted),
    )
    if extra_checks is not None:
        problems += extra_checks(state)  # e.g. the security policy, on every pod that could be built
    if strict:
        problems += [
            Problem(w.origin, w.path, w.message.replace(" is ignored on ", " would be ignored on "),
                    "remove it, or validate without --strict")
            if " is ignored on " in w.message else w
            for w in warnings
        ]
    if problems:
        raise error(_scrubbed(problems, read))
    return state


def _scrubbed(problems: list[Problem], documents: list[Any]) -> list[Problem]:
    """The problems with every value that may be secret (a Secret's data, an env value, ...; see
    secrets.secret_values) taken out of their messages and hints, whichever check wrote them: the
    checks that quote a value need not each know which values are secret."""
    from dataclasses import replace

    from podspec.secrets import scrub, secret_values

    values: set[str] = set()
    for data in documents:
        if isinstance(data, dict):
            values |= secret_values(data.get("kind"), data)
    if not values:
        return problems
    return [replace(p, message=scrub(p.message, values), hint=scrub(p.hint, values)) for p in problems]
