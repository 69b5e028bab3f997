"""`io.podman.annotations.kube.image.volumes.mount/<container>` on plain data and the FakeEngine: the
loader's checks (file:line:col), the pure mount computation (a later image wins a path, other
containers untouched), the intent (a changed list is a change of that container only), Podman's
create body, the policy, and the workflow: images pulled when absent, their VOLUME paths read only
when a pod carries the annotation, refused before any change on a Podman older than 5.1."""

from __future__ import annotations

from pathlib import Path

import pytest

from podspec.engine.fake import FakeEngine
from podspec.engine.specgen import container_body
from podspec.errors import ManifestError, PodspecError
from podspec.labels import Role
from podspec.loader import load
from podspec.model import ImageMount
from podspec.plan import StepKind
from podspec.reconcile.imagemounts import mounts, volume_paths, with_image_mounts
from podspec.reconcile.intent import pod_intent
from podspec.run.apply import ApplyRequest, DiffRequest, apply, diff
from podspec.run.manifests import Manifests
from podspec.run.results import Outcome
from tests.unit.test_workflows import opener, run_calls

BUSYBOX = "docker.io/library/busybox:latest"
IMG1 = "localhost/vol-one:1"
IMG2 = "localhost/vol-two:1"
KEY = "io.podman.annotations.kube.image.volumes.mount"

POD = f"""\
apiVersion: v1
kind: Pod
metadata:
  name: web
  annotations:
    {KEY}/app: "{IMG1};{IMG2}"
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: app
      image: {BUSYBOX}
      imagePullPolicy: IfNotPresent
      command: [sleep, "3600"]
    - name: side
      image: {BUSYBOX}
      imagePullPolicy: IfNotPresent
      command: [sleep, "3600"]
"""
VOLUMES = {IMG1: ("/test1", "/test_same"), IMG2: ("/test2", "/test_same")}


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "pod.yaml"
    path.write_text(text)
    return str(path)


def problems(tmp_path: Path, text: str) -> list[str]:
    path = write(tmp_path, text)
    with pytest.raises(ManifestError) as raised:
        load([path])
    return [str(p).replace(path, "F") for p in raised.value.problems]


# ------------------------------------------------------------------------------------ the loader

def test_the_annotation_is_accepted_for_a_container_and_an_init_container(tmp_path):
    text = POD.replace("  containers:\n", f"  initContainers:\n    - {{name: prep, image: {BUSYBOX}, command: ['true']}}\n"
                       "  containers:\n").replace(f"{KEY}/app", f"{KEY}/prep: alpine\n    {KEY}/app")
    pod = load([write(tmp_path, text)]).pods[0]
    assert dict(pod.annotations)[f"{KEY}/prep"] == "alpine"


def test_an_unknown_container_is_named_with_its_place(tmp_path):
    found = problems(tmp_path, POD.replace(f"{KEY}/app", f"{KEY}/nobody"))
    assert found == [f"F:6:5: metadata.annotations[{KEY}/nobody]: annotation {KEY}/nobody names container 'nobody', "
                     "which pod web does not have (name one of the pod's containers (app, side) after the /)"]


@pytest.mark.parametrize("key, value, words", [
    (KEY, IMG1, "names no container"),
    (f"{KEY}/app", "Not/An:Image!", "'Not/An:Image!' is not an image reference"),
    (f"{KEY}/app", f"{IMG1};;{IMG2}", "has an empty entry"),
    (f"{KEY}/app", " ; ", "names no image"),
])
def test_bad_values_are_refused(tmp_path, key, value, words):
    found = problems(tmp_path, POD.replace(f'{KEY}/app: "{IMG1};{IMG2}"', f'{key}: "{value}"'))
    assert len(found) == 1 and words in found[0] and found[0].startswith("F:6:5:"), found


# ------------------------------------------------------------------------- the pure computation

def test_a_later_image_wins_a_path_and_each_path_is_its_own_mount():
    assert mounts([IMG1, IMG2], VOLUMES) == (
        ImageMount("/test1", IMG1), ImageMount("/test2", IMG2), ImageMount("/test_same", IMG2))
    assert mounts([IMG2, IMG1], VOLUMES)[-1] == ImageMount("/test_same", IMG1)
    assert mounts([IMG1, "localhost/absent:1"], VOLUMES) == (ImageMount("/test1", IMG1), ImageMount("/test_same", IMG1))
    assert volume_paths({"Config": {"Volumes": {"/b": {}, "/a": {}}}}) == ("/a", "/b")
    assert volume_paths({"Config": {"Volumes": None}}) == volume_paths({}) == ()


def test_only_the_named_container_gets_mounts_and_its_create_body_has_them(tmp_path):
    state = with_image_mounts(load([write(tmp_path, POD)]), VOLUMES)
    pod = state.pods[0]
    app, side = pod.containers
    assert [m.path for m in app.image_mounts] == ["/test1", "/test2", "/test_same"] and side.image_mounts == ()
    body = container_body(pod, app, Role.CONTAINER, {})
    assert body["image_volumes"] == [
        {"Source": IMG1, "Destination": "/test1", "ReadWrite": False, "subPath": "/test1"},
        {"Source": IMG2, "Destination": "/test2", "ReadWrite": False, "subPath": "/test2"},
        {"Source": IMG2, "Destination": "/test_same", "ReadWrite": False, "subPath": "/test_same"},
    ]
    assert body["annotations"] == {f"{KEY}/app": f"{IMG1};{IMG2}"}
    other = container_body(pod, side, Role.CONTAINER, {})
    assert "image_volumes" not in other and "annotations" not in other


def test_a_changed_list_changes_that_containers_intent_only(tmp_path):
    before = pod_intent(with_image_mounts(load([write(tmp_path, POD)]), VOLUMES).pods[0])
    after = pod_intent(with_image_mounts(load([write(tmp_path, POD.replace(f"{IMG1};{IMG2}", IMG1))]), VOLUMES).pods[0])
    assert before.hash == after.hash, "the pod itself is untouched"
    assert before.container("side").hash == after.container("side").hash
    assert before.container("app").hash != after.container("app").hash
    assert after.container("app").spec["imageMounts"] == {"/test1": IMG1, "/test_same": IMG1}


def test_a_mount_on_a_path_the_container_mounts_already_is_refused(tmp_path):
    text = POD.replace('      command: [sleep, "3600"]\n    - name: side',
                       '      command: [sleep, "3600"]\n      volumeMounts: [{name: d, mountPath: /test2}]\n    - name: side')
    text += "  volumes: [{name: d, emptyDir: {}}]\n"
    with pytest.raises(PodspecError, match=f"web/app: image {IMG2} declares VOLUME /test2, which the container already mounts"):
        with_image_mounts(load([write(tmp_path, text)]), VOLUMES)


def test_the_baseline_policy_takes_the_annotation(tmp_path):
    from podspec.policy import Policy, Profile, check

    assert [p.message for p in check(load([write(tmp_path, POD)]), Policy(Profile.BASELINE)) if KEY in p.message] == []


# ---------------------------------------------------------------------------- the workflow (fake)

def engine_with_images(version: str = "5.4.2", local: bool = True) -> FakeEngine:
    engine = FakeEngine(images=(BUSYBOX,), pullable=(BUSYBOX,), version=version)
    for image, paths in VOLUMES.items():
        config = {"Env": ["PATH=/bin"], "Volumes": {p: {} for p in paths}}
        engine.add_image(image, config) if local else engine.allow_pull(image, config)
    return engine


def test_apply_mounts_the_images_then_changes_nothing_and_a_new_list_recreates_one_container(tmp_path):
    engine = engine_with_images()
    path = write(tmp_path, POD)
    first = apply(ApplyRequest(Manifests((path,)), project="p"), opener(engine))
    assert first.outcome is Outcome.APPLIED
    assert [v["Destination"] for v in engine.containers["web-app"].body["image_volumes"]] == ["/test1", "/test2", "/test_same"]
    assert "image_volumes" not in engine.containers["web-side"].body
    assert {c.argument for c in engine.calls if c.method == "inspect_image"} == {IMG1, IMG2}, "only the annotation's images"
    ids = {n: c.id for n, c in engine.containers.items()}
    assert diff(DiffRequest(Manifests((path,)), project="p"), opener(engine)).diff.has_changes is False
    Path(path).write_text(POD.replace(f"{IMG1};{IMG2}", IMG2))
    engine.calls.clear()
    again = apply(ApplyRequest(Manifests((path,)), project="p"), opener(engine))
    created = [s.target for s in again.plan.steps if s.kind is StepKind.CREATE_CONTAINER]
    assert created == ["web-app"] and engine.containers["web-side"].id == ids["web-side"]
    assert any("imageMounts" in f.path or "annotations" in f.path for p in again.diff.pods for c in p.containers
               for f in c.fields), "the plan says why"


def test_absent_images_are_pulled_before_the_plan_and_their_paths_read_after(tmp_path):
    engine = engine_with_images(local=False)
    result = apply(ApplyRequest(Manifests((write(tmp_path, POD),)), project="p"), opener(engine))
    assert result.outcome is Outcome.APPLIED
    assert {c.argument for c in engine.calls if c.method == "pull"} >= {IMG1, IMG2}
    assert len(engine.containers["web-app"].body["image_volumes"]) == 3


def test_older_podman_is_refused_before_any_change_or_pull(tmp_path):
    engine = engine_with_images(version="4.3.1", local=False)
    with pytest.raises(PodspecError) as raised:
        apply(ApplyRequest(Manifests((write(tmp_path, POD),)), project="p"), opener(engine))
    message = raised.value.message
    assert (f"web/app: annotation {KEY}/app ({IMG1}, {IMG2}): mounting an image's VOLUME paths (an image volume "
            "with a subPath) needs Podman 5.1 or newer (this host runs 4.3.1)") in message
    assert "copy those files into a named volume" in message
    assert run_calls(engine) == [] and not [c for c in engine.calls if c.method == "pull"]


def test_nothing_is_inspected_when_no_pod_carries_the_annotation(tmp_path):
    engine = engine_with_images()
    apply(ApplyRequest(Manifests((write(tmp_path, POD.replace(f'  annotations:\n    {KEY}/app: "{IMG1};{IMG2}"\n', "")),)),
                       project="p"), opener(engine))
    assert not [c for c in engine.calls if c.method in ("inspect_image", "version")]


def test_a_diff_without_the_annotation_imports_nothing_of_it(tmp_path):
    """The no-op diff of ordinary projects does not get slower: the annotation's modules are
    imported only when a pod carries it."""
    import subprocess
    import sys

    plain = write(tmp_path, POD.replace(f'  annotations:\n    {KEY}/app: "{IMG1};{IMG2}"\n', ""))
    code = (
        "import sys\n"
        "from podspec.engine.fake import FakeEngine\n"
        "from podspec.run.apply import DiffRequest, diff\n"
        "from podspec.run.manifests import Manifests\n"
        f"engine = FakeEngine(images=({BUSYBOX!r},), version='5.4.2')\n"
        "diff(DiffRequest(Manifests((sys.argv[1],)), project='p'), lambda: engine)\n"
        "print(sorted(m for m in sys.modules if m.endswith(('.imagemounts', '.image_mounts'))))\n"
    )
    done = subprocess.run([sys.executable, "-c", code, plain], capture_output=True, text=True)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
    engine_code = code.replace("images=(", f"images=({IMG1!r}, {IMG2!r}, ")
    done = subprocess.run([sys.executable, "-c", engine_code, write(tmp_path, POD)], capture_output=True, text=True)
    assert done.stdout.strip() == "['podspec.loader.image_mounts', 'podspec.reconcile.imagemounts']", done.stdout + done.stderr


def test_the_resolved_mounts_survive_the_history_codec(tmp_path):
    """Rollback puts back a recorded pod without its files or the images' inspect: the mounts travel
    in the record."""
    from podspec.reconcile.podcodec import decode, encode

    pod = with_image_mounts(load([write(tmp_path, POD)]), VOLUMES).pods[0]
    assert decode(encode(pod)) == pod and decode(encode(pod)).containers[0].image_mounts


def test_a_deployments_own_annotation_mounts_into_every_replica(tmp_path):
    """kube play reads a Deployment's annotations from its own metadata: every copy gets the mounts."""
    engine = engine_with_images()
    text = f"""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  annotations:
    {KEY}/app: "{IMG1}"
spec:
  replicas: 2
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers:
        - {{name: app, image: {BUSYBOX}, imagePullPolicy: IfNotPresent, command: [sleep, "3600"]}}
"""
    apply(ApplyRequest(Manifests((write(tmp_path, text),)), project="p"), opener(engine))
    made = {n: [v["Destination"] for v in c.body.get("image_volumes", ())] for n, c in engine.containers.items()
            if n.endswith("-app")}
    assert made == {"web-pod-app": ["/test1", "/test_same"], "web-pod-1-app": ["/test1", "/test_same"]}
