"""Volume names podspec keeps for its own objects on the host (a project's apply lock, its names
record, the apply history): a manifest may not make or mount a volume of such a name, whichever way
it spells it (a claim, a claimName, a hostPath volume name, an emptyDir's `<pod>_<volume>`, cluster
storage's `<pod>-<volume>`). A claim named `podspec_lock_shop` used to make another project's apply
wait for a lock no one holds, for ever."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from podspec.errors import ManifestError
from podspec.loader import load


def problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "m.yaml"
    path.write_text(textwrap.dedent(text))
    try:
        load([str(path)])
    except ManifestError as error:
        return [str(p).replace(str(path), "F") for p in error.problems]
    return []


CLAIM = """\
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: NAME}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
"""

POD = """\
apiVersion: v1
kind: Pod
metadata: {name: POD}
spec:
  volumes: [{name: VOL, SOURCE}]
  containers:
    - name: a
      image: alpine
      volumeMounts: [{name: VOL, mountPath: /v}]
"""


@pytest.mark.parametrize("name", ["podspec_lock_shop", "podspec-names.shop", "podspec-history-0a1b2c3d-000001-x",
                                  "podspec-history.shop.1"])
def test_a_claim_may_not_take_a_name_podspec_keeps_for_itself(tmp_path, name):
    [found] = problems(tmp_path, CLAIM.replace("NAME", name))
    assert found.startswith("F:3:12: metadata.name:") and name in found and "podspec keeps" in found


@pytest.mark.parametrize("pod, volume, source, shown", [
    ("web", "v", "persistentVolumeClaim: {claimName: podspec_lock_shop}", "podspec_lock_shop"),
    ("web", "v", "hostPath: {path: podspec-names.shop}", "podspec-names.shop"),
    ("podspec", "lock_shop", "emptyDir: {}", "podspec_lock_shop"),
    ("podspec_lock_shop", "x", "nfs: {server: nfs.example.com, path: /x}", "podspec_lock_shop-x"),
])
def test_a_pod_may_not_mount_a_volume_podspec_keeps_for_itself(tmp_path, pod, volume, source, shown):
    text = POD.replace("POD", pod).replace("VOL", volume).replace("SOURCE", source)
    found = [p for p in problems(tmp_path, text) if "podspec keeps" in p]
    assert len(found) == 1 and f"volume {shown}" in found[0] and found[0].startswith("F:5:")


def test_an_ordinary_name_with_podspec_in_it_is_fine(tmp_path):
    assert problems(tmp_path, CLAIM.replace("NAME", "podspec-data")) == []
