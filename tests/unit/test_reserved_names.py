"""Volume names podspec keeps for its own objects on the host (a project's apply lock, its names
record, the apply history): a manifest may not make or mount a volume of such a name, whichever way
it spells it (a claim, a claimName, a hostPath volume name, an emptyDir's `<pod>_<volume>`, cluster
storage's `<pod>-<volume>`). A claim named `podspec_lock_shop` used to make another project's apply
wait for a lock no one holds, for ever."""

from __future__ import annotations

import pytest

from tests.unit.loading import problems

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
                                  "podspec-history.shop.1", "podspec-stopped.web", "podspec-restarts.web-a.0123.000001"])
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


# ------------------------------------------------------------- a claim never takes a pod's emptyDir

WEB = """\
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  volumes: [{name: data, emptyDir: {}}]
  containers:
    - {name: a, image: "docker.io/library/alpine:latest", volumeMounts: [{name: data, mountPath: /d}]}
"""
DB = """\
apiVersion: v1
kind: Pod
metadata: {name: db}
spec:
  volumes: [{name: v, persistentVolumeClaim: {claimName: web_data}}]
  containers:
    - {name: a, image: "docker.io/library/alpine:latest", volumeMounts: [{name: v, mountPath: /v}]}
"""


@pytest.mark.parametrize("second", [("-p", "t", "--prune"), ("-p", "other", "--adopt")])
def test_a_claim_named_like_a_pods_emptydir_volume_is_a_conflict_not_a_volume_removed_later(
        tmp_path, monkeypatch, second):
    """The emptyDir volume `web_data` is removed with pod web; a claim of that name (Podman volume
    names may hold `_`) used to take it over as it was, and the same apply's --prune (or project t's
    next one) then removed the claim's volume with the pod."""
    from typer.testing import CliRunner

    from podspec.cli import app
    from tests.unit.fake_cli import cli_on_fake

    engine = cli_on_fake(monkeypatch, ("docker.io/library/alpine:latest",))
    (tmp_path / "web.yaml").write_text(WEB)
    (tmp_path / "db.yaml").write_text(DB)
    runner = CliRunner()
    first = runner.invoke(app, ["apply", str(tmp_path / "web.yaml"), "-p", "t"])
    assert first.exit_code == 0, first.stderr
    result = runner.invoke(app, ["apply", str(tmp_path / "db.yaml"), *second])
    assert result.exit_code == 1
    assert "web_data" in result.stderr and "emptyDir of pod web" in result.stderr
    assert "web_data" in engine.volumes and "db" not in engine.pods


# ------------------------------------------- a secret kept on the host is never one podspec made

STEAL = """\
apiVersion: v1
kind: Pod
metadata:
  name: thief
  annotations:
    podspec.io/host-secrets: NAME
spec:
  volumes:
    - name: s
      secret: {secretName: NAME, items: [{key: x, path: stolen}]}
  containers:
    - {name: a, image: alpine, volumeMounts: [{name: s, mountPath: /s}]}
"""


@pytest.mark.parametrize("name", ["podspec-9740c9dc-creds-token-af4b612e8aa8", "podspec-history-9740c9dc-000001-a993cf26168f"])
def test_a_secret_kept_on_the_host_may_not_be_one_podspec_made(tmp_path, name):
    """The Podman secrets podspec makes hold other projects' Secret values under names that every
    diff prints (a pull request's comment shows them); a pod's podspec.io/host-secrets naming one
    used to read its value into the pod."""
    [found] = problems(tmp_path, STEAL.replace("NAME", name))
    assert found.startswith("F:6:30: metadata.annotations.podspec.io/host-secrets:")
    assert f"{name} is the name of a Podman secret podspec makes" in found


def test_a_secret_kept_on_the_host_under_its_own_name_is_fine(tmp_path):
    assert problems(tmp_path, STEAL.replace("NAME", "db-password")) == []


def test_a_volume_of_the_names_records_name_that_is_not_the_projects_is_never_removed(tmp_path, monkeypatch):
    """Pruning a project's last pod removes its network and its names record; a volume of the
    record's name that is not the project's used to go with them."""
    from typer.testing import CliRunner

    from podspec.cli import app
    from podspec.engine.fake import FakeVolume
    from tests.unit.fake_cli import cli_on_fake

    engine = cli_on_fake(monkeypatch, ("docker.io/library/alpine:latest",))
    engine.volumes["podspec-names.t"] = FakeVolume("podspec-names.t", {"owner": "someone"})
    (tmp_path / "web.yaml").write_text(WEB)
    (tmp_path / "none.yaml").write_text(CLAIM.replace("NAME", "kept"))
    runner = CliRunner()
    runner.invoke(app, ["apply", str(tmp_path / "web.yaml"), "-p", "t"])  # fails at the record: the name is taken
    assert "web" in engine.pods
    pruned = runner.invoke(app, ["apply", "--prune", str(tmp_path / "none.yaml"), "-p", "t"])
    assert pruned.exit_code == 0, pruned.stderr
    assert "web" not in engine.pods and engine.volumes["podspec-names.t"].labels == {"owner": "someone"}


def test_a_service_may_not_carry_podspecs_own_labels_either(tmp_path):
    found = problems(tmp_path, "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n"
                               "  labels: {io.podspec.project: other}\nspec:\n  selector: {app: web}\n  ports: [{port: 80}]\n")
    assert len(found) == 1 and found[0].startswith("F:5:12: metadata.labels.io.podspec.project:")
