"""The pull agent's pure decisions (reconcile/sync.py): table tests, time passed in."""

from __future__ import annotations

import json

import pytest

from podspec import labels
from podspec.errors import UsageError
from podspec.plan import Step, StepKind
from podspec.reconcile.sync import (
    Act,
    Backoff,
    CrashRule,
    CrashTracker,
    Debouncer,
    Head,
    OwnSteps,
    Verdict,
    caused_by_us,
    drift_pod,
    is_death,
    judge,
    next_round,
    parse_duration,
    project_from_source,
)

A, B, C = "a" * 40, "b" * 40, "c" * 40


@pytest.mark.parametrize(
    ("head", "applied", "refused", "allow_rewind", "verdict"),
    [
        (Head(A, None, None), None, None, False, Verdict.APPLY),  # the first revision
        (Head(A, None, None), A, None, False, Verdict.CURRENT),
        (Head(B, True, None), A, None, False, Verdict.APPLY),  # a descendant
        (Head(B, False, None), A, None, False, Verdict.REWIND),  # force-push / rollback
        (Head(B, False, None), A, None, True, Verdict.APPLY),  # --allow-rewind
        (Head(B, True, None), A, B, False, Verdict.KNOWN_BAD),  # failed validation before
        (Head(B, True, False), A, None, False, Verdict.UNSIGNED),
        (Head(B, True, True), A, None, False, Verdict.APPLY),
        (Head(A, None, False), A, None, False, Verdict.CURRENT),  # already on the host: nothing to refuse
        (Head(B, False, False), A, None, True, Verdict.UNSIGNED),  # --allow-rewind never skips signatures
    ],
)
def test_judge(head, applied, refused, allow_rewind, verdict):
    assert judge(head, applied, refused, allow_rewind) is verdict


def test_backoff_is_exponential_and_capped():
    backoff = Backoff(base=5, cap=60)
    assert [backoff.delay(n) for n in range(7)] == [0, 5, 10, 20, 40, 60, 60]
    assert backoff.delay(10_000) == 60  # no overflow


def test_next_round_after_success_is_one_interval_after_failures_the_backoff():
    backoff = Backoff(base=2, cap=30)
    assert next_round(100.0, 60.0, 0, backoff) == 160.0
    assert next_round(100.0, 60.0, 1, backoff) == 102.0
    assert next_round(100.0, 60.0, 3, backoff) == 108.0
    assert next_round(100.0, 60.0, 9, backoff) == 130.0


def event(kind: str, action: str, project: str = "web", pod: str = "front", managed: bool = True, exit_code: str = "") -> dict:
    attributes = {labels.PROJECT: project, labels.POD: pod}
    if managed:
        attributes[labels.MANAGED_BY] = labels.MANAGER
    if exit_code:
        attributes["containerExitCode"] = exit_code
    return {"Type": kind, "Action": action, "Actor": {"ID": "x", "Attributes": attributes}}


@pytest.mark.parametrize(
    ("given", "pod"),
    [
        (event("container", "remove"), "front"),
        (event("container", "died"), "front"),
        (event("container", "stop"), "front"),
        (event("container", "kill"), "front"),
        (event("container", "oom"), "front"),
        (event("pod", "remove"), "front"),
        (event("container", "start"), None),  # changes nothing
        (event("container", "create"), None),
        (event("container", "exec_died"), None),
        (event("container", "health_status"), None),
        (event("container", "remove", project="other"), None),
        (event("container", "remove", managed=False), None),  # not podspec's
        ({"Type": "container", "Action": "remove"}, None),  # no attributes at all
        ({"Type": "container", "status": "died", "Actor": {"Attributes": {labels.MANAGED_BY: "podspec",
                                                                         labels.PROJECT: "web", labels.POD: "p"}}}, "p"),
    ],
)
def test_which_events_may_mean_drift(given, pod):
    assert drift_pod(given, "web") == pod


def test_deaths_are_died_events_of_containers():
    assert is_death(event("container", "died"))
    assert not is_death(event("container", "remove"))
    assert not is_death(event("pod", "died"))


def test_debounce_waits_for_a_quiet_moment_but_not_for_ever():
    d = Debouncer(quiet=0.5, most=2.0)
    assert d.due_at() is None and d.take(0.0) == frozenset()
    d.add("a", 10.0)
    d.add("b", 10.3)
    assert d.due_at() == 10.8
    assert d.take(10.7) == frozenset()
    assert d.take(10.8) == {"a", "b"}
    assert d.due_at() is None
    for t in range(0, 30):  # a steady stream, every 0.1 s
        d.add("c", 20.0 + t / 10)
    assert d.due_at() == 22.0  # the first event + most


def test_a_pod_dying_again_and_again_is_held_back_longer_each_time():
    tracker = CrashTracker(CrashRule(deaths=3, window=60.0, backoff=Backoff(base=10.0, cap=40.0)))
    assert tracker.died("p", 0.0) is None
    assert tracker.died("p", 1.0) is None
    assert tracker.died("p", 2.0) == 12.0  # third death within the window: held for 10 s
    assert tracker.held("p", 5.0) and tracker.looping(5.0) == {"p": 12.0}
    assert tracker.died("p", 6.0) is None  # deaths while held do not stack holds
    assert not tracker.held("p", 12.0)  # the hold is over
    assert tracker.died("p", 13.0) is None
    assert tracker.died("p", 14.0) == 34.0  # loops again: twice as long
    assert not tracker.held("p", 34.0)
    assert tracker.died("p", 200.0) is None  # quiet for a whole window: forgiven
    tracker.died("p", 201.0)
    assert tracker.died("p", 202.0) == 212.0


def test_a_finished_job_is_not_a_crash_loop():
    tracker = CrashTracker()
    assert tracker.died("job", 0.0) is None
    assert not tracker.held("job", 1.0)
    assert tracker.release_at() is None


def test_deaths_spread_wider_than_the_window_are_no_loop():
    tracker = CrashTracker(CrashRule(deaths=3, window=10.0))
    assert [tracker.died("p", t) for t in (0.0, 8.0, 16.0, 24.0)] == [None, None, None, None]


@pytest.mark.parametrize(("text", "seconds"), [("60", 60), ("60s", 60), ("5m", 300), ("1h", 3600), ("500ms", 0.5), (" 2.5s ", 2.5)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "0", "-5s", "abc", "5d", "nan", "inf"])
def test_bad_durations(text):
    with pytest.raises(UsageError):
        parse_duration(text)


@pytest.mark.parametrize(
    ("source", "project"),
    [("git@github.com:acme/edge-pods.git", "edge-pods"), ("https://git.example.com/acme/web/", "web"),
     ("/srv/git/site.git", "site"), ("file:///srv/repo", "repo"), ("host:repo", "repo")],
)
def test_project_from_source(source, project):
    assert project_from_source(source) == project


def test_only_failing_containers_count_as_deaths():
    """The crash-loop rule counts failures: not an init container that finished, not a completed
    job; a container that should run for ever and ended does count, with any exit code."""
    from podspec import labels as L
    from podspec.reconcile.sync import is_failure

    def died(code: str | None, role: str = "container", policy: str = "Always") -> dict:
        attributes = {L.ROLE: role, L.LAST_APPLIED: json.dumps({"restartPolicy": policy})}
        if code is not None:
            attributes["containerExitCode"] = code
        return {"Type": "container", "Action": "died", "Actor": {"Attributes": attributes}}

    assert not is_failure(died("0", role="init"))
    assert is_failure(died("1", role="init"))
    assert not is_failure(died("0", policy="OnFailure")) and not is_failure(died("0", policy="Never"))
    assert is_failure(died("0")) and is_failure(died("137")) and is_failure(died(None))
    assert not is_failure({"Type": "container", "Action": "start", "Actor": {"Attributes": {}}})


def podman_event(action: str, name: str, code: str | None = None, pod: str = "web", infra: bool = False) -> dict:
    """A container event as the agent gets it (label-filtered stream): a podspec container of `pod`,
    or the pod's infra container (which carries the pod's labels and no role)."""
    from podspec import labels as L

    attributes = {L.MANAGED_BY: L.MANAGER, L.PROJECT: "p", L.POD: pod, "name": name}
    if infra:
        attributes[L.CONTAINERS] = "app,side,log"
    else:
        attributes[L.ROLE] = "container"
        attributes[L.LAST_APPLIED] = json.dumps({"restartPolicy": "Always"})
    if code is not None:
        attributes["containerExitCode"] = code
    return {"Type": "container", "Action": action, "Actor": {"ID": name, "Attributes": attributes}}


def feed(tracker: CrashTracker, timed: list[tuple[float, dict]]) -> list[float]:
    return [until for now, e in timed if (until := tracker.see(e, "web", now)) is not None]


# What Podman 4.3 and 5 send for `podspec stop` (a pod stop) of a pod of three containers, then its
# start: the infra container dies first, the others after the grace period (seen on both engines).
STOP = [podman_event("died", "abc-infra", "0", infra=True), podman_event("died", "web-app", "137"),
        podman_event("died", "web-side", "137"), podman_event("died", "web-log", "143")]
START = [podman_event("restart", "abc-infra", infra=True), podman_event("start", "abc-infra", infra=True),
         podman_event("start", "web-app"), podman_event("start", "web-side"), podman_event("start", "web-log")]


def test_a_pod_stopped_and_started_again_is_no_crash_loop():
    """Issue 23: the deaths `podspec stop` causes counted as failures, so a container removed after
    the start was held back 10 s. The stop's deaths are none; a real failure after it still counts."""
    tracker = CrashTracker()
    timed = [(0.0 + i / 10, e) for i, e in enumerate(STOP)] + [(30.0 + i / 10, e) for i, e in enumerate(START)]
    assert feed(tracker, timed) == []
    assert tracker.deaths.get("web", []) == []
    removed = podman_event("died", "web-app", "137")  # `podman rm -f` after the start: one failure
    assert tracker.see(removed, "web", 31.0) is None and not tracker.held("web", 31.5)
    assert len(tracker.deaths["web"]) == 1
    # ... and failures keep counting: two more and the pod is held
    assert tracker.see(podman_event("died", "web-app", "1"), "web", 32.0) is None
    assert tracker.see(podman_event("died", "web-app", "1"), "web", 33.0) == 43.0


def test_the_deaths_of_a_pod_stop_are_taken_back_when_its_infra_container_dies_last():
    """Podman may tell a container's death a moment before its infra container's: the infra's death
    takes back the deaths of the last seconds, and the hold they started."""
    tracker = CrashTracker()
    assert feed(tracker, [(0.0, STOP[1]), (0.1, STOP[2]), (0.2, STOP[3])]) == [10.2]  # looks like a loop ...
    assert tracker.see(STOP[0], "web", 0.3) is None  # ... until the infra container dies
    assert tracker.looping(0.4) == {} and not tracker.held("web", 0.4) and tracker.deaths["web"] == []
    assert tracker.strikes.get("web", 0) == 0
    # a failure long before the stop is not taken back
    tracker = CrashTracker()
    tracker.see(podman_event("died", "web-app", "1"), "web", 0.0)
    tracker.see(STOP[0], "web", 10.0)
    assert len(tracker.deaths["web"]) == 1


def test_restarts_by_the_restart_policy_still_make_a_loop():
    """Podman tells a `restart` after each death its restart policy answers (both engines): a
    restart event explains nothing, the crashes count."""
    crash = [podman_event("died", "web-app", "3"), podman_event("restart", "web-app"), podman_event("start", "web-app")]
    tracker = CrashTracker()
    assert feed(tracker, [(t * 1.5 + i / 20, e) for t in range(3) for i, e in enumerate(crash)]) == [13.0]


def test_crashes_of_a_running_pod_still_make_a_loop():
    tracker = CrashTracker()
    crash, start = podman_event("died", "web-app", "1"), podman_event("start", "web-app")  # Podman's restart policy
    assert feed(tracker, [(0.0, crash), (0.5, start), (1.0, crash), (1.5, start), (2.0, crash)]) == [12.0]
    # and deaths the agent caused itself (`ours`) do not count
    tracker = CrashTracker()
    assert [tracker.see(crash, "web", t, ours=True) for t in (0.0, 1.0, 2.0)] == [None, None, None]
    assert tracker.deaths.get("web", []) == []


def test_the_infra_containers_death_is_no_failure():
    from podspec.reconcile.sync import is_failure

    assert not is_failure(STOP[0])
    assert is_failure(STOP[1])


def health_event(action: str, status: str = "", liveness: str = "exec", code: str | None = None) -> dict:
    from podspec import labels as L

    spec = {"restartPolicy": "Always"}
    if liveness:
        spec["livenessProbe"] = {"handler": liveness, "command": ["test", "-f", "/tmp/alive"]}
    attributes = {L.MANAGED_BY: L.MANAGER, L.PROJECT: "p", L.POD: "web", L.ROLE: "container", "name": "web-app",
                  L.LAST_APPLIED: json.dumps(spec)}
    if code is not None:
        attributes["containerExitCode"] = code
    e = {"Type": "container", "Action": action, "Actor": {"ID": "x", "Attributes": attributes}}
    if status:
        e["HealthStatus"] = status
    return e


def test_podmans_own_health_restarts_are_told_from_its_events():
    """Podman's --health-on-failure=restart (an exec liveness probe as its health check), as each
    engine tells it (seen here): Podman 4.3 sends `restart` while the container still runs, then its
    death; Podman 5 its death after an `unhealthy` health status, then `restart`. A restart its
    restart policy makes after a crash (death, then restart, no unhealthy status) is not one."""
    from podspec.reconcile.sync import HealthRestarts

    podman4 = [health_event("start"), health_event("health_status", "healthy"), health_event("restart"),
               health_event("died", code="137"), health_event("start")]
    podman5 = [health_event("start"), health_event("health_status", "healthy"), health_event("health_status", "unhealthy"),
               health_event("died", code="137"), health_event("restart"), health_event("start")]
    crash = [health_event("start"), health_event("health_status", "healthy"), health_event("died", code="3"),
             health_event("restart"), health_event("start")]
    for events, restarts in ((podman4, 1), (podman5, 1), (crash, 0), (podman5 + crash + podman4, 2)):
        seen = HealthRestarts()
        assert sum(seen.see(e) for e in events) == restarts
    # no exec liveness probe: Podman's health check restarts nothing (a restart by hand is no probe's)
    seen = HealthRestarts()
    assert not any(seen.see(e) for e in [health_event("start", liveness="httpGet"), health_event("restart", liveness="httpGet")])


# ------------------------------------------------------------- the agent's own steps (caused_by_us)


def at(event: dict, when: float, ident: str = "", whole: bool = False) -> dict:
    """`event` at `when` (wall clock) as Podman tells it: timeNano, or (`whole`) only `time`, whole
    seconds; `ident`: the container's ID (Actor.ID)."""
    timed = {**event, "time": int(when)} if whole else {**event, "time": int(when), "timeNano": int(when * 1e9)}
    if ident:
        timed["Actor"] = {**event["Actor"], "ID": ident}
    return timed


def act(kind: str, target: str, began: float, ended: float, pod: str = "web"):
    k = StepKind(kind)
    pod_step = k in (StepKind.START_POD, StepKind.STOP_POD, StepKind.REMOVE_POD)
    return Act.of(Step(k, target, "test", pod_name="" if pod_step else pod), began, ended)


def test_a_container_the_agent_only_started_that_dies_half_a_second_later_is_a_failure():
    """The bug: any death within the agent's apply windows (+1 s) was the agent's, so a container
    that crashed within a second of the agent starting it was never a crash loop."""

    own, tracker = OwnSteps(), CrashTracker()
    holds = []
    for i in range(3):  # the agent starts it, it fails 0.5 s later; three times
        t = 100.0 + 10 * i
        own.record(act("start_container", "web-app", t, t + 0.1))
        start = at(podman_event("start", "web-app"), t + 0.05, "c1")
        died = at(podman_event("died", "web-app", "3"), t + 0.55, "c1")
        assert own.see(start)  # the start is the agent's ...
        ours = own.see(died)
        assert not ours  # ... the death is the container's own
        if (until := tracker.see(died, "web", t + 0.6, ours=ours)) is not None:
            holds.append(until)
    assert holds == [120.6 + 10.0] and tracker.looping(121.0) == {"web": 130.6}


def test_a_death_of_a_container_the_agent_removed_or_stopped_is_the_agents():
    died = podman_event("died", "web-app", "137")
    removed = [act("remove_container", "web-app", 100.0, 100.4)]
    assert caused_by_us(at(died, 100.3), removed, started=50.0)
    assert caused_by_us(at(died, 100.3), removed)  # its start not seen (before the agent listened): it ran before
    assert caused_by_us(at(died, 101.2), removed, started=50.0)  # noted a moment after the call returned
    assert not caused_by_us(at(died, 102.0), removed, started=50.0)  # later: by itself
    assert not caused_by_us(at(died, 98.5), removed, started=50.0)  # before the step
    assert not caused_by_us(at(podman_event("died", "web-side", "137"), 100.3), removed, started=50.0)  # another one
    for kind in ("stop_pod", "remove_pod"):  # the pod stopped or removed: all its containers, its infra container
        whole = [act(kind, "web", 100.0, 101.0)]
        assert caused_by_us(at(died, 100.5), whole, started=50.0)
        assert caused_by_us(at(podman_event("died", "abc-infra", "0", infra=True), 100.9), whole, started=50.0)
        assert not caused_by_us(at(podman_event("died", "db-app", "137", pod="db"), 100.5), whole, started=50.0)
    restarted = [act("restart_container", "web-app", 100.0, 130.0)]  # the probes' restart (RESTART_SLACK long)
    assert caused_by_us(at(died, 110.0), restarted, started=50.0)
    assert not caused_by_us(at(died, 120.0), restarted, started=111.0)  # started again by the restart, then crashed
    assert caused_by_us(at(podman_event("restart", "web-app"), 100.2), restarted)
    assert not caused_by_us(at(podman_event("restart", "web-app"), 100.2), removed)
    # steps that start or make containers end none
    for kind in ("start_container", "start_pod"):
        assert not caused_by_us(at(died, 100.3), [act(kind, "web" if kind == "start_pod" else "web-app", 100.0, 100.4)])


def test_the_replacement_of_a_container_the_agent_removed_dies_by_itself():
    """A container replaced: the old one (its ID) dies in the removal, the agent's; the new one,
    created and started right after under the same name, fails 0.2 s later, inside the removal's
    slack: its own, by its ID's start."""

    own = OwnSteps()
    for a in (act("remove_container", "web-app", 100.0, 100.3), act("start_container", "web-app", 100.35, 100.45)):
        own.record(a)
    assert not own.see(at(podman_event("start", "web-app"), 50.0, "old"))  # long before: someone else's
    assert own.see(at(podman_event("died", "web-app", "137"), 100.2, "old"))
    assert not own.see(at(podman_event("remove", "web-app"), 100.25, "old")) and "old" not in own.started
    assert own.see(at(podman_event("start", "web-app"), 100.4, "new"))
    assert not own.see(at(podman_event("died", "web-app", "3"), 100.6, "new"))


def test_the_agents_recreate_of_a_pod_is_no_crash_and_its_new_containers_failing_are():
    """A pod replaced by the agent (stop, remove, create, start): the deaths of its containers are
    the agent's, its infra container's death marks the stop; the new pod's containers failing
    right after their start count, and three make a loop."""

    own, tracker = OwnSteps(), CrashTracker()
    for a in (act("stop_pod", "web", 100.0, 101.0), act("remove_pod", "web", 101.0, 101.2),
              act("start_pod", "web", 101.5, 101.8)):
        own.record(a)
    old = [at(podman_event("died", "web-app", "137"), 100.6, "a1"), at(podman_event("died", "web-side", "143"), 100.7, "s1"),
           at(podman_event("died", "old-infra", "0", infra=True), 100.9, "i1")]
    new = [at(podman_event("start", "new-infra", infra=True), 101.6, "i2"),
           at(podman_event("start", "web-app"), 101.7, "a2"), at(podman_event("start", "web-side"), 101.7, "s2")]
    for e in old:
        assert own.see(e)
        assert tracker.see(e, "web", 101.0, ours=True) is None
    for e in new:
        assert own.see(e)  # the agent started them
        tracker.see(e, "web", 102.0, ours=True)
    assert tracker.deaths.get("web", []) == [] and tracker.looping(102.0) == {}
    crash = at(podman_event("died", "web-app", "3"), 102.0, "a2")
    assert not own.see(crash)
    assert tracker.see(crash, "web", 102.1, ours=False) is None and len(tracker.deaths["web"]) == 1


def test_starts_the_agent_made_and_starts_it_did_not():
    start = podman_event("start", "web-app")
    assert caused_by_us(at(start, 100.2), [act("start_container", "web-app", 100.0, 100.3)])
    assert caused_by_us(at(start, 100.2), [act("start_pod", "web", 100.0, 100.3)])
    assert caused_by_us(at(podman_event("start", "x-infra", infra=True), 100.2), [act("start_container", "web-app", 100.0, 100.3)])
    assert not caused_by_us(at(start, 100.2), [act("start_container", "web-side", 100.0, 100.3)])  # another container
    assert not caused_by_us(at(start, 103.0), [act("start_container", "web-app", 100.0, 100.3)])  # someone else, later
    assert not caused_by_us(at(start, 100.2), [act("remove_container", "web-app", 100.0, 100.3)])
    assert not caused_by_us(at(start, 100.2), [act("restart_container", "web-app", 100.0, 130.0)])  # the probes': poked


def test_events_without_a_time_or_with_whole_seconds():
    removed = [act("remove_container", "web-app", 100.3, 100.6)]
    died = podman_event("died", "web-app", "137")
    assert not caused_by_us(died, removed)  # no time: nobody's (a failure)
    assert not caused_by_us(podman_event("start", "web-app"), [act("start_container", "web-app", 100.0, 100.3)])
    assert caused_by_us(at(died, 100.5, whole=True), removed, started=50.0)  # `time` 100: in the slack before
    own = OwnSteps()
    own.see(podman_event("start", "web-app"))  # no time: no start known
    assert own.started == {}
    assert not own.see({"Type": "pod", "Action": "stop", "time": 100})  # pod events are no container's


def test_own_steps_keep_the_acts_of_each_pod_for_an_hour():
    own = OwnSteps()
    for t in (0.0, 100.0, 3650.0, 3700.0):
        own.record(act("start_container", "web-app", t, t + 60.0))
    own.record(act("start_pod", "db", 9000.0, 9000.5))
    assert [a.began for a in own.acts["web"]] == [100.0, 3650.0, 3700.0] and len(own.acts["db"]) == 1
    many = OwnSteps()  # one apply replacing 200 containers of a pod: every removal is kept
    for i in range(200):
        many.record(act("remove_container", f"web-c{i}", 10.0 + i / 100, 10.0 + i / 100 + 0.01))
    assert len(many.acts["web"]) == 200
    assert many.see(at(podman_event("died", "web-c0", "137"), 10.005, "c0"))
