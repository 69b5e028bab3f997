"""`podspec sync` against the private Podman and real git repositories made in the test."""

from __future__ import annotations

import json
import signal
import subprocess
import urllib.request

import pytest

from tests.conftest import free_port
from tests.integration.manifests import PROJECT, podspec, sleeper
from tests.integration.sync_helpers import Agent, Repo, containers, ids, once, running, wait_until

pytestmark = pytest.mark.podman

BROKEN = """\
apiVersion: v1
kind: Pod
metadata:
  name: broken
spec:
  containers:
    - name: main
      image: docker.io/library/busybox:latest
      comand: ["sleep", "1"]
"""

PRIVILEGED = """\
apiVersion: v1
kind: Pod
metadata:
  name: escalates
spec:
  containers:
    - name: main
      image: docker.io/library/busybox:latest
      command: ["sleep", "100000"]
      securityContext:
        privileged: true
"""


def job(name: str, policy: str, script: str) -> str:
    return f"""\
apiVersion: v1
kind: Pod
metadata:
  name: {name}
spec:
  restartPolicy: {policy}
  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: docker.io/library/busybox:latest
      imagePullPolicy: IfNotPresent
      command: ["sh", "-c", {json.dumps(script)}]
"""


def state_of(state_dir) -> dict:
    return json.loads((state_dir / PROJECT / "agent.json").read_text())


def history(podman) -> list[dict]:
    """The host's apply history (`podspec history`), oldest first."""
    shown = podspec(podman, "history", "-o", "json")
    assert shown.exit_code == 0, shown.stderr
    return list(reversed(json.loads(shown.output)["records"]))


def test_once_applies_refuses_a_bad_commit_then_applies_the_next_good_one(podman, tmp_path):
    repo, state = Repo(tmp_path / "repo"), tmp_path / "state"
    first = repo.commit({"a.yaml": sleeper("alpha")}, "alpha")
    done = once(podman, repo, state)
    assert done.returncode == 0, done.stderr
    assert containers(podman) == ["alpha-main"]
    assert state_of(state)["applied"] == first

    bad = repo.commit({"a.yaml": sleeper("alpha"), "b.yaml": BROKEN}, "a typo")
    done = once(podman, repo, state)
    assert done.returncode == 1
    assert "comand" in done.stderr and "invalid" in done.stderr
    assert containers(podman) == ["alpha-main"]
    saved = state_of(state)
    assert saved["applied"] == first and saved["refused"] == bad and "comand" in saved["last_error"]
    last = history(podman)[-1]
    assert (last["outcome"], last["revision"]) == ("invalid", bad) and "comand" in last["error"]

    # The policy refuses too: still nothing reaches the host.
    escalates = repo.commit({"a.yaml": sleeper("alpha"), "c.yaml": PRIVILEGED}, "privileged")
    done = once(podman, repo, state)
    assert done.returncode == 1
    assert "privileged" in done.stderr
    assert containers(podman) == ["alpha-main"]
    assert state_of(state)["refused"] == escalates

    good = repo.commit({"a.yaml": sleeper("alpha"), "b.yaml": sleeper("beta")}, "beta")
    done = once(podman, repo, state)
    assert done.returncode == 0, done.stderr
    assert containers(podman) == ["alpha-main", "beta-main"]
    saved = state_of(state)
    assert saved["applied"] == good and saved["last_error"] is None
    assert [(r["outcome"], r["revision"]) for r in history(podman)] == [
        ("applied", first), ("invalid", bad), ("invalid", escalates), ("applied", good)]

    status = podspec(podman, "status", "--state-dir", str(state))
    assert status.exit_code == 0, status.stderr
    assert f"applied:       {good[:12]}" in status.output
    assert f"source:        {repo.path}  branch main" in status.output
    shown = json.loads(podspec(podman, "status", "--state-dir", str(state), "-o", "json").output)
    assert shown["agents"][0]["applied"] == good and shown["agents"][0]["running"] is False


def test_loop_applies_each_commit_within_an_interval_and_stops_cleanly(podman, tmp_path):
    repo, state = Repo(tmp_path / "repo"), tmp_path / "state"
    port = free_port()
    first = repo.commit({"a.yaml": sleeper("alpha")}, "alpha")
    with Agent(podman, repo, state, "--interval", "1s", "--log-format", "json",
               "--metrics-address", f"127.0.0.1:{port}") as agent:
        wait_until(lambda: agent.agent_state().get("applied") == first, 60, "the first commit applied", agent)
        assert containers(podman) == ["alpha-main"]

        bad = repo.commit({"a.yaml": sleeper("alpha"), "b.yaml": BROKEN}, "a typo")
        wait_until(lambda: agent.agent_state().get("refused") == bad, 30, "the bad commit refused", agent)
        assert containers(podman) == ["alpha-main"]
        refusal = wait_until(lambda: [line for line in agent.lines() if line["event"] == "invalid"], 10, "logged", agent)
        assert refusal[0]["revision"] == bad[:12] and "comand" in refusal[0]["message"]

        good = repo.commit({"a.yaml": sleeper("alpha"), "b.yaml": sleeper("beta")}, "beta")
        wait_until(lambda: agent.agent_state().get("applied") == good, 30, "the next good commit applied", agent)
        assert containers(podman) == ["alpha-main", "beta-main"]

        metrics = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
        assert f'podspec_sync_applied_revision{{branch="main",project="{PROJECT}",revision="{good}"}} 1.0' in metrics
        assert f'podspec_sync_failures_total{{kind="invalid",project="{PROJECT}"}} 1.0' in metrics
        assert urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5).read() == b"ok\n"

        agent.signal(signal.SIGTERM)
        assert agent.stop() == 0
        assert agent.lines()[-1]["event"] == "stopped"
        assert agent.agent_state()["running"] is False


def test_self_heal_brings_back_a_container_removed_by_hand(podman, tmp_path):
    repo, state = Repo(tmp_path / "repo"), tmp_path / "state"
    # beta is a pod of its own so that its removal is its first death: alpha's three by hand within a
    # minute would be a crash loop (reconcile/sync.py's CrashRule), and its repair held back.
    first = repo.commit({"a.yaml": sleeper("alpha"), "b.yaml": sleeper("beta"), "j.yaml": job("job", "Never", "exit 0")},
                        "alpha")
    with Agent(podman, repo, state, "--interval", "1h", "--self-heal") as agent:
        wait_until(lambda: agent.agent_state().get("applied") == first, 60, "the commit applied", agent)
        wait_until(lambda: not running(podman, "job-main"), 30, "the job finished", agent)
        wait_until(lambda: running(podman, "beta-main"), 30, "beta running", agent)
        before = ids(podman)

        podman.podman("rm", "-f", "-t", "0", "alpha-main")
        wait_until(lambda: running(podman, "alpha-main"), 5, "the removed container back", agent)
        after = ids(podman)
        assert after["alpha-main"] != before["alpha-main"]
        # The event named alpha: only alpha was read and repaired, every other container is the same one.
        assert {k: v for k, v in after.items() if k != "alpha-main"} == {k: v for k, v in before.items() if k != "alpha-main"}
        wait_until(lambda: " repaired " in agent.log(), 5, "the repair logged", agent)
        assert "why=event" in agent.log() and "pods=alpha" in agent.log()
        assert "pods=job" not in agent.log()  # a finished Never job is not drift

        podman.podman("stop", "-t", "0", "alpha-main")
        wait_until(lambda: running(podman, "alpha-main"), 5, "the stopped container started", agent)

        # The whole pod, by hand, in one command: a `pod stop` first would have the agent start the
        # stopped pod while `pod rm` removes it, and Podman 4.3 can then keep an empty pod of that
        # name, which no later create can take (seen once in CI).
        podman.podman("pod", "rm", "-f", "-t", "0", "beta")
        wait_until(lambda: running(podman, "beta-main"), 5, "the removed pod back", agent)
        assert " crash-loop " not in agent.log()
        assert agent.stop() == 0


def test_a_lost_event_stream_is_connected_again_and_the_whole_host_read(podman, tmp_path):
    import sandbox

    repo, state = Repo(tmp_path / "repo"), tmp_path / "state"
    first = repo.commit({"a.yaml": sleeper("alpha")}, "alpha")
    with Agent(podman, repo, state, "--interval", "1h", "--self-heal") as agent:
        wait_until(lambda: agent.agent_state().get("applied") == first, 60, "the commit applied", agent)
        wait_until(lambda: running(podman, "alpha-main"), 30, "alpha running", agent)
        sandbox.stop_service(podman.state)  # the event stream ends
        wait_until(lambda: " events-lost " in agent.log(), 30, "the lost stream logged", agent)
        podman.podman("rm", "-f", "-t", "0", "alpha-main")  # while no stream is there to tell of it
        sandbox.start_service(podman.state)
        # No round is due for an hour: the stream connected again (with backoff) is followed by a whole read.
        wait_until(lambda: running(podman, "alpha-main"), 60, "the container back after the reconnection", agent)
        wait_until(lambda: " repaired " in agent.log(), 10, "the repair logged", agent)
        assert agent.stop() == 0


def test_a_crash_looping_container_is_backed_off_and_reported(podman, tmp_path):
    repo, state = Repo(tmp_path / "repo"), tmp_path / "state"
    port = free_port()
    # It fails at once, within a second of each start (the agent's start step, Podman's restart
    # policy's restarts): a death of a container the agent only started is its own, and counts
    # (the agent's are those of containers its steps stopped, removed or restarted: caused_by_us).
    repo.commit({"a.yaml": job("crasher", "Always", "sleep 1; exit 3")}, "crash")
    with Agent(podman, repo, state, "--interval", "1h", "--self-heal", "--metrics-address", f"127.0.0.1:{port}") as agent:
        wait_until(lambda: " crash-loop " in agent.log(), 60, "the crash loop reported", agent)
        wait_until(lambda: "crasher" in agent.agent_state().get("crash_loops", {}), 10, "the crash loop in the state", agent)
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
        assert f'podspec_sync_crash_looping_pods{{project="{PROJECT}"}} 1.0' in metrics

        # Held back: the agent does not repair it now, even when it is removed...
        podman.podman("rm", "-f", "-t", "0", "crasher-main")
        wait_until(lambda: " held-back " in agent.log(), 10, "the repair held back", agent)
        assert "crasher-main" not in containers(podman)
        status = podspec(podman, "status", "--state-dir", str(state))
        assert "crash loop: pod crasher held back until" in status.output
        # ...and tries again when the hold ends.
        wait_until(lambda: "crasher-main" in containers(podman), 60, "the repair after the hold", agent)
        assert " crash-loop-retry " in agent.log()
        assert agent.stop() == 0


def test_the_agents_own_replacements_are_no_crash_loop(podman, tmp_path):
    """Commits that make the agent replace a running container three times (a new command: the old
    container removed, killed with 137), then the whole pod twice (new pod labels: the pod stopped
    and removed, its containers and infra container killed): the deaths its own steps caused are no
    failures, however many in a minute; a container removed by hand after them is repaired at once."""
    repo, state = Repo(tmp_path / "repo"), tmp_path / "state"
    first = repo.commit({"a.yaml": sleeper("alpha")}, "alpha")
    with Agent(podman, repo, state, "--interval", "1s", "--self-heal") as agent:
        wait_until(lambda: agent.agent_state().get("applied") == first, 60, "the first commit applied", agent)
        wait_until(lambda: running(podman, "alpha-main"), 30, "alpha running", agent)
        changes = [sleeper("alpha").replace("100000", str(100001 + i)) for i in range(3)]
        changes += [sleeper("alpha").replace("  name: alpha\n", f"  name: alpha\n  labels: {{round: r{i}}}\n")
                    for i in range(2)]
        for text in changes:
            before = ids(podman)["alpha-main"]
            head = repo.commit({"a.yaml": text}, "replace")
            wait_until(lambda head=head: agent.agent_state().get("applied") == head, 60, "the commit applied", agent)
            wait_until(lambda before=before: running(podman, "alpha-main") and ids(podman)["alpha-main"] != before, 30,
                       "alpha replaced and running", agent)
        repairs = agent.log().count(" repaired ")
        podman.podman("rm", "-f", "-t", "0", "alpha-main")  # events come in order: this one is taken in after those
        wait_until(lambda: agent.log().count(" repaired ") > repairs and running(podman, "alpha-main"), 30,
                   "the repair", agent)
        assert " crash-loop " not in agent.log() and " held-back " not in agent.log()
        assert agent.stop() == 0


def test_sigkill_mid_apply_then_a_restart_converges_without_duplicates(podman, tmp_path):
    repo, state = Repo(tmp_path / "repo"), tmp_path / "state"
    pods = {f"p{i}.yaml": sleeper(f"pod{i}") for i in range(6)}
    head = repo.commit(pods, "six pods")
    with Agent(podman, repo, state, "--interval", "1h", "--parallel", "1") as agent:
        wait_until(lambda: "step-done" in agent.log(), 60, "a step done", agent)
        agent.kill()
    assert state_of(state).get("applied") is None  # killed before the revision was recorded
    done = once(podman, repo, state)
    assert done.returncode == 0, done.stderr
    assert containers(podman) == sorted(f"pod{i}-main" for i in range(6))
    pods_listed = podman.podman("pod", "ps", "--format", "{{.Name}}").stdout.split()
    assert sorted(pods_listed) == [f"pod{i}" for i in range(6)]
    assert state_of(state)["applied"] == head
    again = once(podman, repo, state)
    assert again.returncode == 0 and "step-" not in again.stderr


def test_sigterm_mid_apply_finishes_the_step_in_progress_releases_the_lock_and_exits_0(podman, tmp_path):
    from podspec.engine.podman import connect
    from podspec.run.lock import project_lock

    repo, state = Repo(tmp_path / "repo"), tmp_path / "state"
    head = repo.commit({f"p{i}.yaml": sleeper(f"pod{i}") for i in range(4)}, "four pods")
    with Agent(podman, repo, state, "--interval", "1h", "--parallel", "1", "--log-format", "json") as agent:
        wait_until(lambda: any(line["event"] == "step-started" for line in agent.lines()), 60, "a step started", agent)
        agent.signal(signal.SIGTERM)
        assert agent.stop() == 0
        lines = agent.lines()
    events = [line["event"] for line in lines]
    assert events[-2:] == ["interrupted", "stopped"]
    started = [line["step"] for line in lines if line["event"] == "step-started"]
    done = [line["step"] for line in lines if line["event"] == "step-done"]
    refused = [line for line in lines if line["event"] == "step-failed"]
    assert len(refused) == 1 and "asked to stop" in refused[0]["error"]  # never sent to Podman
    assert started == [*done, refused[0]["step"]] and len(done) < 12  # the step in progress finished
    assert state_of(state)["applied"] is None and state_of(state)["running"] is False
    with connect(podman.url) as engine, project_lock(engine.lock_key, PROJECT, timeout=0.5):
        pass  # released

    again = once(podman, repo, state)  # the next start applies the rest
    assert again.returncode == 0, again.stderr
    assert containers(podman) == sorted(f"pod{i}-main" for i in range(4))
    assert state_of(state)["applied"] == head


def test_force_push_to_an_older_commit_is_refused(podman, tmp_path):
    repo, state = Repo(tmp_path / "repo"), tmp_path / "state"
    old = repo.commit({"a.yaml": sleeper("alpha")}, "alpha")
    new = repo.commit({"a.yaml": sleeper("alpha"), "b.yaml": sleeper("beta")}, "beta")
    assert once(podman, repo, state).returncode == 0
    repo.git("reset", "--hard", "--quiet", old)  # what a force-push leaves on the remote
    done = once(podman, repo, state)
    assert done.returncode == 1
    assert "rewind" in done.stderr and "--allow-rewind" in done.stderr
    assert containers(podman) == ["alpha-main", "beta-main"]
    assert state_of(state)["applied"] == new

    done = once(podman, repo, state, "--allow-rewind", "--prune")
    assert done.returncode == 0, done.stderr
    assert containers(podman) == ["alpha-main"]
    assert state_of(state)["applied"] == old


def test_signed_commits_are_applied_and_an_unsigned_one_refused(podman, tmp_path):
    repo, state = Repo(tmp_path / "repo"), tmp_path / "state"
    key = tmp_path / "signing"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "release", "-f", str(key)], check=True)
    stranger = tmp_path / "stranger"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "stranger", "-f", str(stranger)], check=True)
    signers = tmp_path / "allowed_signers"
    signers.write_text("test@example.com " + (tmp_path / "signing.pub").read_text())

    def signed_commit(files: dict[str, str], message: str, key=key) -> str:
        return repo.commit(files, message, ("-c", "gpg.format=ssh", "-c", f"user.signingkey={key}"), sign=True)

    first = signed_commit({"a.yaml": sleeper("alpha")}, "alpha")
    verify = ("--verify-signatures", "--allowed-signers", str(signers))
    done = once(podman, repo, state, *verify)
    assert done.returncode == 0, done.stderr
    assert state_of(state)["applied"] == first

    unsigned = repo.commit({"a.yaml": sleeper("alpha"), "b.yaml": sleeper("beta")}, "unsigned")
    done = once(podman, repo, state, *verify)
    assert done.returncode == 1
    assert "unsigned" in done.stderr and unsigned[:12] in done.stderr
    assert containers(podman) == ["alpha-main"]

    by_stranger = signed_commit({"a.yaml": sleeper("alpha"), "b.yaml": sleeper("beta")}, "stranger",
                                key=stranger)
    done = once(podman, repo, state, *verify)
    assert done.returncode == 1 and by_stranger[:12] in done.stderr
    assert containers(podman) == ["alpha-main"]

    second = signed_commit({"a.yaml": sleeper("alpha"), "b.yaml": sleeper("beta")}, "beta")
    done = once(podman, repo, state, *verify)
    assert done.returncode == 0, done.stderr
    assert containers(podman) == ["alpha-main", "beta-main"]
    assert state_of(state)["applied"] == second


def test_a_failed_fetch_and_a_failed_apply_are_retried_with_backoff(podman, tmp_path):
    repo, state = Repo(tmp_path / "repo"), tmp_path / "state"
    head = repo.commit({"a.yaml": sleeper("alpha")}, "alpha")
    away = tmp_path / "moved"
    repo.path.rename(away)  # the source cannot be fetched
    podman.podman("pod", "create", "--name", "alpha")  # and a pod podspec did not make stands in the way
    with Agent(podman, repo, state, "--interval", "1h") as agent:
        wait_until(lambda: "retry_in=10s" in agent.log(), 30, "a second fetch failure", agent)
        fetches = [line for line in agent.log().splitlines() if " error fetch " in line]
        assert "retry_in=5s" in fetches[0] and "retry_in=10s" in fetches[1]
        saved = agent.agent_state()
        assert saved["failures"] >= 2 and "fetch" in saved["last_error"] and saved["applied"] is None
        status = podspec(podman, "status", "--state-dir", str(state))
        assert "last error: git could not fetch" in status.output

        away.rename(repo.path)
        wait_until(lambda: " error apply " in agent.log(), 30, "the apply refused by the conflict", agent)
        assert "not this project's" in agent.log()
        podman.podman("pod", "rm", "-f", "alpha")
        wait_until(lambda: agent.agent_state().get("applied") == head, 60, "the retried apply", agent)
        assert containers(podman) == ["alpha-main"]
        assert len([line for line in agent.log().splitlines() if " error " in line]) <= 5  # no hot loop
        wait_until(lambda: agent.agent_state()["failures"] == 0, 10, "the failure count reset", agent)
        assert agent.stop() == 0


def test_sighup_syncs_now(podman, tmp_path):
    repo, state = Repo(tmp_path / "repo"), tmp_path / "state"
    first = repo.commit({"a.yaml": sleeper("alpha")}, "alpha")
    with Agent(podman, repo, state, "--interval", "1h") as agent:
        wait_until(lambda: agent.agent_state().get("applied") == first, 60, "the first commit applied", agent)
        second = repo.commit({"a.yaml": sleeper("alpha"), "b.yaml": sleeper("beta")}, "beta")
        agent.signal(signal.SIGHUP)
        wait_until(lambda: agent.agent_state().get("applied") == second, 30, "the commit applied on SIGHUP", agent)
        assert agent.stop() == 0


def test_the_agent_waits_for_the_apply_lock_like_any_apply(podman, tmp_path):
    from podspec.engine.podman import connect
    from podspec.run.lock import project_lock

    repo, state = Repo(tmp_path / "repo"), tmp_path / "state"
    head = repo.commit({"a.yaml": sleeper("alpha")}, "alpha")
    with connect(podman.url) as engine:
        key = engine.lock_key
    with Agent(podman, repo, state, "--interval", "1s") as agent:
        with project_lock(key, PROJECT, timeout=5):  # another apply of the project runs
            wait_until(lambda: "waiting for another podspec" in agent.log(), 30, "the agent waiting", agent)
            assert containers(podman) == []
        wait_until(lambda: agent.agent_state().get("applied") == head, 60, "the apply after the lock", agent)
        # A manual apply of the same files while the agent runs: nothing to do, no clash.
        manual = podspec(podman, "apply", str(state / PROJECT / "checkouts" / head / "manifests"))
        assert manual.exit_code == 0 and "Nothing to do." in manual.output
        assert agent.stop() == 0


def test_a_gpg_keyring_is_a_trust_source_too(podman, tmp_path):
    repo, state = Repo(tmp_path / "repo"), tmp_path / "state"
    signer, trusted = tmp_path / "signer-gnupg", tmp_path / "trusted-gnupg"
    for home in (signer, trusted):
        home.mkdir(mode=0o700)
    gpg = lambda home, *args, **kw: subprocess.run(["gpg", "--homedir", str(home), "--batch", *args],
                                                   capture_output=True, check=True, **kw)
    gpg(signer, "--passphrase", "", "--quick-gen-key", "Release <test@example.com>", "ed25519", "sign", "never")
    gpg(trusted, "--import", input=gpg(signer, "--export", "test@example.com").stdout)  # the public key only

    config = ("-c", "gpg.format=openpgp", "-c", "user.signingkey=test@example.com", "-c", f"gpg.program={tmp_path / 'gpg'}")
    (tmp_path / "gpg").write_text(f'#!/bin/sh\nexec gpg --homedir "{signer}" "$@"\n')
    (tmp_path / "gpg").chmod(0o755)
    first = repo.commit({"a.yaml": sleeper("alpha")}, "alpha", config, sign=True)
    verify = ("--verify-signatures", "--gpg-home", str(trusted))
    done = once(podman, repo, state, *verify)
    assert done.returncode == 0, done.stderr
    assert state_of(state)["applied"] == first

    unsigned = repo.commit({"a.yaml": sleeper("alpha"), "b.yaml": sleeper("beta")}, "unsigned")
    done = once(podman, repo, state, *verify)
    assert done.returncode == 1 and unsigned[:12] in done.stderr
    assert containers(podman) == ["alpha-main"]


def test_two_agents_on_one_project_take_turns_and_converge(podman, tmp_path):
    repo = Repo(tmp_path / "repo")
    head = repo.commit({f"p{i}.yaml": sleeper(f"pod{i}") for i in range(3)}, "three pods")
    with Agent(podman, repo, tmp_path / "state-a", "--interval", "1s") as first, \
            Agent(podman, repo, tmp_path / "state-b", "--interval", "1s") as second:
        for agent in (first, second):
            wait_until(lambda agent=agent: agent.agent_state().get("applied") == head, 60, "the commit applied", agent)
        assert first.stop() == 0 and second.stop() == 0
        logs = first.log() + second.log()
    assert " error " not in logs
    assert containers(podman) == sorted(f"pod{i}-main" for i in range(3))
    pods = podman.podman("pod", "ps", "--format", "{{.Name}}").stdout.split()
    assert sorted(pods) == [f"pod{i}" for i in range(3)]
    # each step made once, by one agent or the other: three pods of three steps, the project network and
    # its names record
    assert logs.count("step-done") == 3 * 3 + 2


def test_a_commit_with_a_link_out_of_the_repository_is_refused(podman, tmp_path):
    repo, state = Repo(tmp_path / "repo"), tmp_path / "state"
    first = repo.commit({"a.yaml": sleeper("alpha")}, "alpha")
    assert once(podman, repo, state).returncode == 0
    (repo.path / "manifests" / "b.yaml").symlink_to("/etc/passwd")
    repo.git("add", "-A")
    repo.git("commit", "--quiet", "-m", "a link out")
    bad = repo.head()
    done = once(podman, repo, state)
    assert done.returncode == 1
    assert "holds a symbolic link: manifests/b.yaml" in done.stderr
    assert state_of(state)["applied"] == first and state_of(state)["refused"] == bad
    assert history(podman)[-1]["outcome"] == "invalid"
    assert not (state / PROJECT / "checkouts" / bad).exists()


def test_the_round_of_every_interval_repairs_drift_that_no_event_reported(podman, tmp_path):
    repo, state = Repo(tmp_path / "repo"), tmp_path / "state"
    first = repo.commit({"a.yaml": sleeper("alpha")}, "alpha")
    with Agent(podman, repo, state, "--interval", "2s") as agent:  # no --self-heal: no event stream at all
        wait_until(lambda: agent.agent_state().get("applied") == first, 60, "the commit applied", agent)
        podman.podman("rm", "-f", "-t", "0", "alpha-main")
        wait_until(lambda: running(podman, "alpha-main"), 30, "the container back after a round", agent)
        wait_until(lambda: " repaired " in agent.log(), 10, "the repair logged", agent)
        assert "why=interval" in agent.log()
        assert agent.agent_state()["drift_repairs"] == 1
        assert agent.stop() == 0
