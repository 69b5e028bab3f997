"""The engine contract: the same cases against the FakeEngine (always) and a real Podman (`podman`).

What podspec relies on an engine for, proved on both, so that workflow and CLI tests on the fake
say something about the real thing. Steps are real plan steps: a small manifest through the loader,
reconcile.diff and the planner, as apply makes them. Nothing here is timed; no step is faked.
"""

from __future__ import annotations

import re
import time
from dataclasses import replace
from pathlib import Path
from typing import Iterator

import pytest
import yaml

from podspec import labels as L
from podspec.engine.fake import FakeEngine
from podspec.engine.probes import ProbeTarget
from podspec.engine.protocol import Engine
from podspec.errors import EngineError
from podspec.loader import load
from podspec.model import Probe, ProbeHandler
from podspec.observed import ContainerState, ObservedState, PodStatus
from podspec.plan import Plan, Step, StepKind
from podspec.reconcile import diff as differ
from podspec.reconcile import planner
from podspec.reconcile.network import free_subnet
from tests.integration.podman_tcp import podman_tcp  # noqa: F401 - the tcp:// engine goes through it
from tests.integration.registry import registry  # noqa: F401 - the real engine's pulls come from it
from tests.integration.sshd import sshd  # noqa: F401 - the ssh:// engine goes through it

PROJECT = "contract"
POD = "contract-web"
APP = f"{POD}-app"
INIT = f"{POD}-init"
VOLUME = "contract-data"
STAND_INS = ("docker.io/library/httpd:2.4", "docker.io/library/alpine:latest", "docker.io/library/busybox:latest")


def manifest(init_type: str = "once", pod: str = POD, port: int = 18480) -> str:
    return f"""\
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: {VOLUME}
  labels: {{tier: data}}
---
apiVersion: v1
kind: Pod
metadata:
  name: {pod}
  labels: {{app: web}}
  annotations:
    io.podman.annotations.init.container.type: {init_type}
spec:
  terminationGracePeriodSeconds: 1
  restartPolicy: Always
  initContainers:
    - name: init
      image: docker.io/library/busybox:latest
      imagePullPolicy: IfNotPresent
      command: ["sh", "-c", "echo ready > /data/ready"]
      volumeMounts: [{{name: data, mountPath: /data}}]
  containers:
    - name: app
      image: docker.io/library/busybox:latest
      imagePullPolicy: IfNotPresent
      command: ["sleep", "100000"]
      ports: [{{containerPort: 80, hostPort: {port}}}]
      volumeMounts: [{{name: data, mountPath: /data}}]
  volumes:
    - name: data
      persistentVolumeClaim: {{claimName: {VOLUME}}}
"""


@pytest.fixture(params=["fake", pytest.param("podman", marks=pytest.mark.podman),
                        pytest.param("tcp", marks=pytest.mark.podman),
                        pytest.param("ssh", marks=pytest.mark.podman)])
def engine(request) -> Iterator[Engine]:
    """The fake; the private Podman over its unix:// socket, over tcp:// (a second service on the same
    storage) and over ssh:// through a real sshd (every call that carries a body, a secret's bytes, an
    archive, a spec, goes through all four)."""
    if request.param == "fake":
        with FakeEngine(images=STAND_INS) as fake:
            yield fake
        return
    from podspec.engine.podman import connect

    box = request.getfixturevalue("podman")  # the private Podman, purged after the test
    if request.param == "ssh":
        server = request.getfixturevalue("sshd")
        real = connect(url=server.url(box.url[len("unix://"):]), env=server.env(), identity=str(server.client_key))
        assert real.url.startswith("ssh://")
    elif request.param == "tcp":
        real = connect(url=request.getfixturevalue("podman_tcp"), env={})
    else:
        real = connect(url=box.url, env={})
    try:
        yield real
    finally:
        real.close()


def plan(engine: Engine, tmp_path: Path, **kwargs) -> Plan:
    path = tmp_path / "contract.yaml"
    path.write_text(manifest(**kwargs))
    desired = load([str(path)])
    return planner.build(differ.compute(desired, engine.observe(), PROJECT))


def run(engine: Engine, steps) -> None:
    for step in steps:
        engine.run(step)


def apply(engine: Engine, tmp_path: Path, **kwargs) -> ObservedState:
    run(engine, plan(engine, tmp_path, **kwargs).steps)
    return engine.observe()


def step(kind: StepKind, target: str) -> Step:
    return Step(kind, target, "contract test", timeout=1)


# ---------------------------------------------------------------------------------- reading


def test_observe_an_empty_host(engine):
    state = engine.observe()
    assert state.pods == () and state.containers == () and state.volumes == ()
    names = {n for i in state.images for n in i.names}
    assert set(STAND_INS) <= names
    assert state.images == engine.images()
    assert engine.pod_names() == ()


# Names the busybox stand-in also goes by, as a user's host has them: built locally, tagged under a
# user's repository, pulled from another registry (reading a diff's images, engine/parse.image_names).
TAGS = ("localhost/built:1", "docker.io/user/app:1", "quay.io/team/web:2", "localhost/team/tool:3",
        "localhost/local-only:latest")
# References as manifests write them, each a different way Podman can be asked for an image.
LOOKED_UP = ("busybox", "busybox:latest", "docker.io/busybox:latest", "docker.io/library/busybox:latest",
             "built:1", "localhost/built:1", "user/app:1", "docker.io/user/app:1", "quay.io/team/web:2",
             "team/tool:3", "local-only", "httpd:2.4", "alpine", "nosuch:1", "quay.io/team/nosuch:2", "app:1",
             "web:2", "team/nosuch:3")


@pytest.fixture
def tagged(engine, request) -> Iterator[Engine]:
    """The engine's host with the busybox stand-in also tagged as TAGS (untagged after the test)."""
    if isinstance(engine, FakeEngine):
        image = engine._image("docker.io/library/busybox:latest")
        assert image is not None
        image.names = (*image.names, *TAGS)
        yield engine
        return
    box = request.getfixturevalue("podman")
    for tag in TAGS:
        box.podman("tag", "docker.io/library/busybox:latest", tag)
    try:
        yield engine
    finally:
        box.podman("untag", "docker.io/library/busybox:latest", *TAGS, check=False)


def test_the_images_named_are_those_the_whole_list_finds(tagged):
    """What a diff reads (only the images its manifests name) finds each reference's image as the
    whole list does, on both Podmans, over every transport: by short and full names, on every
    registry, none where the whole list has none."""
    whole = tagged.observe()
    expected = {ref: whole.image_id(ref) for ref in LOOKED_UP}
    busybox = whole.image_id("docker.io/library/busybox:latest")
    assert busybox is not None and expected["built:1"] == expected["user/app:1"] == busybox
    # Short names are looked for as built here too (localhost/), as Podman runs them: with a path, without a tag.
    assert expected["team/tool:3"] == expected["local-only"] == busybox
    # (podspec takes `app:1` for docker.io/library/app:1 or localhost/app:1, not docker.io/user/app:1)
    assert expected["nosuch:1"] is expected["app:1"] is expected["web:2"] is expected["team/nosuch:3"] is None
    for ref in LOOKED_UP:  # one filtered list each
        alone = tagged.observe(images=[ref])
        assert alone.image_scope == {ref} and alone.image_id(ref) == expected[ref], ref
    for group in (LOOKED_UP[:8], LOOKED_UP[8:]):  # up to eight at once: side by side, or the whole list
        read = tagged.observe(images=group)
        assert {ref: read.image_id(ref) for ref in group} == {ref: expected[ref] for ref in group}
        named = tagged.images_named(group)
        assert {ref: ObservedState(images=named).image_id(ref) for ref in group} == {ref: expected[ref] for ref in group}
    digest = next((d for i in whole.images for d in i.digests if i.id == busybox), None)
    for ref in (busybox, *((digest,) if digest else ())):  # by ID, by digest: the whole list
        assert tagged.observe(images=[ref, "alpine"]).image_id(ref) == busybox


def test_no_image_is_read_for_no_reference(engine):
    state = engine.observe(images=())
    assert state.images == () and state.image_scope == frozenset()
    assert engine.images_named([]) == ()


def test_version_looks_like_a_version(engine):
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", engine.version())


def test_url_and_lock_key_name_the_host(engine):
    assert engine.url and engine.lock_key
    assert isinstance(engine, Engine)


# -------------------------------------------------------------------------------- creating


def test_created_objects_are_observed_with_their_labels_and_states(engine, tmp_path):
    steps = plan(engine, tmp_path).steps
    assert [s.kind for s in steps] == [StepKind.CREATE_VOLUME, StepKind.CREATE_NETWORK, StepKind.CREATE_POD,
                                       StepKind.CREATE_CONTAINER, StepKind.CREATE_CONTAINER, StepKind.START_POD,
                                       StepKind.CREATE_VOLUME]  # the last: the project's names record
    run(engine, steps[:-2])  # everything but the start and the record
    state = engine.observe()
    network = state.network("podspec-contract")
    assert network is not None and network.managed and L.project_of(network.labels) == PROJECT
    assert network.dns and network.subnets == (free_subnet((), PROJECT),)  # a /22 (reconcile/network.py)

    volume = state.volume(VOLUME)
    assert volume is not None and volume.managed and volume.labels["tier"] == "data"
    assert L.project_of(volume.labels) == PROJECT

    pod = state.pod(POD)
    assert pod is not None and pod.managed and pod.project == PROJECT
    assert pod.status is PodStatus.CREATED
    infra = state.infra_of(pod)
    assert infra is not None and infra.is_infra and infra.id == pod.infra_id
    assert infra.ports == ("18480->80/TCP",)
    assert infra.state is ContainerState.CREATED
    assert infra.networks == ("podspec-contract",)  # the project network, not Podman's default one

    members = {c.name: c for c in state.containers_of(pod)}
    assert sorted(members) == [APP, INIT]
    assert {c.state for c in members.values()} == {ContainerState.CREATED}
    assert members[APP].labels[L.ROLE] == "container" and members[INIT].labels[L.ROLE] == "init"
    assert members[APP].labels[L.POD] == POD and L.project_of(members[APP].labels) == PROJECT
    assert members[APP].image == "docker.io/library/busybox:latest"
    assert members[APP].image_id == state.image_id("docker.io/library/busybox:latest")
    assert members[APP].pod_id == pod.id


def test_starting_the_pod_runs_its_containers_and_a_once_init_container_is_gone(engine, tmp_path):
    state = apply(engine, tmp_path, init_type="once")
    pod = state.pod(POD)
    assert pod is not None and pod.status is PodStatus.RUNNING
    assert [c.name for c in state.containers_of(pod)] == [APP]
    assert state.container(APP).state is ContainerState.RUNNING
    assert state.infra_of(pod).state is ContainerState.RUNNING
    assert state.container(INIT) is None


def test_an_always_init_container_stays_after_it_ran(engine, tmp_path):
    state = apply(engine, tmp_path, init_type="always")
    init = state.container(INIT)
    assert init is not None and init.state is ContainerState.EXITED and init.exit_code == 0
    assert state.container(APP).state is ContainerState.RUNNING
    assert state.pod(POD).status is PodStatus.RUNNING  # init containers do not count

    run(engine, [step(StepKind.STOP_POD, POD), step(StepKind.START_POD, POD)])
    again = engine.observe()
    assert again.container(INIT) is not None and again.container(INIT).state is ContainerState.EXITED
    assert again.container(APP).state is ContainerState.RUNNING


def test_applying_again_plans_nothing(engine, tmp_path):
    apply(engine, tmp_path)
    assert plan(engine, tmp_path).empty


def test_a_container_started_alone_runs(engine, tmp_path):
    run(engine, [s for s in plan(engine, tmp_path).steps if s.kind is not StepKind.START_POD])
    engine.run(step(StepKind.START_CONTAINER, APP))
    state = engine.observe()
    assert state.container(APP).state is ContainerState.RUNNING


# -------------------------------------------------------------------------------- removing


def test_remove_a_container(engine, tmp_path):
    apply(engine, tmp_path)
    engine.run(step(StepKind.REMOVE_CONTAINER, APP))
    state = engine.observe()
    assert state.container(APP) is None
    assert state.pod(POD) is not None and state.infra_of(state.pod(POD)) is not None


def test_stop_and_remove_the_pod_keeps_the_volume(engine, tmp_path):
    apply(engine, tmp_path)
    engine.run(step(StepKind.STOP_POD, POD))
    stopped = engine.observe()
    assert stopped.container(APP).state in (ContainerState.EXITED, ContainerState.STOPPED)
    assert stopped.pod(POD).status is PodStatus.EXITED
    engine.run(step(StepKind.REMOVE_POD, POD))
    state = engine.observe()
    assert state.pods == () and state.containers == ()
    assert [v.name for v in state.volumes] == [VOLUME, "podspec-names.contract"]
    assert engine.pod_names() == ()


def test_removing_a_volume_in_use_fails_and_keeps_it(engine, tmp_path):
    apply(engine, tmp_path)
    with pytest.raises(EngineError) as caught:
        engine.run(step(StepKind.REMOVE_VOLUME, VOLUME))
    assert "being used" in caught.value.message
    assert caught.value.hint == "the volume is still mounted by a container; it was not removed"
    assert engine.observe().volume(VOLUME) is not None


def test_a_free_volume_can_be_removed(engine, tmp_path):
    apply(engine, tmp_path)
    run(engine, [step(StepKind.STOP_POD, POD), step(StepKind.REMOVE_POD, POD), step(StepKind.REMOVE_VOLUME, VOLUME)])
    assert [v.name for v in engine.observe().volumes] == ["podspec-names.contract"]


# ---------------------------------------------------------------------------------- refusals


def test_creating_a_pod_whose_name_exists_fails(engine, tmp_path):
    steps = plan(engine, tmp_path).steps
    create_pod = next(s for s in steps if s.kind is StepKind.CREATE_POD)
    run(engine, steps)
    with pytest.raises(EngineError) as caught:
        engine.run(create_pod)
    assert f'"{POD}" is in use' in caught.value.message
    assert caught.value.message.startswith(f"Podman refused to create pod {POD}: ")
    assert caught.value.hint == "another object holds the name; see `podspec diff`"
    assert len(engine.observe().pods) == 1


def test_an_empty_pod_podman_left_is_replaced_only_when_it_is_this_projects(engine, tmp_path, request):
    """A pod Podman left with no container at all (no infra either: the container list does not show
    it) holds the name of a pod to create: one labelled as the new pod (project, source) is removed
    and the pod created, over every transport; one anyone else made is refused and left as it was."""
    if isinstance(engine, FakeEngine):
        pytest.skip("the fake makes every pod with its infra container: only Podman leaves one empty")
    box = request.getfixturevalue("podman")
    steps = plan(engine, tmp_path).steps
    create_pod = next(s for s in steps if s.kind is StepKind.CREATE_POD)
    box.podman("pod", "create", "--infra=false", *[a for k, v in create_pod.labels for a in ("--label", f"{k}={v}")], POD)
    assert engine.observe().pods == ()  # invisible to the read
    run(engine, steps)
    assert [p.name for p in engine.observe().pods] == [POD]
    box.podman("pod", "rm", "-f", "-t", "0", POD)
    box.podman("pod", "create", "--infra=false", "--label", "team=ops", POD)
    with pytest.raises(EngineError) as caught:
        engine.run(create_pod)
    assert caught.value.message.startswith(f"Podman refused to create pod {POD}: ")
    assert box.podman("pod", "inspect", POD, "--format", "{{json .Labels}}").stdout.strip() == '{"team":"ops"}'


def test_creating_a_volume_whose_name_exists_fails(engine, tmp_path):
    steps = plan(engine, tmp_path).steps
    run(engine, steps[:1])
    with pytest.raises(EngineError) as caught:
        engine.run(steps[0])
    assert "already exists" in caught.value.message


def test_creating_a_container_whose_name_exists_fails(engine, tmp_path):
    steps = plan(engine, tmp_path).steps
    run(engine, steps)
    create_app = next(s for s in steps if s.kind is StepKind.CREATE_CONTAINER and s.target == APP)
    with pytest.raises(EngineError) as caught:
        engine.run(create_app)
    assert f'"{APP}" is already in use' in caught.value.message


def test_an_init_container_cannot_join_a_running_pod(engine, tmp_path):
    steps = plan(engine, tmp_path).steps
    run(engine, steps)
    create_init = next(s for s in steps if s.kind is StepKind.CREATE_CONTAINER and s.target == INIT)
    with pytest.raises(EngineError) as caught:
        engine.run(create_init)
    assert "cannot add init-ctr to a running pod" in caught.value.message


def test_steps_on_objects_that_are_not_there_fail(engine):
    for kind, target in ((StepKind.START_POD, "nosuch"), (StepKind.REMOVE_CONTAINER, "nosuch"),
                         (StepKind.REMOVE_VOLUME, "nosuch"), (StepKind.STOP_POD, "nosuch")):
        with pytest.raises(EngineError):
            engine.run(step(kind, target))


def test_pulling_an_absent_unpullable_image_fails(engine):
    with pytest.raises(EngineError) as caught:
        engine.pull("docker.io/library/nosuch:1")
    assert caught.value.message.startswith("cannot pull docker.io/library/nosuch:1: ")
    assert caught.value.hint == "check the image name and the registry"
    assert engine.observe().image_id("docker.io/library/nosuch:1") is None


@pytest.fixture
def pullable(engine, request) -> Iterator[tuple[str, str]]:
    """(reference, repository) of an image the engine can pull: the fake is told so; the real
    Podman gets it from the test registry (tests/integration/registry.py), the busybox stand-in
    pushed there, and forgets it after the test."""
    if isinstance(engine, FakeEngine):
        engine.allow_pull("127.0.0.1:5999/contract/app:1")
        yield "127.0.0.1:5999/contract/app:1", "127.0.0.1:5999/contract/app"
        return
    from tests.integration.registry import push, remove_images_of

    server, box = request.getfixturevalue("registry"), request.getfixturevalue("podman")
    push(box, server, "docker.io/library/busybox:latest", "contract/app:1")
    yield server.ref("contract/app:1"), server.ref("contract/app")
    remove_images_of(box, server)


def test_a_pull_reports_progress_and_leaves_the_image_it_names(engine, pullable):
    reference, _ = pullable
    seen = []
    pulled = engine.pull(reference, None, seen.append)
    assert pulled.reference == reference and pulled.size > 0 and pulled.layers >= 1
    assert engine.observe().image_id(reference) == pulled.id
    assert seen and seen[-1].layers_total >= 1 and seen[-1].layers_done == seen[-1].layers_total


def test_a_repository_lists_its_tags_and_an_unknown_one_fails(engine, pullable):
    _, repository = pullable
    assert "1" in engine.list_tags(repository)
    with pytest.raises(EngineError):
        engine.list_tags(repository + "-nosuch")


# -------------------------------------------------------------------------------- inspecting


def test_inspect_and_pod_names(engine, tmp_path):
    state = apply(engine, tmp_path, init_type="always")
    assert engine.pod_names() == (POD,)

    pod = engine.inspect_pod(POD)
    assert pod["Name"] == POD and pod["Id"] == state.pod(POD).id
    assert pod["Labels"][L.PROJECT] == PROJECT and pod["Labels"]["app"] == "web"
    assert pod["InfraContainerID"] == state.pod(POD).infra_id
    assert {c["Name"] for c in pod["Containers"]} >= {APP, INIT}
    assert {c["Id"] for c in pod["Containers"]} == {c.id for c in state.containers}
    ((binding,),) = pod["InfraConfig"]["PortBindings"].values()
    assert list(pod["InfraConfig"]["PortBindings"]) == ["80/tcp"]
    assert binding["HostPort"] == "18480" and binding["HostIp"] in ("", "0.0.0.0")  # 4.3: "", 5.4: "0.0.0.0"

    app = engine.inspect_container(APP)
    assert app["Name"] == APP and app["Id"] == state.container(APP).id
    assert app["State"]["Status"] == "running" and app["State"]["Running"] is True
    assert app["Config"]["Labels"][L.ROLE] == "container"
    assert (app["Path"], app["Args"]) == ("sleep", ["100000"])
    assert {"PATH=/bin", "container=podman", f"HOSTNAME={POD}"} <= set(app["Config"]["Env"])
    assert app["ImageName"] == "docker.io/library/busybox:latest"
    assert app["Image"] == state.container(APP).image_id
    assert [(m["Type"], m["Name"], m["Destination"]) for m in app["Mounts"]] == [("volume", VOLUME, "/data")]
    assert app["HostConfig"]["RestartPolicy"]["Name"] == "always"
    assert engine.inspect_container(INIT)["State"]["ExitCode"] == 0
    # by ID and by a prefix of it, as export reads a pod's containers
    assert engine.inspect_container(app["Id"])["Name"] == APP
    assert engine.inspect_container(app["Id"][:12])["Name"] == APP
    assert engine.inspect_pod(pod["Id"])["Name"] == POD

    image = engine.inspect_image("docker.io/library/busybox:latest")
    assert image["Id"] == state.image_id("docker.io/library/busybox:latest")
    assert "docker.io/library/busybox:latest" in image["RepoTags"]
    assert "PATH=/bin" in image["Config"]["Env"]

    volume = engine.inspect_volume(VOLUME)
    assert volume["Name"] == VOLUME and volume["Labels"]["tier"] == "data"


def test_generate_kube_names_the_init_containers(engine, tmp_path):
    apply(engine, tmp_path, init_type="always")
    documents = [d for d in yaml.safe_load_all(engine.generate_kube(POD)) if isinstance(d, dict)]
    spec = next(d for d in documents if d.get("kind") == "Pod")["spec"]
    assert [c["name"] for c in spec["initContainers"]] == [INIT]
    assert [c["name"] for c in spec["containers"]] == [APP]


@pytest.mark.parametrize("method", ["inspect_pod", "inspect_container", "inspect_volume", "inspect_image"])
def test_inspecting_what_is_not_there_fails(engine, method):
    with pytest.raises(EngineError):
        getattr(engine, method)("localhost/nosuch:1" if method == "inspect_image" else "nosuch")


def test_a_health_check_of_a_container_without_one_is_unknown(engine, tmp_path):
    apply(engine, tmp_path)
    status, output = engine.run_healthcheck(APP)
    assert status == "unknown" and "healthcheck" in output


def _target(observed: ObservedState) -> ProbeTarget:
    pod = observed.pod(POD)
    assert pod is not None
    infra = observed.infra_of(pod)
    return ProbeTarget(APP, POD, infra.id if infra else "")


def test_an_exec_probe_runs_inside_and_a_restart_keeps_the_container(engine, tmp_path):
    observed = apply(engine, tmp_path)
    target = _target(observed)
    assert engine.probe(target, Probe(ProbeHandler.EXEC, command=("true",))).ok
    before = observed.container(APP)
    engine.run(Step(StepKind.RESTART_CONTAINER, APP, "contract test", timeout=1, pod_name=POD))
    after = engine.observe().container(APP)
    assert after is not None and before is not None
    assert after.id == before.id and after.state is ContainerState.RUNNING
    engine.run(step(StepKind.STOP_POD, POD))
    assert not engine.probe(target, Probe(ProbeHandler.EXEC, command=("true",))).ok  # not running: fails, no error
    engine.end_probes()


def test_http_and_tcp_probes_are_made_from_the_pods_network_namespace(engine, tmp_path):
    if isinstance(engine, FakeEngine):
        pytest.skip("the fake passes every probe of a running container unless told otherwise (set_probe)")
    observed = apply(engine, tmp_path)
    target = _target(observed)
    # busybox's httpd serves /data (the init container wrote /data/ready) on 8081 inside the pod;
    # nothing is published: only the pod's network namespace reaches it.
    serve = Probe(ProbeHandler.EXEC, command=("httpd", "-p", "8081", "-h", "/data"), timeout_seconds=10)
    assert engine.probe(target, serve).ok
    http = Probe(ProbeHandler.HTTP_GET, path="/ready", port=8081, headers=(("X-Probe", "podspec"),))
    assert engine.probe(target, http).ok
    assert not engine.probe(target, replace(http, path="/missing")).ok
    assert engine.probe(target, Probe(ProbeHandler.TCP_SOCKET, port=8081)).ok
    refused = engine.probe(target, Probe(ProbeHandler.TCP_SOCKET, port=8082))
    assert not refused.ok and refused.output
    helpers = [c.name for c in engine.observe().containers if c.name.startswith("podspec-probe-")]
    assert helpers and not any(c.pod_id for c in engine.observe().containers if c.name in helpers)  # not in the pod
    engine.end_probes()
    assert not [c for c in engine.observe().containers if c.name.startswith("podspec-probe-")]


def test_a_container_of_an_absent_image_is_refused(engine, tmp_path):
    steps = plan(engine, tmp_path).steps
    run(engine, steps[:3])  # the volume, the network and the pod
    create_app = next(s for s in steps if s.kind is StepKind.CREATE_CONTAINER and s.target == APP)
    absent = replace(create_app, container=replace(create_app.container, image="localhost/contract-absent:1"))
    with pytest.raises(EngineError) as caught:
        engine.run(absent)
    assert "localhost/contract-absent:1: image not known" in caught.value.message
    assert engine.observe().container(APP) is None


def test_a_container_creates_the_named_volume_it_mounts(engine, tmp_path):
    steps = [s for s in plan(engine, tmp_path).steps if s.kind is not StepKind.CREATE_VOLUME]
    run(engine, steps)
    volume = engine.observe().volume(VOLUME)
    assert volume is not None and not volume.managed  # made by Podman, without podspec's labels


def test_the_infra_container_cannot_be_removed_alone(engine, tmp_path):
    state = apply(engine, tmp_path)
    infra = state.infra_of(state.pod(POD))
    with pytest.raises(EngineError):
        engine.run(step(StepKind.REMOVE_CONTAINER, infra.name))
    assert engine.observe().container(infra.name) is not None


def test_starting_a_running_pod_starts_a_container_created_in_it(engine, tmp_path):
    steps = plan(engine, tmp_path, init_type="always").steps
    run(engine, steps)
    create_app = next(s for s in steps if s.kind is StepKind.CREATE_CONTAINER and s.target == APP)
    run(engine, [step(StepKind.REMOVE_CONTAINER, APP), create_app])
    assert engine.observe().container(APP).state is ContainerState.CREATED
    engine.run(step(StepKind.START_POD, POD))
    state = engine.observe()
    assert state.container(APP).state is ContainerState.RUNNING
    # The init container ran again (type always); Podman 5 shows it `stopped` for a moment after it
    # ends, until its cleanup marks it `exited` (seen under load).
    deadline = time.monotonic() + 10
    while state.container(INIT).state is ContainerState.STOPPED and time.monotonic() < deadline:
        time.sleep(0.2)
        state = engine.observe()
    assert state.container(INIT).state is ContainerState.EXITED
    assert state.pod(POD).status is PodStatus.RUNNING


def test_a_sub_path_step_makes_the_directory_in_the_mounted_volume(engine, tmp_path):
    """The one call that sends an archive (an empty tar put through the container): the directory
    appears in the named volume the container mounts, nothing else is written."""
    apply(engine, tmp_path)
    engine.run(Step(StepKind.CREATE_SUB_PATH, APP, "contract test", path="/data/site/html"))
    if isinstance(engine, FakeEngine):
        assert (APP, "/data/site/html") in engine.sub_paths
        return
    mountpoint = Path(engine.inspect_volume(VOLUME)["Mountpoint"])  # the same host, whatever the transport
    assert (mountpoint / "site" / "html").is_dir()
    assert sorted(p.name for p in (mountpoint / "site").iterdir()) == ["html"]


def test_a_pods_names_on_the_project_network_change_by_disconnect_and_connect(engine, tmp_path):
    """The network calls that carry a body (disconnect; connect with the pod's names as aliases): the
    names answer at the network's DNS server (aardvark-dns, at the gateway) from inside the pod."""
    state = apply(engine, tmp_path)
    infra = state.infra_of(state.pod(POD))
    [network] = [n for n in state.networks if n.name in infra.networks]  # the project network
    target, server = _target(state), network.gateways[0]
    answers = lambda name: engine.resolve(target, name, server).ok
    assert answers(POD) and not answers("contract-alias")
    engine.run(Step(StepKind.DISCONNECT_NETWORK, infra.name, "contract test", network=network.name, pod_name=POD))
    assert network.name not in engine.observe().container(infra.name).networks
    engine.run(Step(StepKind.CONNECT_NETWORK, infra.name, "contract test", network=network.name, pod_name=POD,
                    aliases=(POD, "contract-alias")))
    assert network.name in engine.observe().container(infra.name).networks
    deadline = time.monotonic() + 30  # aardvark-dns 1.4 serves a reconnected container's names a little late
    while not answers("contract-alias"):
        assert time.monotonic() < deadline, "the new name never answered"
        time.sleep(0.5)
    with pytest.raises(EngineError):  # connected already
        engine.run(Step(StepKind.CONNECT_NETWORK, infra.name, "contract test", network=network.name, pod_name=POD,
                        aliases=(POD,)))
    engine.end_probes()


@pytest.mark.parametrize("kind", ["DirectoryOrCreate", "FileOrCreate"])
def test_a_host_path_step_makes_the_path_on_the_podman_host(engine, tmp_path, kind):
    """A helper container whose create body carries the script and the host's root bind-mounted:
    the path appears on the Podman host (the same machine here, whatever the transport); made again,
    it is left as it is; no helper stays."""
    path = tmp_path / "host" / ("dir" if kind == "DirectoryOrCreate" else "file")
    if kind == "FileOrCreate":
        path.parent.mkdir()  # FileOrCreate makes the file only
    made = Step(StepKind.CREATE_HOST_PATH, str(path), "contract test", host_path_type=kind)
    engine.run(made)
    if isinstance(engine, FakeEngine):
        assert engine.host_paths[str(path)] == ("directory" if kind == "DirectoryOrCreate" else "file")
        return
    assert path.is_dir() if kind == "DirectoryOrCreate" else (path.is_file() and path.read_bytes() == b"")
    if kind == "FileOrCreate":
        path.write_text("kept")
    engine.run(made)
    assert path.is_dir() if kind == "DirectoryOrCreate" else path.read_text() == "kept"
    assert not [c for c in engine.observe().containers if c.name.startswith("podspec-hostpath-")]


# --------------------------------------------------------------------------- apply history


def test_list_volumes_reads_the_volumes_observe_reads(engine, tmp_path):
    apply(engine, tmp_path)
    assert engine.list_volumes() == engine.observe().volumes


def test_observe_of_some_pods_lists_their_containers_and_the_rest_whole(engine, tmp_path):
    apply(engine, tmp_path)
    whole = apply(engine, tmp_path, pod="contract-other", port=18481)
    some = engine.observe(pods=(POD, "no-such-pod"))  # (the agent's repair of the pods events named)
    assert some.scope == frozenset({POD, "no-such-pod"}) and whole.scope is None
    assert [p.name for p in some.pods] == [POD]
    assert sorted(c.name for c in some.containers) == sorted(c.name for c in whole.containers if c.pod_name == POD)
    assert {c.name for c in some.containers} == {APP, observed_infra(whole, POD)}
    assert (some.volumes, some.networks, some.secrets) == (whole.volumes, whole.networks, whole.secrets)
    assert {i.id for i in some.images} == {i.id for i in whole.images}
    none = engine.observe(pods=())
    assert none.containers == () and none.volumes == whole.volumes


def observed_infra(state: ObservedState, pod: str) -> str:
    found = state.pod(pod)
    infra = state.infra_of(found) if found is not None else None
    assert infra is not None
    return infra.name


def test_a_history_record_is_one_labelled_secret_and_reads_back(engine, tmp_path):
    from podspec.reconcile.history import HistoryRecord
    from podspec.run import history

    apply(engine, tmp_path)
    record = HistoryRecord(PROJECT, 0, "abc123", "2026-11-28T10:00:00Z", "applied", {"create": 1}, (POD,))
    first = history.record(engine, record)
    second = history.record(engine, record, keep=1)  # the first is pruned
    assert (first.seq, second.seq) == (1, 2)
    [read] = history.read(engine, PROJECT)
    assert read == second and read.changed == (POD,) and read.revision == "abc123"
    labels = engine.secret_labels(second.volume)
    assert labels is not None and L.is_managed(labels) and L.project_of(labels) == PROJECT
    assert engine.observe().secret(first.volume) is None and engine.secret_labels(first.volume) is None


# ------------------------------------------------------------------ the host-side project lock


def test_a_lock_is_created_once_read_back_and_removed(engine):
    labels = {L.MANAGED_BY: L.MANAGER, "io.podspec.lock": "contract", "io.podspec.lock.holder": "podspec apply on h (pid 1)"}
    assert engine.lock_labels("podspec_lock_contract") is None
    assert engine.create_lock("podspec_lock_contract", labels) is True
    assert engine.create_lock("podspec_lock_contract", {**labels, "io.podspec.lock.holder": "another"}) is False
    assert engine.lock_labels("podspec_lock_contract") == labels
    engine.remove_lock("podspec_lock_contract")
    assert engine.lock_labels("podspec_lock_contract") is None
    engine.remove_lock("podspec_lock_contract")  # gone already: nothing happens


def test_of_concurrent_lock_creations_exactly_one_wins(engine):
    import threading

    wins: list[bool] = []
    barrier = threading.Barrier(6)

    def take(i: int) -> None:
        barrier.wait()
        wins.append(engine.create_lock("podspec_lock_race", {"io.podspec.lock.holder": str(i)}))

    threads = [threading.Thread(target=take, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(wins) == [False] * 5 + [True]
    engine.remove_lock("podspec_lock_race")
