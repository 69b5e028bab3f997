"""Services and the project network on the FakeEngine and on plain data: the loader's checks
(file:line:col, refused types, warnings), the names each pod gets, the plan that creates the
network and gives the names at pod create, a Service change that reconnects pods and recreates
no container, an earlier podspec's pods moved off the default network, delete and prune."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from podspec.engine.fake import FakeEngine
from podspec.errors import ManifestError, PodspecError
from podspec.loader import load
from podspec.observed import ObservedNetwork
from podspec.plan import StepKind
from podspec.reconcile.network import free_subnet, names_volume
from podspec.run.apply import ApplyRequest, apply
from podspec.run.delete import DeleteRequest, delete
from podspec.run.listener import Listener
from podspec.run.manifests import Manifests
from podspec.run.results import Outcome
from tests.integration.manifests import VOLUMES_FROM
from tests.unit.test_workflows import opener, run_calls

IMAGES = ("docker.io/library/httpd:2.4", "docker.io/library/busybox:latest")


def app(service: str = "front", port: int = 80, extra: str = "", selector: str = "web") -> str:
    return f"""\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web}}
spec:
  replicas: 2
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers:
        - name: httpd
          image: docker.io/library/httpd:2.4
          ports: [{{containerPort: 80, name: http}}]
---
apiVersion: v1
kind: Pod
metadata: {{name: client}}
spec:
  containers:
    - {{name: c, image: docker.io/library/busybox:latest, imagePullPolicy: IfNotPresent, command: [sleep, "1000"]}}
---
apiVersion: v1
kind: Service
metadata: {{name: {service}, namespace: shop}}
spec:
  selector: {{app: {selector}}}
  ports: [{{port: {port}, targetPort: http}}]
{extra}"""


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "app.yaml"
    path.write_text(text)
    return str(path)


@pytest.fixture
def engine() -> FakeEngine:
    return FakeEngine(images=IMAGES, pullable=IMAGES)


def request(path: str, **options) -> ApplyRequest:
    return ApplyRequest(Manifests((path,)), project="shop", **options)


def test_the_network_is_made_first_and_each_pod_gets_its_names_at_create(engine, tmp_path):
    result = apply(request(write(tmp_path, app())), opener(engine))
    assert result.outcome is Outcome.APPLIED
    kinds = [s.kind for s in result.plan.steps]
    assert kinds[0] is StepKind.CREATE_NETWORK and kinds[-1] is StepKind.CREATE_VOLUME
    network = engine.networks["podspec-shop"]
    assert network.subnet == free_subnet((), "shop") and network.labels["io.podspec.project"] == "shop"
    front = ("front", "front.shop", "front.shop.svc", "front.shop.svc.cluster.local")
    assert engine.aliases("web-pod") == {"podspec-shop": tuple(sorted(("web-pod", *front)))}
    assert engine.aliases("web-pod-1") == {"podspec-shop": tuple(sorted(("web-pod-1", *front)))}
    assert engine.aliases("client") == {"podspec-shop": ("client",)}, "a pod no Service selects has its own name"
    assert names_volume("shop") in engine.volumes
    engine.calls.clear()
    again = apply(request(write(tmp_path, app())), opener(engine))
    assert again.outcome is Outcome.NO_CHANGES and run_calls(engine) == []


def test_a_service_change_reconnects_the_pods_it_touches_and_recreates_nothing(engine, tmp_path):
    apply(request(write(tmp_path, app())), opener(engine))
    ids = {name: c.id for name, c in engine.containers.items()}
    engine.calls.clear()
    result = apply(request(write(tmp_path, app(service="shopfront"))), opener(engine))
    assert result.outcome is Outcome.APPLIED
    touched = sorted({s.pod_name for s in result.plan.steps if s.kind is StepKind.CONNECT_NETWORK})
    assert touched == ["web-pod", "web-pod-1"], "the client's names did not change: it is not touched"
    causes = [s.cause for s in result.plan.steps if s.kind is StepKind.DISCONNECT_NETWORK]
    assert causes and all("gains shopfront" in c and "loses front" in c for c in causes)
    assert {name: c.id for name, c in engine.containers.items()} == ids, "no container was recreated"
    assert "shopfront.shop.svc.cluster.local" in engine.aliases("web-pod")["podspec-shop"]
    assert "front" not in engine.aliases("web-pod")["podspec-shop"]
    assert {s.kind for s in result.plan.steps} == {StepKind.DISCONNECT_NETWORK, StepKind.CONNECT_NETWORK,
                                                   StepKind.REMOVE_VOLUME, StepKind.CREATE_VOLUME}


def applied_by_an_earlier_podspec(engine: FakeEngine, path: str) -> None:
    """The host as a podspec before project networks left it: the same pods, on Podman's default
    network, with no project network and no names record."""
    from dataclasses import replace

    from podspec.run.executor import execute

    plan = apply(request(path, dry_run=True), opener(engine)).plan
    execute(replace(plan, steps=tuple(replace(s, network="", aliases=()) for s in plan.steps
                                      if s.kind is not StepKind.CREATE_NETWORK and s.target != names_volume("shop"))), engine)


@pytest.mark.parametrize("services", [False, True], ids=["same-manifests", "a-service-added"])
def test_pods_of_an_earlier_podspec_move_to_the_project_network_only_through_the_plan(engine, tmp_path, services):
    no_service = app().split("---\napiVersion: v1\nkind: Service")[0]
    applied_by_an_earlier_podspec(engine, write(tmp_path, no_service))
    assert engine.aliases("web-pod") == {"podman": ()}
    ids = {name: c.id for name, c in engine.containers.items()}
    manifests = write(tmp_path, app() if services else no_service)
    dry = apply(request(manifests, dry_run=True), opener(engine))
    assert dry.outcome is Outcome.DRY_RUN and engine.aliases("web-pod") == {"podman": ()}
    assert "podspec-shop" not in engine.networks, "--dry-run changes nothing"
    assert dry.plan.steps[0].kind is StepKind.CREATE_NETWORK
    for pod in ("web-pod", "web-pod-1", "client"):
        moves = [(s.kind, s.network) for s in dry.plan.steps if s.pod_name == pod]
        assert moves == [(StepKind.CONNECT_NETWORK, "podspec-shop"), (StepKind.DISCONNECT_NETWORK, "podman")], pod
    assert all("earlier podspec" in s.cause for s in dry.plan.steps if s.kind is StepKind.CONNECT_NETWORK)
    assert apply(request(manifests), opener(engine)).outcome is Outcome.APPLIED
    assert set(engine.aliases("web-pod")) == {"podspec-shop"}
    assert ("front" in engine.aliases("web-pod")["podspec-shop"]) is services
    assert engine.aliases("client") == {"podspec-shop": ("client",)}
    assert {name: c.id for name, c in engine.containers.items()} == ids, "no container was recreated"
    assert apply(request(manifests), opener(engine)).outcome is Outcome.NO_CHANGES


class Heard(Listener):
    def __init__(self) -> None:
        self.infos: list[str] = []

    def info(self, text: str) -> None:
        self.infos.append(text)


def test_apply_wait_waits_until_each_service_name_answers(engine, tmp_path):
    """--wait: once the pods are ready, each Service's name is looked up at the project network's DNS
    server from a pod of the project it does not select (asked as a client asks), until it answers;
    a name that never does is named, with the pod asked from and the server asked."""
    extra = "---\napiVersion: v1\nkind: Service\nmetadata: {name: nobody}\nspec: {selector: {app: none}, ports: [{port: 80}]}\n"
    engine.hold_names("front", 3)  # answers at the fourth look-up, as a slow DNS server would
    heard = Heard()
    result = apply(request(write(tmp_path, app(extra=extra)), wait=True, wait_timeout=30), opener(engine), heard)
    assert result.outcome is Outcome.APPLIED and result.ready
    asked = [c.argument for c in engine.calls if c.method == "resolve"]
    assert asked == ["front"] * 4, "a Service that selects nothing has no name to wait for"
    assert any(t.startswith("Names answer on network podspec-shop: front (") for t in heard.infos), heard.infos

    engine.hold_names("shopfront", 10**6)  # a rename whose name never answers
    with pytest.raises(PodspecError) as caught:
        apply(request(write(tmp_path, app(service="shopfront")), wait=True, wait_timeout=1), opener(engine))
    message = caught.value.message
    assert "not ready after 1s: Service name(s) not answering on network podspec-shop: shopfront" in message
    gateway = str(ipaddress.ip_network(engine.networks["podspec-shop"].subnet)[1])
    assert f"asked aardvark-dns at {gateway} from pod client" in message, "a client asks, not a reconnected pod"
    assert "aardvark-dns 1.4" in caught.value.hint


def test_delete_removes_the_network_and_the_record_with_the_last_pod(engine, tmp_path):
    path = write(tmp_path, app())
    apply(request(path), opener(engine))
    delete(DeleteRequest(Manifests((path,)), project="shop"), opener(engine))
    assert "podspec-shop" not in engine.networks and names_volume("shop") not in engine.volumes
    assert "podman" in engine.networks


def test_a_network_of_the_same_name_podspec_did_not_make_is_a_conflict(engine, tmp_path):
    from podspec.engine.fake import FakeNetwork
    from podspec.errors import ConflictError

    engine.networks["podspec-shop"] = FakeNetwork("podspec-shop", {}, "10.99.0.0/24")
    with pytest.raises(ConflictError, match="network podspec-shop: a network with this name exists"):
        apply(request(write(tmp_path, app())), opener(engine))
    assert run_calls(engine) == []


def test_refused_types_and_warnings_say_where(tmp_path):
    bad = app(extra="---\napiVersion: v1\nkind: Service\nmetadata: {name: outside}\nspec:\n  type: ExternalName\n"
                    "  selector: {app: web}\n  ports: [{port: 80, nodePort: 30080}]\n")
    with pytest.raises(ManifestError) as error:
        load([write(tmp_path, bad)])
    text = str(error.value)
    assert "app.yaml:33:9: spec.type: type: ExternalName is not supported" in text and "hostAliases" in text
    assert "app.yaml:35:32: spec.ports[0].nodePort: nodePort is only for type NodePort or LoadBalancer" in text
    state = load([write(tmp_path, app(selector="nothing"))])
    assert [w.message for w in state.warnings] == ["Service front selects no pod of these manifests: its names resolve to nothing"]
    udp = app(port=8080).replace("targetPort: http}", "targetPort: 80, protocol: UDP}")
    with pytest.raises(ManifestError, match="forwards TCP only, not UDP"):
        load([write(tmp_path, udp)])
    with pytest.raises(ManifestError, match="a container of the pod already declares port 81"):
        load([write(tmp_path, app(port=81).replace("name: http}]", "name: http}, {containerPort: 81}]"))])
    with pytest.raises(ManifestError, match="pod web-pod has no TCP container port named 'http2'"):
        load([write(tmp_path, app().replace("targetPort: http}", "targetPort: http2}"))])


def test_the_subnet_is_a_22_free_of_every_other_network():
    taken = (ObservedNetwork("podman", subnets=("10.88.0.0/16",)), ObservedNetwork("a", subnets=("10.90.0.0/24",)),
             ObservedNetwork("b", subnets=("10.90.4.0/22",)))
    assert free_subnet(taken) == "10.90.8.0/22"
    # Each project starts its search at a place of its own: projects applied at the same moment (each
    # under its own lock, reading the same free subnets) rarely pick the same one; both are /22s of the pool.
    mine, yours = free_subnet((), "shop"), free_subnet((), "other")
    assert mine != yours and {ipaddress.ip_network(n).prefixlen for n in (mine, yours)} == {22}
    assert all(ipaddress.ip_network(n).subnet_of(ipaddress.ip_network("10.90.0.0/15")) for n in (mine, yours))
    # 300 pods and more fit: a /22 has 1022 addresses for hosts, one of them the gateway (aardvark-dns)
    assert ipaddress.ip_network(mine).num_addresses - 3 >= 1000
    # A project whose place is taken takes the next free /22, wrapping round the pool; none overlaps
    everything_but_one = tuple(ObservedNetwork(f"n{i}", subnets=(str(n),)) for i, n in
                               enumerate(ipaddress.ip_network("10.90.0.0/15").subnets(new_prefix=22)) if str(n) != "10.90.4.0/22")
    assert free_subnet(everything_but_one, "shop") == "10.90.4.0/22"
    with pytest.raises(ValueError, match="every /22 of 10.90.0.0/15 is taken"):
        free_subnet(everything_but_one + (ObservedNetwork("last", subnets=("10.90.4.0/24",)),), "shop")


def test_a_port_other_than_its_target_gets_a_proxy_and_changing_it_touches_only_proxies(engine, tmp_path):
    state = load([write(tmp_path, app(port=8080))])
    web = state.pod("web-pod")
    proxy = web.containers[-1]
    assert [c.name for c in web.containers] == ["httpd", "svc-proxy-8080"]
    assert proxy.command == ("nc", "-ll", "-p", "8080", "-e", "nc", "127.0.0.1", "80")
    assert proxy.service_proxy == "8080->80" and proxy.security.capabilities_drop == ("ALL",)
    assert [c.name for c in state.pod("client").containers] == ["c"], "a pod no Service selects gets no proxy"

    apply(request(write(tmp_path, app(port=8080))), opener(engine))
    assert "web-pod-svc-proxy-8080" in engine.containers
    ids = {name: c.id for name, c in engine.containers.items() if "proxy" not in name}
    result = apply(request(write(tmp_path, app(port=9090))), opener(engine))
    touched = sorted((s.kind.value, s.target) for s in result.plan.steps)
    assert touched == [("create_container", "web-pod-1-svc-proxy-9090"), ("create_container", "web-pod-svc-proxy-9090"),
                       ("create_volume", names_volume("shop")),
                       ("remove_container", "web-pod-1-svc-proxy-8080"), ("remove_container", "web-pod-svc-proxy-8080"),
                       ("remove_volume", names_volume("shop")),
                       ("start_container", "web-pod-1-svc-proxy-9090"), ("start_container", "web-pod-svc-proxy-9090")]
    assert {name: c.id for name, c in engine.containers.items() if "proxy" not in name} == ids
    same = apply(request(write(tmp_path, app(port=80))), opener(engine))
    assert sorted(s.target for s in same.plan.steps if s.kind is StepKind.REMOVE_CONTAINER) == [
        "web-pod-1-svc-proxy-9090", "web-pod-svc-proxy-9090"], "port == targetPort: no proxy"


def test_export_writes_the_services_that_select_the_exported_pods_and_the_round_trip_changes_nothing(engine, tmp_path):
    from podspec.run.export import ExportRequest, export

    apply(request(write(tmp_path, app(port=8080))), opener(engine))
    text = export(ExportRequest(pods=("web-pod", "web-pod-1", "client")), opener(engine)).text
    assert "kind: Service" in text and "svc-proxy" not in text, "the Service is exported, its proxies are not"
    exported = tmp_path / "exported" / "all.yaml"
    exported.parent.mkdir()
    exported.write_text(text)
    state = load([str(exported)])
    assert [(s.name, s.namespace, s.ports[0].port, s.ports[0].target_port) for s in state.services] == [
        ("front", "shop", 8080, 80)], "a named targetPort is exported as the number it names"
    assert [c.name for c in state.pod("web-pod").containers] == ["httpd", "svc-proxy-8080"]
    only_client = export(ExportRequest(pods=("client",)), opener(engine)).text
    assert "kind: Service" not in only_client, "a Service that selects no exported pod is left out"


WEB_8080 = """\
apiVersion: v1
kind: Pod
metadata: {name: NAME}
spec:
  containers:
    - {name: httpd, image: docker.io/library/httpd:2.4, ports: [{containerPort: 80, hostPort: 8080}]}
"""


def test_a_host_port_another_pod_or_process_holds_is_named_before_any_change(engine, tmp_path):
    from podspec.errors import ConflictError

    first = tmp_path / "first.yaml"
    first.write_text(WEB_8080.replace("NAME", "web-a"))
    apply(ApplyRequest(Manifests((str(first),)), project="a"), opener(engine))
    second = tmp_path / "second.yaml"
    second.write_text(WEB_8080.replace("NAME", "web-b"))
    engine.calls.clear()
    with pytest.raises(ConflictError, match=r"pod web-b: host port 8080/tcp is published by pod web-a \(project 'a'\)"):
        apply(ApplyRequest(Manifests((str(second),)), project="b"), opener(engine))
    assert run_calls(engine) == []
    engine.busy_ports.add((9090, "tcp"))
    second.write_text(WEB_8080.replace("NAME", "web-b").replace("8080", "9090"))
    with pytest.raises(ConflictError, match="pod web-b: host port 9090/tcp is in use by another process"):
        apply(ApplyRequest(Manifests((str(second),)), project="b"), opener(engine))
    assert run_calls(engine) == []
    again = apply(ApplyRequest(Manifests((str(first),)), project="a"), opener(engine))
    assert again.outcome is Outcome.NO_CHANGES, "a pod's own published port is not in its way"


def test_the_pods_a_service_selects_are_known_to_podspec_start(engine, tmp_path):
    from podspec.reconcile.lifecycle import service_backends

    apply(request(write(tmp_path, app())), opener(engine))
    assert service_backends(engine.observe()) == {"web-pod", "web-pod-1"}


def test_volumes_from_is_passed_to_podman_and_checked(engine, tmp_path):
    path = tmp_path / "share.yaml"
    path.write_text(VOLUMES_FROM)
    apply(ApplyRequest(Manifests((str(path),)), project="share"), opener(engine))
    assert engine.containers["share-reader"].body["volumes_from"] == ["share-writer:ro"]
    assert "volumes_from" not in engine.containers["share-writer"].body
    path.write_text(VOLUMES_FROM.replace("volumes-from/reader", "volumes-from/nobody"))
    with pytest.raises(ManifestError, match="names container 'nobody', which pod share does not have"):
        load([str(path)])
    path.write_text(VOLUMES_FROM.replace("volumes-from/reader: \"writer:ro\"", "volumes-from/writer: \"reader\""))
    with pytest.raises(ManifestError, match="volumes-from share-reader: it is created after writer"):
        load([str(path)])


def test_the_restricted_policy_takes_a_proxy_and_volumes_from_within_the_pod(tmp_path):
    from podspec.policy import Policy, Profile, check

    restricted = app(port=81).replace(
        "    spec:\n      containers:",
        "    spec:\n      securityContext: {runAsNonRoot: true, runAsUser: 1000, seccompProfile: {type: RuntimeDefault}}\n"
        "      containers:").replace(
        "ports: [{{containerPort: 80, name: http}}]".replace("{{", "{").replace("}}", "}"),
        "ports: [{containerPort: 80, name: http}]\n"
        "          securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}")
    state = load([write(tmp_path, restricted)])
    proxy = state.pod("web-pod").containers[-1]
    assert (proxy.security.run_as_user, proxy.security.capabilities_add) == (65534, ("NET_BIND_SERVICE",))
    found = [p.message for p in check(state, Policy(Profile.RESTRICTED)) if "containers[1]" in p.path]
    assert found == [], "the proxy meets the restricted profile"
    shared = tmp_path / "share.yaml"
    shared.write_text(VOLUMES_FROM)
    assert [p.message for p in check(load([str(shared)]), Policy(Profile.BASELINE)) if "volumes-from" in p.message] == []
    shared.write_text(VOLUMES_FROM.replace('"writer:ro"', '"other-project-db:ro"'))
    assert any("volumes-from" in p.message for p in check(load([str(shared)]), Policy(Profile.BASELINE)))


def test_a_project_applied_file_by_file_keeps_every_pods_names(engine, tmp_path):
    """Without --prune, pods the manifests do not name stay, on the network, with their names: the
    record keeps them, so applying one file and then another of the same project reconnects nothing."""
    first = write(tmp_path, app())
    solo = tmp_path / "solo.yaml"
    solo.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: solo}\nspec:\n  containers:\n"
                    "    - {name: c, image: docker.io/library/busybox:latest, imagePullPolicy: IfNotPresent, command: [sleep, '9']}\n")
    assert apply(request(first), opener(engine)).outcome is Outcome.APPLIED
    other = apply(request(str(solo)), opener(engine))
    assert not [s for s in other.plan.steps if s.kind in (StepKind.CONNECT_NETWORK, StepKind.DISCONNECT_NETWORK)]
    assert engine.aliases("solo") == {"podspec-shop": ("solo",)}
    assert apply(request(first), opener(engine)).outcome is Outcome.NO_CHANGES
    assert apply(request(str(solo)), opener(engine)).outcome is Outcome.NO_CHANGES
    from podspec.reconcile.network import NamesRecord

    record = NamesRecord.read(engine.volumes[names_volume("shop")].labels["io.podspec.names"])
    assert record is not None and sorted(record.pods) == ["client", "solo", "web-pod", "web-pod-1"]
    assert sorted(record.services) == ["front"], "the Service the kept pods carry stays on record (export)"


def test_the_names_record_holds_through_a_run_that_changes_no_names_and_goes_first_when_names_change(engine, tmp_path):
    """A run that only makes pods (with the names the record would have for them) and removes pods
    keeps the record until its last change: stopped half-way (a step failing, a rollout not ready
    before its rollback), it leaves the record true, and the next run reconnects none of the pods that
    serve (on Podman 4.3 a reconnected pod's names may not answer for tens of seconds). A run that
    changes a staying pod's names takes the record off first, as before."""
    from podspec.reconcile.network import NamesRecord

    def record() -> NamesRecord | None:
        found = engine.volumes.get(names_volume("shop"))
        return NamesRecord.read(found.labels["io.podspec.names"]) if found is not None else None

    assert apply(request(write(tmp_path, app())), opener(engine)).outcome is Outcome.APPLIED
    before = record()
    assert before is not None and sorted(before.pods) == ["client", "web-pod", "web-pod-1"]
    other = "---\napiVersion: v1\nkind: Pod\nmetadata: {name: other}\nspec:\n  containers:\n" \
            "    - {name: c, image: docker.io/library/busybox:latest, imagePullPolicy: IfNotPresent, command: [sleep, '1']}\n"
    engine.fail(StepKind.START_POD, "other")
    failed = apply(request(write(tmp_path, app(extra=other))), opener(engine))
    assert failed.outcome is Outcome.FAILED
    steps = [(s.kind, s.target) for s in failed.plan.steps]
    assert steps[-2:] == [(StepKind.REMOVE_VOLUME, names_volume("shop")), (StepKind.CREATE_VOLUME, names_volume("shop"))]
    assert record() == before, "the record stays, true, after the run stopped"
    again = apply(request(write(tmp_path, app(extra=other))), opener(engine))
    assert again.outcome is Outcome.APPLIED
    assert not [s for s in again.plan.steps if s.kind in (StepKind.DISCONNECT_NETWORK, StepKind.CONNECT_NETWORK)
                and s.pod_name != "other"], "no pod that serves is reconnected"
    assert sorted(record().pods) == ["client", "other", "web-pod", "web-pod-1"]

    renamed = apply(request(write(tmp_path, app(service="shopfront", extra=other))), opener(engine))
    assert renamed.outcome is Outcome.APPLIED
    assert (renamed.plan.steps[0].kind, renamed.plan.steps[0].target) == (StepKind.REMOVE_VOLUME, names_volume("shop"))
    assert (renamed.plan.steps[-1].kind, renamed.plan.steps[-1].target) == (StepKind.CREATE_VOLUME, names_volume("shop"))
    assert "shopfront" in record().pods["web-pod"]
