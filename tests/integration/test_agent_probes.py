"""The agent runs the pods' probes: a hung container is restarted after its liveness probe failed
failureThreshold times (counted in status and the metrics); readiness never restarts; a stopped pod
is left alone; a finished init container and the agent's own replacements are no crash loop."""

from __future__ import annotations

import json
import re
import time
import urllib.request

from tests.conftest import free_port
from tests.integration.manifests import PROJECT, podspec, webserver
from tests.integration.sync_helpers import Agent, Repo, running, wait_until

HUNG = """\
apiVersion: v1
kind: Pod
metadata:
  name: hung
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: web
      image: docker.io/library/busybox:latest
      imagePullPolicy: IfNotPresent
      # PID 1 is the shell, so the server (its child) can be frozen from inside: a hang, not a crash.
      command: ["sh", "-c", "mkdir -p /www && echo ok > /www/index.html && httpd -f -p 8080 -h /www & wait"]
      livenessProbe:
        httpGet: {path: /index.html, port: 8080}
        periodSeconds: 1
        timeoutSeconds: 1
        failureThreshold: 3
    - name: gate
      image: docker.io/library/busybox:latest
      imagePullPolicy: IfNotPresent
      command: ["sleep", "100000"]
      readinessProbe:
        exec: {command: ["test", "-f", "/tmp/ready"]}
        periodSeconds: 1
"""


def started_at(podman, name: str) -> str:
    return podman.podman("inspect", "--format", "{{.State.StartedAt}}", name).stdout.strip()


def test_the_agent_restarts_a_hung_container_and_counts_it(podman, tmp_path):
    repo, state = Repo(tmp_path / "repo"), tmp_path / "state"
    port = free_port()
    head = repo.commit({"hung.yaml": HUNG}, "hung")
    with Agent(podman, repo, state, "--interval", "1h", "--self-heal", "--metrics-address", f"127.0.0.1:{port}") as agent:
        wait_until(lambda: agent.agent_state().get("applied") == head, 60, "the commit applied", agent)
        wait_until(lambda: running(podman, "hung-web"), 30, "the server running", agent)
        first_id = podman.podman("inspect", "--format", "{{.Id}}", "hung-web").stdout.strip()
        before = started_at(podman, "hung-web")
        hung = time.monotonic()
        podman.podman("exec", "hung-web", "sh", "-c", "kill -STOP $(pidof httpd)")
        wait_until(lambda: started_at(podman, "hung-web") != before, 30, "the hung container restarted", agent)
        restarted = time.monotonic() - hung
        print(f"\nhang -> restart by the agent: {restarted:.1f}s (periodSeconds 1, timeoutSeconds 1, failureThreshold 3)")
        assert podman.podman("inspect", "--format", "{{.Id}}", "hung-web").stdout.strip() == first_id  # restarted, not replaced
        wait_until(lambda: " probe-restart " in agent.log(), 5, "the restart logged", agent)
        assert "liveness probe httpGet :8080/index.html failed 3 times in a row" in agent.log()

        # Counted: status and the metrics.
        status = json.loads(podspec(podman, "status", "-o", "json").output)
        web = next(c for p in status["pods"] for c in p["containers"] if c["name"] == "hung-web")
        assert web["restarts"] == 1
        assert "restarts=1" in podspec(podman, "status").output
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
        assert re.search(r'podspec_sync_probe_restarts_total\{container="hung-web",pod="hung",probe="liveness",'
                         rf'project="{PROJECT}"\}} 1\.0', metrics), metrics

        # The gate's readiness probe fails all along: never a restart.
        assert [line for line in agent.log().splitlines() if " probe-restart " in line and "hung-gate" in line] == []
        assert podman.podman("inspect", "--format", "{{.RestartCount}}", "hung-gate").stdout.strip() == "0"
        # The restart is no crash loop, and no drift to repair.
        assert " crash-loop " not in agent.log()
        assert agent.stop() == 0
    names = podman.podman("ps", "-a", "--format", "{{.Names}}").stdout.split()
    assert not [n for n in names if n.startswith("podspec-probe-")]  # the agent removed its probe helper


PODMAN_CARRIES = """\
apiVersion: v1
kind: Pod
metadata:
  name: carried
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: docker.io/library/busybox:latest
      imagePullPolicy: IfNotPresent
      command: ["sh", "-c", "touch /tmp/alive && exec sleep 100000"]
      livenessProbe:  # an exec liveness probe: Podman's health check, with --health-on-failure=restart
        exec: {command: ["test", "-f", "/tmp/alive"]}
        periodSeconds: 3600
        failureThreshold: 2
"""


def test_podmans_own_health_restart_is_counted_like_the_agents(podman, tmp_path):
    """Where Podman carries the liveness probe (its health check timers; simulated here with
    `podman healthcheck run`, as no systemd runs), its restart is counted in status and the metrics."""
    repo, state = Repo(tmp_path / "repo"), tmp_path / "state"
    port = free_port()
    head = repo.commit({"carried.yaml": PODMAN_CARRIES}, "carried")
    with Agent(podman, repo, state, "--interval", "1h", "--self-heal", "--no-probes",
               "--metrics-address", f"127.0.0.1:{port}") as agent:
        wait_until(lambda: agent.agent_state().get("applied") == head, 60, "the commit applied", agent)
        wait_until(lambda: running(podman, "carried-main"), 30, "the container running", agent)
        before = started_at(podman, "carried-main")
        podman.podman("exec", "carried-main", "rm", "/tmp/alive")
        for _ in range(2):  # failureThreshold: the second failure makes Podman restart it
            podman.podman("healthcheck", "run", "carried-main", check=False)
        wait_until(lambda: started_at(podman, "carried-main") != before, 30, "Podman's restart", agent)
        wait_until(lambda: " podman-restart " in agent.log(), 10, "the restart seen by the agent", agent)
        wait_until(lambda: "restarts=1" in podspec(podman, "status").output, 10, "the restart counted on the host", agent)
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
        assert re.search(r'podspec_sync_probe_restarts_total\{container="carried-main",pod="carried",probe="liveness",'
                         rf'project="{PROJECT}"\}} 1\.0', metrics), metrics
        assert " repaired " not in agent.log()  # Podman started it again: nothing for the agent to repair
        assert agent.stop() == 0


def test_a_container_removed_right_after_an_apply_is_repaired_at_once(podman, tmp_path):
    """Issue 23's report: the init container's exit and the agent's own recreate were counted as
    deaths, and a container removed by hand just after an apply was held back 10 s as a crash loop."""
    repo, state = Repo(tmp_path / "repo"), tmp_path / "state"
    head = repo.commit({"web.yaml": webserver(free_port())}, "web")
    with Agent(podman, repo, state, "--interval", "1h", "--self-heal") as agent:
        wait_until(lambda: agent.agent_state().get("applied") == head, 60, "the commit applied", agent)
        wait_until(lambda: running(podman, "dynamic-webserver-apache-httpd"), 30, "the pod running", agent)
        for _ in range(2):  # twice: a third death within a minute would be a loop, were these counted
            podman.podman("rm", "-f", "-t", "0", "dynamic-webserver-apache-httpd")
            removed = time.monotonic()
            wait_until(lambda: running(podman, "dynamic-webserver-apache-httpd"), 5, "the container back", agent)
            print(f"\nremoved by hand -> running again: {time.monotonic() - removed:.1f}s")
        assert " held-back " not in agent.log() and " crash-loop " not in agent.log()
        assert agent.stop() == 0


def test_a_pod_stopped_on_purpose_is_left_stopped_by_the_agent(podman, tmp_path):
    repo, state = Repo(tmp_path / "repo"), tmp_path / "state"
    head = repo.commit({"web.yaml": webserver(free_port())}, "web")
    # --resync 1s: every round reads the whole host too (by default, with the stream connected, a
    # round trusts it and reads everything every 5 minutes).
    with Agent(podman, repo, state, "--interval", "2s", "--self-heal", "--resync", "1s") as agent:
        wait_until(lambda: agent.agent_state().get("applied") == head, 60, "the commit applied", agent)
        wait_until(lambda: running(podman, "dynamic-webserver-apache-httpd"), 30, "the pod running", agent)
        stop = podspec(podman, "stop", "dynamic-webserver")
        assert stop.exit_code == 0, stop.output + stop.stderr
        stopped = time.time()
        # The stop's events handled (debounced: 0.2 s; a repair of that pod) and two rounds of the
        # interval ended since (each a whole read and repair of drift): the pod is still stopped,
        # nothing was "repaired".
        wait_until(lambda: (agent.agent_state().get("last_fetch") or 0) > stopped + 2.5, 20, "two rounds after the stop", agent)
        assert not running(podman, "dynamic-webserver-apache-httpd"), agent.log()
        assert " repaired " not in agent.log()
        start = podspec(podman, "start", "dynamic-webserver")
        assert start.exit_code == 0, start.output + start.stderr
        # Started again: a container removed by hand is repaired as before, at once. The stop's
        # deaths (the infra container's and the two containers') were no failures: no crash loop,
        # nothing held back (the rule's first backoff is 10 s).
        podman.podman("rm", "-f", "-t", "0", "dynamic-webserver-apache-httpd")
        wait_until(lambda: running(podman, "dynamic-webserver-apache-httpd"), 10, "the container back", agent)
        assert " crash-loop " not in agent.log() and " held-back " not in agent.log()
        assert agent.stop() == 0
