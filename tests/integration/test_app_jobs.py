"""A second whole application, kept in git and applied by the pull agent as a host would run it:
examples/jobs (a work queue on a claim, a worker Deployment that takes orders off it by the
Service name, a Job that puts orders on it, a ConfigMap, a SOPS-encrypted Secret, probes) on a real
Podman (both engines), commit after commit through `podspec sync --once` with notifications:
the orders done, a ConfigMap change that replaces only the worker, a prune that keeps the worker's
results volume, and the worker back on its old results."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.hooks import HookReceiver, serve
from tests.integration.manifests import PROJECT, podspec
from tests.integration.sync_helpers import Repo, once, running, wait_until
from tests.sopskit import age_key, encrypt

pytestmark = pytest.mark.podman

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "jobs"
TOKEN = "q-T0ken-5Rv8m"  # the Secret's value: looked for where it must not be


class Jobs:
    def __init__(self, podman, tmp: Path) -> None:
        self.podman = podman
        self.key = age_key(tmp, "host.key")
        self.files = {p.relative_to(EXAMPLE).as_posix(): p.read_text() for p in sorted(EXAMPLE.rglob("*.yaml"))}
        secret = "secrets/queue-token.yaml"
        self.files[secret] = encrypt(self.files[secret].replace("change-me-before-encrypting", TOKEN), self.key)
        self.repo = Repo(tmp / "repo")
        self.state = tmp / "state"
        self.recorder = HookReceiver()
        self.server, self.url = serve(self.recorder)

    def commit(self, message: str, **changes: str | None) -> str:
        """Commit the example with `changes` (file -> text, None: the file removed)."""
        files = {**self.files, **{k.replace("__", "/"): v for k, v in changes.items()}}
        files = {k: v for k, v in files.items() if v is not None}
        manifests = self.repo.path / "manifests"
        if manifests.exists():
            self.repo.git("rm", "-r", "--quiet", "manifests")
        for name, text in files.items():
            (manifests / name).parent.mkdir(parents=True, exist_ok=True)
            (manifests / name).write_text(text)
        self.repo.git("add", "-A")
        self.repo.git("commit", "--quiet", "-m", message)
        return self.repo.head()

    def sync(self, *args: str):
        done = once(self.podman, self.repo, self.state, "--age-key-file", str(self.key.file), "--notify", self.url, *args)
        assert done.returncode == 0, done.stdout + done.stderr
        assert TOKEN not in done.stdout + done.stderr
        return done

    def told(self, revision: str) -> dict:
        """The notification of the round that applied `revision`."""
        found = self.recorder.wait_for(lambda r: [e for e in r.events() if e["revision"] == revision], 30,
                                       f"the notification of {revision[:8]}")
        return found[-1]

    def worker(self) -> str:
        """The worker's container, under whichever name its copy runs (a rollout surges it to
        `worker-pod-b` and back)."""
        return next((n for n in ("worker-pod-worker", "worker-pod-b-worker") if running(self.podman, n)), "")

    def done(self) -> list[str]:
        out = self.podman.podman("exec", self.worker(), "cat", "/results/done", check=False).stdout
        return out.splitlines()

    def ids(self) -> dict[str, str]:
        out = self.podman.podman("ps", "-a", "--format", "{{.Names}}|{{.ID}}|{{.PodName}}|{{.IsInfra}}").stdout
        rows = [line.split("|") for line in out.splitlines() if line.strip()]
        return {f"{pod}/infra" if infra == "true" else name: cid for name, cid, pod, infra in rows if pod}


@pytest.fixture(scope="module")
def jobs(podman_sandbox, tmp_path_factory):
    app = Jobs(podman_sandbox, tmp_path_factory.mktemp("jobs"))
    yield app
    app.server.shutdown()
    podman_sandbox.purge()
    podman_sandbox.podman("secret", "rm", "--all", check=False)


def test_the_agent_applies_the_first_commit_and_the_worker_does_the_jobs_orders(jobs):
    first = jobs.commit("the queue, its worker, the day's orders")
    jobs.sync()
    event = jobs.told(first)
    assert (event["event"], event["outcome"]) == ("applied", "applied")
    assert {"queue", "worker-pod", "enqueue-pod"} <= set(event["pods"])
    # the Job reached the queue by its Service name, the worker took every order off it
    wait_until(lambda: sorted(jobs.done()) == ["ORDER-1", "ORDER-2", "ORDER-3"], 60, "the three orders done")
    assert jobs.podman.podman("inspect", "--format", "{{.State.ExitCode}}", "enqueue-pod-enqueue").stdout.strip() == "0"
    checked = podspec(jobs.podman, "diff", str(jobs.repo.path / "manifests"), "--age-key-file", str(jobs.key.file))
    assert checked.exit_code == 0, checked.output + checked.stderr


def test_a_configmap_change_replaces_the_worker_alone_and_its_results_stay(jobs):
    before = jobs.ids()
    second = jobs.commit("orders as they are", **{"worker.yaml": jobs.files["worker.yaml"].replace("MODE: upper", "MODE: as-is")})
    jobs.sync()
    assert jobs.told(second)["outcome"] == "applied"
    after = jobs.ids()
    untouched = {n for n in before if not n.startswith("worker-pod")}
    assert {n: after.get(n) for n in untouched} == {n: before[n] for n in untouched}, "the queue and the Job untouched"
    assert jobs.worker() == "worker-pod-b-worker" and "worker-pod-worker" not in after, "the worker's copy was replaced"
    pushed = jobs.podman.podman("exec", "queue-queue", "sh", "-c",
                                "printf 'AUTH %s\\nPUSH order-4\\nQUIT\\n' \"$(cat /run/secrets/queue/token)\" | nc 127.0.0.1 7000")
    assert pushed.stdout.split() == ["+OK", "+OK"], pushed.stdout
    wait_until(lambda: "order-4" in jobs.done(), 60, "order-4 done as it is")
    assert sorted(jobs.done()) == ["ORDER-1", "ORDER-2", "ORDER-3", "order-4"], "the Job did not run again"


def test_a_pruned_worker_keeps_its_results_and_finds_them_when_it_comes_back(jobs):
    third = jobs.commit("no worker for now", **{"worker.yaml": None})
    jobs.sync("--prune")
    assert jobs.told(third)["outcome"] == "applied"
    assert jobs.worker() == ""
    assert not [n for n in jobs.ids() if n.startswith("worker-pod")], "the worker's pod is pruned"
    assert jobs.podman.podman("volume", "exists", "results", check=False).returncode == 0, "the claim's volume is kept"
    assert running(jobs.podman, "queue-queue")

    fourth = jobs.commit("the worker is back")
    jobs.sync("--prune")
    assert jobs.told(fourth)["outcome"] == "applied"
    wait_until(jobs.worker, 60, "the worker back")
    assert sorted(jobs.done()) == ["ORDER-1", "ORDER-2", "ORDER-3", "order-4"]
    status = podspec(jobs.podman, "status", "-o", "json", project=PROJECT)
    assert status.exit_code == 0 and TOKEN not in status.output
