"""Projects named by an older podspec (pure): the default project name used to be the bare
directory (`manifests`; the agent's: the repository's name), shared by every source that keeps
its files in a folder of that name. It now carries digits of the source (run/project.py). A host
that already holds these manifests' objects under the former name keeps that name for them:
nothing is renamed, recreated or duplicated (Podman cannot change a pod's or a volume's labels,
and volumes are data), and the command says so.

The former name is this source's on the host when no object carries the new name yet, and a pod
or volume of that project records this source (io.podspec.origin), or records none (made before
sources were recorded) while it is one these manifests name and no other source's object is in
that project: an unrelated repository that also keeps its files in `manifests/` does not join a
project an older podspec left there.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from podspec import labels as L
from podspec.model import DesiredState
from podspec.observed import ObservedState


def keeps_former(observed: ObservedState, name: str, former: str, origin: str, desired: DesiredState) -> bool:
    """Whether this host holds the manifests of `origin` (`desired`) under the `former` project name."""
    if not former or former == name:
        return False
    named = {p.name for p in desired.pods} | {a.name for a in desired.absent_pods} | set(desired.volume_names())
    mine = unrecorded = others = False
    for object_name, labels in _labelled(observed):
        project = L.project_of(labels)
        if project == name:
            return False  # already under the new name
        if project != former:
            continue
        theirs = L.origin_of(labels)
        if theirs == origin:
            mine = True
        elif not theirs:
            unrecorded = unrecorded or object_name in named
        else:
            others = True
    return mine or (unrecorded and not others)


def _labelled(observed: ObservedState) -> Iterable[tuple[str, Mapping[str, str] | None]]:
    for pod in observed.pods:
        yield pod.name, pod.labels
    for volume in observed.volumes:
        if not L.is_record(volume.labels):  # a stop mark or restart count says nothing of a source
            yield volume.name, volume.labels


def notice(name: str, former: str) -> str:
    return (f"project {former!r}: this host holds these manifests' pods and volumes under {former!r}, the name an "
            f"older podspec gave them, and keeps it (nothing is renamed or recreated; the default for new hosts is "
            f"{name!r}; pass --project to choose, see docs/hardening.md)")
