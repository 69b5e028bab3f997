"""The agent at scale (issue 29) on the FakeEngine: a repair of the pods Podman's events named reads
and changes only those pods, through the apply workflow; a round trusts the event stream and reads
the whole host only every --resync. The same outcomes against real Podman: tests/integration/test_sync.py."""

from __future__ import annotations

import pytest

from podspec.engine.fake import FakeEngine
from podspec.plan import Step, StepKind
from podspec.reconcile.sync import Act, whole_read_due
from podspec.run.apply import ApplyRequest, DiffRequest, apply, diff
from podspec.run.manifests import Manifests
from podspec.run.results import Outcome

BUSYBOX = "docker.io/library/busybox:latest"


def pod(name: str, config: str = "settings") -> str:
    return f"""\
apiVersion: v1
kind: Pod
metadata:
  name: {name}
  labels: {{app: web}}
spec:
  containers:
    - name: main
      image: {BUSYBOX}
      imagePullPolicy: IfNotPresent
      command: ["sleep", "1000"]
      volumeMounts: [{{name: data, mountPath: /data}}, {{name: config, mountPath: /etc/app}}]
  volumes:
    - name: data
      persistentVolumeClaim: {{claimName: data-{name}}}
    - name: config
      secret: {{secretName: {config}}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data-{name}
"""


COMMON = """\
apiVersion: v1
kind: Secret
metadata:
  name: settings
stringData: {greeting: hello}
---
apiVersion: v1
kind: Secret
metadata:
  name: other
stringData: {greeting: hi}
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports: [{port: 80}]
"""


@pytest.fixture
def host(tmp_path):
    """Three pods applied; alpha alone reads Secret `other`. (engine, manifests)"""
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "common.yaml").write_text(COMMON)
    for name, config in (("alpha", "other"), ("beta", "settings"), ("gamma", "settings")):
        (tmp_path / "m" / f"{name}.yaml").write_text(pod(name, config))
    engine = FakeEngine(images=(BUSYBOX,))
    manifests = Manifests((str(tmp_path / "m"),))
    assert apply(ApplyRequest(manifests, "demo", revision="r1"), lambda: engine).outcome is Outcome.APPLIED
    return engine, manifests


def ids(engine: FakeEngine, but: str) -> dict[str, str]:
    """Container name -> ID of every container (infra ones too) of the pods other than `but`."""
    return {c.name: c.id for c in engine.observe().containers if c.pod_name != but}


def test_observe_of_some_pods_reads_their_containers_and_every_other_list(host):
    engine, _ = host
    whole = engine.observe()
    some = engine.observe(pods=("beta", "no-such-pod"))
    assert whole.scope is None and some.scope == frozenset({"beta", "no-such-pod"})
    assert [p.name for p in some.pods] == ["beta"]
    assert {c.name for c in some.containers} == {c.name for c in whole.containers if c.pod_name == "beta"}
    assert len(some.containers) == 2  # beta-main and beta's infra container
    assert (some.volumes, some.secrets, some.networks, some.images) == (whole.volumes, whole.secrets, whole.networks,
                                                                         whole.images)
    none = engine.observe(pods=())
    assert (none.pods, none.containers, none.volumes) == ((), (), whole.volumes)


def test_a_repair_of_one_pod_reads_and_recreates_only_that_pod(host):
    engine, manifests = host
    before, old = ids(engine, "beta"), engine.observe().container("beta-main")
    engine.run(Step(StepKind.REMOVE_CONTAINER, "beta-main", "by hand"))
    engine.calls.clear()
    result = apply(ApplyRequest(manifests, "demo", revision="r1", prune=True, pods=frozenset({"beta"})), lambda: engine)
    assert result.outcome is Outcome.APPLIED
    assert [(s.kind, s.target) for s in result.plan.steps] == [(StepKind.CREATE_CONTAINER, "beta-main"),
                                                               (StepKind.START_CONTAINER, "beta-main")]
    reads = [c for c in engine.calls if c.method == "observe"]
    assert reads and all(c.argument == "beta" for c in reads), reads  # never the whole host
    new = engine.observe().container("beta-main")
    assert old is not None and new is not None and new.id != old.id
    assert ids(engine, "beta") == before  # alpha's and gamma's containers untouched
    # The history record stands for the revision on every pod, as a whole apply's does.
    assert result.record is not None and result.record.changed == ("beta",)
    assert result.record.unchanged == ("alpha", "gamma")


def test_a_repair_of_some_pods_leaves_what_only_a_whole_read_can_judge(host, tmp_path):
    engine, manifests = host
    # alpha leaves the manifests: its pod, the Secret only it read and its names on the network
    # are for a whole read with --prune to remove, never for a repair of beta.
    (tmp_path / "m" / "alpha.yaml").unlink()
    engine.run(Step(StepKind.REMOVE_CONTAINER, "beta-main", "by hand"))
    some = diff(DiffRequest(manifests, "demo", prune=True, pods=frozenset({"beta"})), lambda: engine).diff
    assert [p.name for p in some.pods] == ["beta"]
    assert not [s for s in some.secrets if s.action.value == "remove"]
    assert some.network is None or not some.network.changed
    assert [v.name for v in some.volumes] == []
    whole = diff(DiffRequest(manifests, "demo", prune=True), lambda: engine).diff
    assert sorted(p.name for p in whole.pods) == ["alpha", "beta"]
    assert [s.action.value for s in whole.secrets] == ["remove"]
    assert whole.network is not None and whole.network.record is not None  # alpha's names leave the record


def test_a_repair_of_a_pod_removed_as_a_whole_makes_it_again(host):
    engine, manifests = host
    before = ids(engine, "gamma")
    engine.run(Step(StepKind.STOP_POD, "gamma", "by hand"))
    engine.run(Step(StepKind.REMOVE_POD, "gamma", "by hand"))
    result = apply(ApplyRequest(manifests, "demo", revision="r1", pods=frozenset({"gamma"})), lambda: engine)
    assert result.outcome is Outcome.APPLIED and engine.observe().container("gamma-main") is not None
    assert ids(engine, "gamma") == before
    assert apply(ApplyRequest(manifests, "demo", revision="r1"), lambda: engine).outcome is Outcome.NO_CHANGES


def test_a_repair_with_nothing_to_do_takes_no_lock(host):
    engine, manifests = host
    engine.calls.clear()
    result = apply(ApplyRequest(manifests, "demo", revision="r1", pods=frozenset({"beta"})), lambda: engine)
    assert result.outcome is Outcome.NO_CHANGES and engine.count("create_lock") == 0


@pytest.mark.parametrize("now, last_whole, stream_since, due", [
    (100.0, None, 10.0, True),  # never read: read
    (100.0, 50.0, None, True),  # no stream (no --self-heal, or lost): every round reads
    (100.0, 50.0, 60.0, True),  # the stream connected after the last whole read: read
    (100.0, 50.0, 40.0, False),  # the stream covers everything since the read
    (350.0, 50.0, 40.0, True),  # ... but every `resync` seconds anyway
    (349.0, 50.0, 40.0, False),
])
def test_a_round_reads_the_whole_host_without_the_stream_and_every_resync_with_it(now, last_whole, stream_since, due):
    assert whole_read_due(now, last_whole, 300.0, stream_since) is due


class _Recorder:
    def record(self, entry) -> None:  # the revisions that never reached an apply: none here
        raise AssertionError(entry)


def agent_on(engine: FakeEngine, manifests_dir, tmp_path, stream_since=None):
    """An Agent whose applied revision "r1" is `manifests_dir` (checked out already: no git runs)."""
    import io
    import shutil
    from dataclasses import replace

    from podspec.policy import make_policy
    from podspec.run.sync.agent import Agent, SyncRequest
    from podspec.run.sync.log import AgentLog

    request = SyncRequest(source=str(tmp_path / "repo"), branch="main", paths=("m",), project="demo",
                          state_dir=tmp_path / "state", policy=make_policy(("baseline", "the default")), resync=300.0)
    stream = io.StringIO()
    agent = Agent(request, lambda: engine, AgentLog(stream), _Recorder())
    shutil.copytree(manifests_dir, agent.dir / "checkouts" / "r1" / "m")
    agent.state = replace(agent.state, applied="r1")
    agent.stream_since = lambda: stream_since
    return agent, stream


def test_the_agent_repairs_the_pods_events_named_reading_only_them(host, tmp_path):
    engine, manifests = host
    agent, log = agent_on(engine, manifests.paths[0], tmp_path)
    before = ids(engine, "beta")
    engine.run(Step(StepKind.REMOVE_CONTAINER, "beta-main", "by hand"))
    engine.calls.clear()
    assert agent.repair_pods(frozenset({"beta"}))
    assert {c.argument for c in engine.calls if c.method == "observe"} == {"beta"}
    assert engine.observe().container("beta-main") is not None and ids(engine, "beta") == before
    assert " repaired " in log.getvalue() and "pods=beta" in log.getvalue()
    assert agent.state.drift_repairs == 1
    # The manifests were loaded once for the revision: the next repair reads no file.
    cached = agent._loaded
    engine.run(Step(StepKind.REMOVE_CONTAINER, "gamma-main", "by hand"))
    assert agent.repair_pods(frozenset({"gamma"})) and agent._loaded is cached
    # A lost stream ("" among the pods): a whole read.
    engine.calls.clear()
    assert agent.repair_pods(frozenset({""}))
    assert [c.argument for c in engine.calls if c.method == "observe"] == [""]


def test_a_round_with_the_stream_connected_reads_the_host_only_every_resync(host, tmp_path):
    import time

    engine, manifests = host
    agent, _ = agent_on(engine, manifests.paths[0], tmp_path, stream_since=time.monotonic() - 1000)
    engine.calls.clear()
    assert agent._drift()  # the first: no whole read yet
    assert engine.count("observe") == 1
    engine.run(Step(StepKind.REMOVE_CONTAINER, "beta-main", "by hand"))  # a change the stream would have told
    engine.calls.clear()
    assert agent._drift() and engine.calls == []  # trusted: no read at all
    agent._last_whole = time.monotonic() - 301
    assert agent._drift() and engine.observe().container("beta-main") is not None  # the resync repaired it
    agent.stream_since = lambda: None  # the stream lost: every round reads
    engine.calls.clear()
    assert agent._drift() and engine.count("observe") == 1


def test_a_stream_opened_again_after_a_loss_asks_for_a_whole_read():
    import select
    import time

    from podspec.run.sync.events import EventWatcher

    fake = FakeEngine()  # its stream ends at once each time: lost, then opened again (with backoff)
    errors: list[str] = []
    watcher = EventWatcher(lambda: fake, "shop", errors.append)
    watcher.start()
    marks: list[str] = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and "reconnected" not in marks:
        select.select([watcher.read_fd], [], [], 1.0)
        marks += [e["Action"] for e in watcher.drain() if e.get("Type") == "podspec"]
    assert marks[:2] == ["reconnect", "reconnected"]  # the first opening asks nothing; the one after a loss does
    assert errors and fake.count("events") >= 2


@pytest.mark.parametrize("event, start", [
    ({"Type": "container", "Action": "start"}, True),
    ({"Type": "container", "status": "start"}, True),  # the older field name
    ({"Type": "container", "Action": "died"}, False),
    ({"Type": "pod", "Action": "start"}, False),
])
def test_a_container_start_pokes_the_probes_of_an_agent_with_the_event_stream(event, start):
    from podspec.reconcile.sync import is_start

    assert is_start(event) is start


def test_a_repair_the_events_asked_for_reads_the_pods_once_under_the_lock(host):
    engine, manifests = host
    engine.run(Step(StepKind.REMOVE_CONTAINER, "beta-main", "by hand"))
    engine.calls.clear()
    result = apply(ApplyRequest(manifests, "demo", revision="r1", pods=frozenset({"beta"}), changed=True), lambda: engine)
    assert result.outcome is Outcome.APPLIED and engine.observe().container("beta-main") is not None
    methods = [c.method for c in engine.calls]
    assert methods[:2] == ["create_lock", "observe"] and methods.count("observe") == 2  # (the second: the check above)


def test_a_repair_that_found_nothing_to_do_writes_no_record(host):
    from podspec.run import history

    engine, manifests = host
    before = history.read(engine, "demo")
    result = apply(ApplyRequest(manifests, "demo", revision="r1", pods=frozenset({"beta"}), changed=True,
                                record_no_changes=False), lambda: engine)
    assert result.outcome is Outcome.NO_CHANGES and result.record is None
    assert history.read(engine, "demo") == before
    engine.run(Step(StepKind.REMOVE_CONTAINER, "beta-main", "by hand"))
    repaired = apply(ApplyRequest(manifests, "demo", revision="r1", pods=frozenset({"beta"}), changed=True,
                                  record_no_changes=False), lambda: engine)
    assert repaired.record is not None and len(history.read(engine, "demo")) == len(before) + 1  # what it changed is


def test_a_death_podman_may_answer_itself_is_given_time_a_removal_is_not():
    from podspec.reconcile.sync import Debouncer, may_restart_itself

    died, removed = {"Type": "container", "Action": "died"}, {"Type": "container", "Action": "remove"}
    assert may_restart_itself(died) and not may_restart_itself(removed)
    assert not may_restart_itself({"Type": "pod", "Action": "died"})
    d = Debouncer(quiet=0.2, settle=1.0, most=2.0)
    d.add("a", 10.0, settle=may_restart_itself(died))  # `podman rm -f`: died, then remove
    assert d.due_at() == 11.0
    d.add("a", 10.1, settle=may_restart_itself(removed))
    assert d.due_at() == pytest.approx(10.3) and d.take(10.31) == {"a"}
    d.add("b", 20.0, settle=True)  # a crash: Podman's restart policy may start it first
    assert d.take(20.5) == frozenset() and d.take(21.0) == {"b"}


def test_the_agent_records_what_its_steps_did_to_containers():
    """The apply's listener turns each step that ends or starts containers into an Act, with when
    it began and ended (the clock passed in); other steps are not recorded."""
    import io

    from podspec.run.results import StepEvent, StepStatus
    from podspec.run.sync.agent import Recording
    from podspec.run.sync.log import AgentLog

    acts: list[Act] = []
    times = iter([10.0, 10.5, 11.0, 11.25])
    recording = Recording(AgentLog(io.StringIO()), "r1", acts.append, clock=lambda: next(times))
    remove = Step(StepKind.REMOVE_CONTAINER, "web-app", "recreate", pod_name="web")
    create = Step(StepKind.CREATE_CONTAINER, "web-app", "recreate", pod_name="web")
    start = Step(StepKind.START_POD, "web", "start")
    for step, index in ((remove, 1), (create, 2), (start, 3)):
        recording.step(StepEvent(index, 3, step, StepStatus.STARTED))
        recording.step(StepEvent(index, 3, step, StepStatus.DONE if step is not start else StepStatus.FAILED))
    assert acts == [Act(StepKind.REMOVE_CONTAINER, "web-app", "web", 10.0, 10.5),
                    Act(StepKind.START_POD, "web", "web", 11.0, 11.25)]


def test_a_container_the_agent_started_that_fails_at_once_is_a_crash_loop(host, tmp_path):
    """The agent's repair starts a container again; it fails half a second after each start: three
    failures are a crash loop, held back and reported (its own start is no poke of the probes).
    The same container's death in the agent's own removal of it would not count."""
    import json
    import time

    from podspec import labels as L

    engine, manifests = host
    agent, log = agent_on(engine, manifests.paths[0], tmp_path)
    engine.run(Step(StepKind.REMOVE_CONTAINER, "beta-main", "by hand"))
    assert agent.repair_pods(frozenset({"beta"}))
    started = [a for a in agent.own.acts["beta"] if a.kind in (StepKind.START_CONTAINER, StepKind.START_POD)]
    assert started and all(a.began <= a.ended <= time.time() for a in started)

    def event(action: str, when: float, code: str | None = None) -> dict:
        attributes = {L.MANAGED_BY: L.MANAGER, L.PROJECT: "demo", L.POD: "beta", L.ROLE: "container", "name": "beta-main",
                      L.LAST_APPLIED: json.dumps({"restartPolicy": "Always"})}
        if code is not None:
            attributes["containerExitCode"] = code
        return {"Type": "container", "Action": action, "Actor": {"ID": "c1", "Attributes": attributes},
                "time": int(when), "timeNano": int(when * 1e9)}

    began = started[-1].began
    agent.take_events([event("start", began + 0.01), event("died", began + 0.5, "3")])
    assert len(agent.crash.deaths["beta"]) == 1  # the agent only started it: its death is its own
    later = time.time() + 5  # Podman's restart policy restarts it; it fails again, twice
    agent.take_events([event("start", later), event("died", later + 0.5, "3"),
                       event("start", later + 1), event("died", later + 1.5, "3")])
    assert "beta" in agent.crash.looping(time.monotonic()) and " crash-loop " in log.getvalue()
    assert "beta" in agent.state.crash_loops

    agent, _ = agent_on(engine, manifests.paths[0], tmp_path / "again")
    now = time.time()
    agent.own.record(Act(StepKind.REMOVE_CONTAINER, "beta-main", "beta", now, now + 0.2))
    agent.take_events([event("died", now + 0.1, "137")])
    assert agent.crash.deaths.get("beta", []) == []
