"""Applications of several pods on a real Podman (both engines): a Deployment of two replicas
behind a Service whose port (81) differs from its targetPort (80), a client pod reaching it by
each name Kubernetes gives, another project that sees neither its names nor its addresses, and a
change of the Service that recreates no container."""

from __future__ import annotations

import time

import pytest

from tests.integration.manifests import VOLUMES_FROM, ids, podspec, write
from tests.integration.sshd import sshd  # noqa: F401 - the fixture

pytestmark = pytest.mark.podman

# The Service's port, below 1024: the proxy (as nobody) binds it with NET_BIND_SERVICE alone.
PORT = 81
FORMS = ("front", "front.shop", "front.shop.svc", "front.shop.svc.cluster.local")


def app(service: str = "front", waits_for: str = "front") -> str:
    """`waits_for`: the Service name the client's init container waits for (kept when the Service
    is renamed: a changed init container would replace the client pod, as it should)."""
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
      terminationGracePeriodSeconds: 1
      containers:
        - name: httpd
          image: docker.io/library/httpd:2.4
          ports: [{{containerPort: 80, name: http}}]
---
apiVersion: v1
kind: Pod
metadata: {{name: client}}
spec:
  terminationGracePeriodSeconds: 1
  initContainers:
    - name: wait-for-front
      image: docker.io/library/busybox:latest
      imagePullPolicy: IfNotPresent
      command: [sh, -c, "until nslookup {waits_for}.shop.svc.cluster.local; do sleep 1; done"]
  containers:
    - {{name: c, image: docker.io/library/busybox:latest, imagePullPolicy: IfNotPresent, command: [sleep, "3600"]}}
---
apiVersion: v1
kind: Service
metadata: {{name: {service}, namespace: shop}}
spec:
  selector: {{app: web}}
  ports: [{{port: {PORT}, targetPort: http}}]
"""


# Another project, without any Service: its pods reach each other by pod name on its own network.
OTHER = """\
apiVersion: v1
kind: Pod
metadata: {name: stranger}
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - {name: c, image: docker.io/library/busybox:latest, imagePullPolicy: IfNotPresent, command: [sleep, "3600"]}
---
apiVersion: v1
kind: Pod
metadata: {name: peer}
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - {name: httpd, image: docker.io/library/httpd:2.4}
"""


def fetch_in(podman, container: str, host: str, port: int = 80) -> str:
    """The page `host:port` serves, fetched from inside `container` (busybox's nc: its wget
    crashes resolving names in the static build)."""
    out = podman.podman("exec", container, "sh", "-c",
                        f"printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 {host} {port}", check=False)
    return out.stdout


def resolves(podman, container: str, name: str) -> list[str]:
    # A records only: a query Podman's DNS cannot answer (AAAA here) goes to the host's resolvers,
    # which the tests' network namespace cannot reach: each such query waits for its timeout.
    out = podman.podman("exec", container, "nslookup", "-type=a", name, check=False).stdout
    answer = out.split("Non-authoritative answer:", 1)[-1] if "Non-authoritative answer:" in out else ""
    return sorted(line.split()[-1] for line in answer.splitlines() if line.strip().startswith("Address"))


def addresses(podman, pod: str) -> list[str]:
    out = podman.podman("exec", f"{pod}-httpd", "ip", "-4", "-o", "addr", "show", "eth0").stdout
    return [out.split()[3].split("/")[0]]


def until(condition, timeout: float = 60.0):
    """Poll `condition` (bounded) until it returns something truthy; return that."""
    end = time.monotonic() + timeout
    while True:
        found = condition()
        if found or time.monotonic() > end:
            return found
        time.sleep(0.2)


def test_a_deployment_behind_a_service_answers_by_every_name_and_only_in_its_project(podman, tmp_path):
    path = write(tmp_path, app())
    dry = podspec(podman, "apply", "--dry-run", path, project="shop")
    assert dry.exit_code == 2 and "network podspec-shop: create" in dry.output
    result = podspec(podman, "apply", path, project="shop")
    assert result.exit_code == 0, result.stderr
    assert podman.podman("network", "inspect", "podspec-shop", "--format",
                         "{{.DNSEnabled}} {{index .Labels \"io.podspec.project\"}}").stdout.split() == ["true", "shop"]
    replicas = sorted(addresses(podman, "web-pod") + addresses(podman, "web-pod-1"))
    for name in FORMS:
        assert until(lambda n=name: resolves(podman, "client-c", n) == replicas), (name, resolves(podman, "client-c", name))
        assert "It works!" in until(lambda n=name: fetch_in(podman, "client-c", n, PORT)), name
    assert "It works!" in fetch_in(podman, "client-c", "web-pod-1"), "pods reach each other by pod name"
    assert "It works!" in fetch_in(podman, "client-c", replicas[1], PORT), "the proxy of each replica forwards"

    other = podspec(podman, "apply", write(tmp_path, OTHER, "other.yaml"), project="other")
    assert other.exit_code == 0, other.stderr
    assert "+ network podspec-other: create" in other.output, "a project without Services has its network too"
    # (Podman 5 answers a pod's name once per source: the alias podspec gives, and its own pod name)
    assert sorted(set(until(lambda: resolves(podman, "stranger-c", "peer")))) == addresses(podman, "peer")
    assert "It works!" in until(lambda: fetch_in(podman, "stranger-c", "peer")), "pods of one project reach each other by pod name"
    for name in ("front", "front.shop.svc.cluster.local", "web-pod"):
        assert resolves(podman, "stranger-c", name) == [], f"project other sees {name}"
    assert resolves(podman, "client-c", "peer") == [] and fetch_in(podman, "client-c", "peer") == "", "shop sees other's pod"
    assert fetch_in(podman, "stranger-c", "front", PORT) == ""
    assert fetch_in(podman, "stranger-c", replicas[0]) == "", "nor by address: project networks are isolated"

    again = podspec(podman, "diff", path, project="shop")
    assert again.exit_code == 0, again.output


def test_a_service_change_recreates_no_container(podman, tmp_path):
    assert podspec(podman, "apply", write(tmp_path, app()), project="shop").exit_code == 0
    before = ids(podman)
    # --wait returns once the new name answers on the project network (on 4.3, aardvark-dns 1.4
    # serves a reconnected pod's new names about 30 s late: within the timeout)
    changed = podspec(podman, "apply", "--wait", "--timeout", "90", write(tmp_path, app("shopfront")), project="shop")
    assert changed.exit_code == 0, changed.stderr
    assert "names change: gains shopfront" in changed.output
    assert "Names answer on network podspec-shop: shopfront (" in changed.output + changed.stderr
    assert ids(podman) == before, "a Service change recreates nothing"
    replicas = sorted(addresses(podman, "web-pod") + addresses(podman, "web-pod-1"))
    assert resolves(podman, "client-c", "shopfront"), "--wait returned before the name answers"
    assert until(lambda: resolves(podman, "client-c", "shopfront") == replicas), (resolves(podman, "client-c", "shopfront"), replicas)
    assert "It works!" in until(lambda: fetch_in(podman, "client-c", "shopfront.shop.svc.cluster.local", PORT))
    assert until(lambda: resolves(podman, "client-c", "front") == [] or None) is not None
    assert podspec(podman, "diff", write(tmp_path, app("shopfront")), project="shop").exit_code == 0

    deleted = podspec(podman, "delete", write(tmp_path, app("shopfront")), project="shop")
    assert deleted.exit_code == 0, deleted.stderr
    assert podman.podman("network", "exists", "podspec-shop", check=False).returncode == 1


def test_services_over_ssh(podman, sshd, tmp_path):  # noqa: F811
    """Everything goes through the REST API: network, attachments with names, proxies, a Service
    change, delete, over ssh:// as over the local socket."""
    from tests.integration.test_ssh import over_ssh, run

    env = sshd.env(PODSPEC_PROJECT="shop")
    remote = over_ssh(sshd, podman)
    path = write(tmp_path, app())
    applied = run(env, "apply", path, *remote)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "It works!" in until(lambda: fetch_in(podman, "client-c", "front.shop.svc.cluster.local", PORT))
    before = ids(podman)
    # --wait's name look-ups run through the probe helper over ssh:// too
    changed = run(env, "apply", "--wait", "--timeout", "90", write(tmp_path, app("shopfront")), *remote)
    assert changed.returncode == 0, changed.stdout + changed.stderr
    assert "Names answer on network podspec-shop: shopfront (" in changed.stdout + changed.stderr
    assert ids(podman) == before
    assert "It works!" in until(lambda: fetch_in(podman, "client-c", "shopfront", PORT))
    deleted = run(env, "delete", write(tmp_path, app("shopfront")), *remote)
    assert deleted.returncode == 0, deleted.stderr
    assert podman.podman("network", "exists", "podspec-shop", check=False).returncode == 1


def test_volumes_from_mounts_the_other_containers_volumes(podman, tmp_path):
    """`podman kube play`'s volumes-from annotation (its own e2e test's shape): the reader sees the
    writer's volume at the same path, read-only."""
    assert podspec(podman, "apply", write(tmp_path, VOLUMES_FROM), project="share").exit_code == 0
    note = until(lambda: podman.podman("exec", "share-reader", "cat", "/data/note", check=False).stdout)
    assert note == "shared\n"
    denied = podman.podman("exec", "share-reader", "touch", "/data/other", check=False)
    assert denied.returncode != 0 and "Read-only file system" in denied.stderr
    assert podspec(podman, "diff", write(tmp_path, VOLUMES_FROM), project="share").exit_code == 0


def test_pods_an_earlier_podspec_left_on_the_default_network_move_only_through_the_plan(podman, tmp_path):
    """The tutorial pod (a host port, a named volume) as a podspec before project networks made it,
    on Podman's default network: the next apply moves it to the project network through a plan that
    says so (--dry-run first), recreates nothing, and the page is still served on its host port."""
    from dataclasses import replace

    from podspec.engine.podman import connect
    from podspec.loader import load
    from podspec.plan import StepKind
    from podspec.reconcile import diff as differ
    from podspec.reconcile import planner
    from podspec.reconcile.network import names_volume
    from podspec.run.executor import execute
    from tests.conftest import fetch, free_port
    from tests.integration.manifests import PROJECT, infra_id, webserver

    port = free_port()
    path = write(tmp_path, webserver(port))
    engine = connect(url=podman.url, env={})
    try:
        plan = planner.build(differ.compute(load([path]), engine.observe(), PROJECT))
        earlier = [replace(s, network="", aliases=()) for s in plan.steps
                   if s.kind is not StepKind.CREATE_NETWORK and s.target != names_volume(PROJECT)]
        execute(replace(plan, steps=tuple(earlier)), engine)
    finally:
        engine.close()
    networks = lambda: podman.podman("inspect", "--format", "{{range $n, $_ := .NetworkSettings.Networks}}{{$n}} {{end}}",
                                     infra_id(podman, "dynamic-webserver")).stdout.split()
    assert networks() == ["podman"]
    assert "Static Website Init" in fetch(f"http://127.0.0.1:{port}/")
    before = ids(podman)

    dry = podspec(podman, "apply", "--dry-run", path)
    assert dry.exit_code == 2, dry.stderr
    assert "+ network podspec-itest: create" in dry.output
    assert "connect to network podspec-itest (applied by an earlier podspec on Podman's default network" in dry.output
    assert "disconnect from network podman" in dry.output
    assert networks() == ["podman"] and ids(podman) == before, "--dry-run changes nothing"

    moved = podspec(podman, "apply", path)
    assert moved.exit_code == 0, moved.stderr
    assert networks() == ["podspec-itest"]
    assert ids(podman) == before, "no container was recreated"
    assert "Static Website Init" in fetch(f"http://127.0.0.1:{port}/"), "the host port still serves the page"
    assert podspec(podman, "diff", path).exit_code == 0
