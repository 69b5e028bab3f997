"""Safe rollouts against the private Podman (both engines): the apply history survives Podman's
prunes and holds no secret value; `podspec rollback` and `apply --wait --rollback-on-failure` put
back what ran before (reconcile/history.py, reconcile/rollback.py, run/rollback.py)."""

from __future__ import annotations

import json
import time

import pytest

from tests.integration.manifests import ids, podspec, sleeper, write
from tests.integration.sshd import sshd  # noqa: F401 - the fixture

pytestmark = pytest.mark.podman

SECRETS = """\
apiVersion: v1
kind: Secret
metadata:
  name: db
stringData:
  password: s3cr3t-in-a-secret
---
apiVersion: v1
kind: Pod
metadata:
  name: keeper
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: docker.io/library/busybox:latest
      imagePullPolicy: IfNotPresent
      command: ["sleep", "100000"]
      env:
        - {name: DB_PASSWORD, value: l1teral-s3cret}
      volumeMounts:
        - {name: db, mountPath: /etc/db, readOnly: true}
  volumes:
    - name: db
      secret: {secretName: db}
"""


def history(podman) -> list[dict]:
    listed = podspec(podman, "history", "-o", "json")
    assert listed.exit_code == 0, listed.stderr
    return json.loads(listed.output)["records"]


def test_the_history_survives_every_prune_and_holds_no_secret_value(podman, tmp_path):
    manifest = write(tmp_path, SECRETS)
    assert podspec(podman, "apply", manifest, "--revision", "one").exit_code == 0
    write(tmp_path, SECRETS + "---\n" + sleeper("second"))
    assert podspec(podman, "apply", manifest, "--revision", "two").exit_code == 0
    before = history(podman)
    assert [(r["seq"], r["revision"], r["restorable"]) for r in before] == [(2, "two", True), (1, "one", True)]

    podman.podman("pod", "stop", "second", "-t", "1")  # a stopped pod and its containers: what prunes remove
    podman.podman("volume", "prune", "--force")
    podman.podman("container", "prune", "--force")
    podman.podman("pod", "prune", "--force")
    podman.podman("system", "prune", "--force", "--volumes")
    assert "second" not in podman.podman("pod", "ps", "--format", "{{.Name}}").stdout  # the prunes did prune
    assert history(podman) == before

    names = podman.podman("secret", "ls", "--format", "{{.Name}}").stdout.split()
    records = [n for n in names if n.startswith("podspec-history-")]
    assert len(records) == 2
    for name in records:
        text = podman.podman("secret", "inspect", name).stdout
        assert "keeper" in text  # the record holds the pods...
        assert "s3cr3t-in-a-secret" not in text and "l1teral-s3cret" not in text  # ... never a secret's value


def server(name: str, page: str, port: int, image: str = "docker.io/library/busybox:latest", broken: bool = False,
           claim: str = "") -> str:
    """A pod serving `page` on `port`, ready once /www/ready exists; `broken`: it never is; `claim`:
    a named volume mounted at /data."""
    mount = "\n      volumeMounts:\n        - {name: data, mountPath: /data}" if claim else ""
    volume = f"\n  volumes:\n    - name: data\n      persistentVolumeClaim: {{claimName: {claim}}}" if claim else ""
    ready = "" if broken else " && touch /www/ready"
    run = f"mkdir -p /www && echo {page} > /www/index.html{ready} && exec httpd -f -p 8080 -h /www"
    return f"""\
apiVersion: v1
kind: Pod
metadata:
  name: {name}
  labels: {{app: {name}}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: web
      image: {image}
      imagePullPolicy: IfNotPresent
      command: ["sh", "-c", "{run}"]
      ports:
        - {{containerPort: 8080, hostPort: {port}}}
      readinessProbe:
        exec: {{command: ["cat", "/www/ready"]}}
        periodSeconds: 1{mount}{volume}
"""


def test_rollback_puts_the_previous_revision_back_by_image_id_and_keeps_volumes(podman, tmp_path):
    from tests.conftest import fetch, free_port

    port = free_port()
    podman.podman("tag", "docker.io/library/busybox:latest", "localhost/rollme:1")
    try:
        manifest = write(tmp_path, server("roller", "first", port, image="localhost/rollme:1", claim="roller-data"))
        assert podspec(podman, "apply", manifest, "--revision", "r1").exit_code == 0
        fetch(f"http://127.0.0.1:{port}/", until=lambda body: "first" in body)
        write(tmp_path, server("roller", "second", port, image="localhost/rollme:1", claim="roller-data")
              + "---\n" + sleeper("roller-extra"))
        assert podspec(podman, "apply", manifest, "--revision", "r2").exit_code == 0
        fetch(f"http://127.0.0.1:{port}/", until=lambda body: "second" in body)
        podman.podman("exec", "roller-web", "sh", "-c", "echo kept > /data/note")
        busybox = podman.podman("image", "inspect", "localhost/rollme:1", "--format", "{{.Id}}").stdout.strip()
        podman.podman("tag", "docker.io/library/alpine:latest", "localhost/rollme:1")  # the tag moves

        dry = podspec(podman, "rollback", "--dry-run")
        assert dry.exit_code == 2, dry.stderr
        assert "roller-extra" in dry.output and "recreate" in dry.output.lower()
        done = podspec(podman, "rollback", "--wait", "--timeout", "30", "-o", "json")
        assert done.exit_code == 0, done.stderr
        result = json.loads(done.output)
        assert result["restored"] == 1 and result["revision"] == "r1" and len(result["pinned"]) == 1
        fetch(f"http://127.0.0.1:{port}/", until=lambda body: "first" in body)
        image = podman.podman("container", "inspect", "roller-web", "--format", "{{.Image}}").stdout.strip()
        assert image == busybox  # the bytes that ran then, not what the tag names now
        assert "roller-extra" not in podman.podman("pod", "ps", "--format", "{{.Name}}").stdout
        assert podman.podman("exec", "roller-web", "cat", "/data/note").stdout == "kept\n"  # the volume untouched
        assert [r["outcome"] for r in history(podman)][:1] == ["rolled-back"]
        assert podspec(podman, "diff", manifest).exit_code == 2  # the files' change shows as pending
    finally:
        podman.podman("rmi", "--force", "localhost/rollme:1", check=False)


def test_apply_rolls_back_a_version_that_never_becomes_ready(podman, tmp_path):
    from tests.conftest import fetch, free_port

    port = free_port()
    manifest = write(tmp_path, server("gated", "good", port))
    assert podspec(podman, "apply", manifest, "--revision", "good").exit_code == 0
    fetch(f"http://127.0.0.1:{port}/", until=lambda body: "good" in body)

    write(tmp_path, server("gated", "bad", port, broken=True))
    with Poller([f"http://127.0.0.1:{port}/"]) as poller:
        failed = podspec(podman, "apply", manifest, "--revision", "bad", "--wait", "--timeout", "5",
                         "--rollback-on-failure", "-o", "json")
        ended = time.monotonic()
        fetch(f"http://127.0.0.1:{port}/", until=lambda body: "good" in body)
    assert failed.exit_code == 1
    result = json.loads(failed.output)
    deadline = ended - result["rollback"]["seconds"]  # when the readiness deadline passed (podspec's own clock)
    good_again = next(at for at, pages in poller.rounds if at > deadline and "good" in pages[0])
    print(f"\nrollback: {result['rollback']['seconds']:.2f}s from the readiness deadline to the previous version "
          f"ready; {good_again - deadline:.2f}s to the first page it served (polled)")
    assert result["result"]["status"] == "failed" and "gated-web" in result["result"]["error"]
    assert result["rollback"]["outcome"] == "restored" and result["rollback"]["restored"] == ["gated"]
    assert fetch(f"http://127.0.0.1:{port}/", until=lambda body: "good" in body)  # the previous version serves
    records = history(podman)
    assert [(r["outcome"], r["revision"]) for r in records[:3]] == [
        ("rolled-back", "good"), ("failed", "bad"), ("applied", "good")]
    status = json.loads(podspec(podman, "status", "-o", "json").output)
    assert [p["revision"] for p in status["pods"] if p["name"] == "gated"] == ["good"]
    assert podspec(podman, "diff", manifest).exit_code == 2  # the manifests' change is pending

    text = podspec(podman, "apply", manifest, "--wait", "--timeout", "5", "--rollback-on-failure")
    assert text.exit_code == 1 and "rolled back" in text.stderr and "restored gated" in text.stderr


def test_the_agent_rolls_back_a_commit_that_never_becomes_ready_and_waits_for_the_next(podman, tmp_path):
    from tests.conftest import fetch, free_port
    from tests.integration.hooks import HookReceiver, serve
    from tests.integration.sync_helpers import Repo, once

    port = free_port()
    repo, state = Repo(tmp_path / "repo"), tmp_path / "state"
    good = repo.commit({"web.yaml": server("agentweb", "good", port)}, "good")
    done = once(podman, repo, state, "--rollback-on-failure", "20s")
    assert done.returncode == 0, done.stderr
    fetch(f"http://127.0.0.1:{port}/", until=lambda body: "good" in body)

    bad = repo.commit({"web.yaml": server("agentweb", "bad", port, broken=True)}, "never ready")
    recorder = HookReceiver()  # the rollback is told to --notify (docs/operators.md)
    receiver, url = serve(recorder)
    try:
        done = once(podman, repo, state, "--rollback-on-failure", "5s", "--notify", url)
        told = recorder.wait_for(lambda r: [e for e in r.events() if e["event"] == "rolled-back"], 30, "the rollback told")
    finally:
        receiver.shutdown()
    assert done.returncode == 1
    assert "rolled-back" in done.stderr and "marked bad until a new commit" in done.stderr
    assert (told[0]["revision"], told[0]["outcome"], told[0]["pods"]) == (bad, "restored", ["agentweb"])
    assert "marked bad until a new commit" in told[0]["message"]
    fetch(f"http://127.0.0.1:{port}/", until=lambda body: "good" in body)  # the last good revision runs
    saved = json.loads((state / "itest" / "agent.json").read_text())
    assert saved["applied"] == good and saved["refused"] == bad and "not ready" in saved["last_error"]
    records = history(podman)
    assert [(r["outcome"], r["revision"]) for r in records[:2]] == [("rolled-back", good), ("failed", bad)]

    again = once(podman, repo, state, "--rollback-on-failure", "5s")  # the same commit: not tried again
    assert again.returncode == 1 and len(history(podman)) == len(records)
    assert podman.podman("inspect", "agentweb-web", "--format", "{{.State.Running}}").stdout.strip() == "true"

    fixed = repo.commit({"web.yaml": server("agentweb", "fixed", port)}, "fixed")
    done = once(podman, repo, state, "--rollback-on-failure", "20s")
    assert done.returncode == 0, done.stderr
    fetch(f"http://127.0.0.1:{port}/", until=lambda body: "fixed" in body)
    assert json.loads((state / "itest" / "agent.json").read_text())["applied"] == fixed


def deployment(page: str, replicas: int = 2, broken: bool = False, deadline: int = 30) -> str:
    """A Deployment of busybox httpd copies on the pod network (no host port), each ready once it
    serves (`/www/ready` is made after httpd listens); `broken`: never ready."""
    ready = "" if broken else " && touch /www/ready"
    run = f"mkdir -p /www && echo {page} > /www/index.html && httpd -p 8080 -h /www{ready} && exec sleep 1000000"
    return f"""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: {replicas}
  progressDeadlineSeconds: {deadline}
  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
        - name: httpd
          image: docker.io/library/busybox:latest
          imagePullPolicy: IfNotPresent
          command: ["sh", "-c", "{run}"]
          readinessProbe:
            exec: {{command: ["cat", "/www/ready"]}}
            periodSeconds: 1
"""


class Poller:
    """A client polling every copy's address on the pod network (a bounded loop: at most `limit`
    seconds), noting for each round whether each copy served; served: any copy did."""

    def __init__(self, urls: list[str], limit: float = 240.0) -> None:
        import threading

        self.urls, self.limit = urls, limit
        self.rounds: list[tuple[float, tuple[str, ...]]] = []  # (time, the page each copy served or "")
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        import time
        import urllib.request

        started = time.monotonic()
        while not self.stop.is_set() and time.monotonic() - started < self.limit:
            pages = []
            for url in self.urls:
                try:
                    with urllib.request.urlopen(url, timeout=2) as response:
                        pages.append(response.read().decode().strip())
                except OSError:
                    pages.append("")
            self.rounds.append((time.monotonic(), tuple(pages)))
            self.stop.wait(0.05)

    def __enter__(self) -> Poller:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()

    def downtime(self, index: int | None = None) -> float:
        """Seconds in which no copy (or copy `index`) served: the sum of the gaps between the last
        round that served and the next one that did."""
        down, since = 0.0, None
        for at, pages in self.rounds:
            ok = any(pages) if index is None else bool(pages[index])
            if not ok and since is None:
                since = at
            elif ok and since is not None:
                down, since = down + at - since, None
        return down + (self.rounds[-1][0] - since if since is not None and self.rounds else 0.0)


class CopyPoller:
    """A client polling every copy of Deployment web on the pod network, under whichever Podman
    name it runs (a bounded loop: at most `limit` seconds). Each round GETs every known pod; a copy
    (names.copy_of) that no pod of it served is looked up on the host again and polled again before
    the round counts it down, so that a new copy's address not yet known is not taken for downtime."""

    def __init__(self, podman, limit: float = 240.0) -> None:
        import threading

        self.podman, self.limit = podman, limit
        self.rounds: list[tuple[float, dict[str, str]]] = []  # (time, copy -> the page it served or "")
        self.most = 0  # the most pods of the Deployment seen at once
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.refresher = threading.Thread(target=self.refresh, daemon=True)  # also counts the pods at once
        self.urls = self.lookup()

    def refresh(self) -> None:
        while not self.stop.wait(0.2):
            self.urls = self.lookup()

    def lookup(self) -> dict[str, str]:
        """Pod name -> URL, for every pod of Deployment web on the host now."""
        from podspec.names import copy_of

        listed = self.podman.podman("pod", "ps", "--format", "{{.Name}} {{.InfraId}}", check=False).stdout.split("\n")
        infra = {line.split()[1]: line.split()[0] for line in listed
                 if len(line.split()) == 2 and copy_of(line.split()[0], "Deployment web")}
        self.most = max(self.most, len(infra))
        urls = {}
        for ident, pod in infra.items():
            out = self.podman.podman("inspect", ident, "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
                                     check=False).stdout.split()
            if out:
                urls[pod] = f"http://{out[0]}:8080/"
        return urls

    @staticmethod
    def get(url: str) -> str:
        import urllib.request

        try:
            with urllib.request.urlopen(url, timeout=0.5) as response:
                return response.read().decode().strip()
        except OSError:
            return ""

    def run(self) -> None:
        import time

        from podspec.names import copy_of

        started = time.monotonic()
        while not self.stop.is_set() and time.monotonic() - started < self.limit:
            served: dict[str, str] = {}
            for pod, url in sorted(self.urls.items()):
                copy = copy_of(pod, "Deployment web")
                served[copy] = served.get(copy) or self.get(url)
            if not all(served.values()) or len(served) < 2:
                self.urls = self.lookup()
                for pod, url in sorted(self.urls.items()):
                    copy = copy_of(pod, "Deployment web")
                    served[copy] = served.get(copy) or self.get(url)
            self.rounds.append((time.monotonic(), served))
            self.stop.wait(0.05)

    def __enter__(self) -> CopyPoller:
        self.thread.start()
        self.refresher.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()
        self.refresher.join()

    def downtime(self, copy: str | None = None) -> float:
        """Seconds in which no copy (or copy `copy`, under either name) served: the sum of the gaps
        between the last round that served and the next one that did."""
        down, since = 0.0, None
        for at, pages in self.rounds:
            ok = any(pages.values()) if copy is None else bool(pages.get(copy))
            if not ok and since is None:
                since = at
            elif ok and since is not None:
                down, since = down + at - since, None
        return down + (self.rounds[-1][0] - since if since is not None and self.rounds else 0.0)


def address(podman, pod: str) -> str:
    infra = podman.podman("pod", "inspect", pod, "--format", "{{.InfraContainerID}}").stdout.strip()
    return podman.podman("inspect", infra, "--format",
                         "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}").stdout.split()[0]


def test_a_deployment_surges_one_copy_at_a_time_and_no_copy_stops_serving(podman, tmp_path):
    from tests.conftest import fetch

    manifest = write(tmp_path, deployment("one"))
    assert podspec(podman, "apply", manifest, "--wait", "--timeout", "60").exit_code == 0
    for pod in ("web-pod", "web-pod-1"):
        fetch(f"http://{address(podman, pod)}:8080/", until=lambda body: "one" in body)
    write(tmp_path, deployment("two"))
    planned = podspec(podman, "diff", manifest)
    assert planned.exit_code == 2 and "the new version of copy web-pod-1 (the manifest changed), started beside web-pod-1 (maxSurge 1)" \
        in planned.output
    with CopyPoller(podman) as poller:
        applied = podspec(podman, "apply", manifest, "--wait", "--timeout", "60")
        for pod in ("web-pod-b", "web-pod-1-b"):
            fetch(f"http://{address(podman, pod)}:8080/", until=lambda body: "two" in body)
    assert applied.exit_code == 0, applied.stderr
    said = applied.output + applied.stderr
    assert said.index("web-pod-b ready") < said.index("remove pod web-pod:") < said.index("create pod web-pod-1-b:")
    pages = [p for _, p in poller.rounds]
    assert all(p.get("web-pod") and p.get("web-pod-1") for p in pages), "a moment when a copy did not serve"
    assert any(p["web-pod"] == "two" and p["web-pod-1"] == "one" for p in pages)  # one copy at a time
    assert poller.most <= 3  # replicas + maxSurge
    pods = podman.podman("pod", "ps", "--format", "{{.Name}}").stdout.split()
    assert sorted(pods) == ["web-pod-1-b", "web-pod-b"]
    assert podspec(podman, "diff", manifest).exit_code == 0  # read back under the names they run under
    from typer.testing import CliRunner

    from podspec.cli import app

    exported = CliRunner().invoke(app, ["export", "web-pod-1-b", "--url", podman.url])
    assert exported.exit_code == 0 and "name: web-pod-1\n" in exported.output and "hostname" not in exported.output
    print(f"\nsurged rollout of 2 copies: service downtime {poller.downtime():.2f}s; copy downtime "
          f"{poller.downtime('web-pod'):.2f}s and {poller.downtime('web-pod-1'):.2f}s; {len(pages)} polling rounds, "
          f"at most {poller.most} pods")


def test_a_stalled_rollout_stops_and_rolls_back(podman, tmp_path):
    from tests.conftest import fetch

    manifest = write(tmp_path, deployment("good", deadline=5))
    assert podspec(podman, "apply", manifest, "--wait", "--timeout", "60", "--revision", "good").exit_code == 0
    before = ids(podman)
    write(tmp_path, deployment("bad", broken=True, deadline=5))
    stalled = podspec(podman, "apply", manifest, "--revision", "bad", "--rollback-on-failure")  # gated without --wait
    assert stalled.exit_code == 1
    assert "the rollout of Deployment web stalled" in stalled.stderr and "web-pod-b" in stalled.stderr
    # The new copy surged beside the old ones and never became ready: no old copy was touched, and
    # the rollback removed the new one (no copy leaks).
    assert ids(podman) == before
    assert sorted(podman.podman("pod", "ps", "--format", "{{.Name}}").stdout.split()) == ["web-pod", "web-pod-1"]
    fetch(f"http://{address(podman, 'web-pod')}:8080/", until=lambda body: "good" in body)
    back = podspec(podman, "rollback", "--dry-run")  # the rollback's record holds what "good" held: nothing older
    assert back.exit_code == 1 and "no earlier revision" in back.stderr


def test_rollback_over_ssh(podman, sshd, tmp_path):  # noqa: F811
    from tests.conftest import fetch, free_port
    from tests.integration.test_ssh import over_ssh, run

    port = free_port()
    env, remote = sshd.env(PODSPEC_PROJECT="remote"), over_ssh(sshd, podman)
    manifest = write(tmp_path, server("farweb", "one", port))
    assert run(env, "apply", manifest, "--revision", "one", "--wait", "--timeout", "30", *remote).returncode == 0
    write(tmp_path, server("farweb", "two", port))
    assert run(env, "apply", manifest, "--revision", "two", *remote).returncode == 0
    fetch(f"http://127.0.0.1:{port}/", until=lambda body: "two" in body)
    back = run(env, "rollback", "--wait", "--timeout", "30", *remote)
    assert back.returncode == 0, back.stderr
    assert "Rolled back to #1 (revision one)" in back.stdout
    fetch(f"http://127.0.0.1:{port}/", until=lambda body: "one" in body)
    write(tmp_path, server("farweb", "bad", port, broken=True))
    failed = run(env, "apply", manifest, "--wait", "--timeout", "5", "--rollback-on-failure", *remote)
    assert failed.returncode == 1 and "restored farweb" in failed.stderr
    fetch(f"http://127.0.0.1:{port}/", until=lambda body: "one" in body)
    history = json.loads(run(env, "history", "-o", "json", *remote).stdout)["records"]
    assert [r["outcome"] for r in history[:2]] == ["rolled-back", "failed"]


SERVICE = """\
---
apiVersion: v1
kind: Service
metadata:
  name: api
spec:
  selector: {app: svcweb}
  ports:
    - {port: 8080, targetPort: 8080}
"""


def test_a_rollback_keeps_the_projects_services_and_names(podman, tmp_path):
    from tests.conftest import fetch, free_port

    port = free_port()
    good = server("svcweb", "good", port) + "---\n" + sleeper("svcfriend") + SERVICE
    manifest = write(tmp_path, good)
    assert podspec(podman, "apply", manifest, "--wait", "--timeout", "30").exit_code == 0
    write(tmp_path, server("svcweb", "bad", port, broken=True) + "---\n" + sleeper("svcfriend") + SERVICE)
    failed = podspec(podman, "apply", manifest, "--wait", "--timeout", "5", "--rollback-on-failure")
    assert failed.exit_code == 1 and "restored svcweb" in failed.stderr
    fetch(f"http://127.0.0.1:{port}/", until=lambda body: "good" in body)
    seen = podman.podman("exec", "svcfriend-main", "wget", "-q", "-O", "-", "http://api:8080/").stdout
    assert "good" in seen  # the Service name reaches the pod put back
    write(tmp_path, good)
    again = podspec(podman, "diff", manifest)
    assert again.exit_code == 0, again.output  # the host is exactly the good revision: names and network too
