"""The planner on plain data: ordering rules, and the plan's text form against golden files.

Regenerate the golden files after an intended change with PODSPEC_UPDATE_GOLDEN=1, and review the
diff of tests/unit/golden/ like code.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from podspec import render
from podspec.errors import ConflictError
from podspec.model import DesiredState
from podspec.observed import ContainerState, ObservedPod, ObservedState, PodStatus
from podspec.plan import StepKind
from podspec.reconcile import diff as differ
from podspec.reconcile import planner
from tests.unit.hosts import SIDECAR, applied, state, webserver, with_container, with_state, without_container

GOLDEN = Path(__file__).parent / "golden"
UPDATER = "dynamic-webserver-apache-httpd-index-updater"


def plan_for(desired, observed, **flags):
    result = differ.compute(desired, observed, "demo", **flags)
    return result, planner.build(result)


def check_golden(name: str, result, plan) -> None:
    text = render.diff_text(result) + "\n\n" + render.plan_text(plan) + "\n"
    path = GOLDEN / f"{name}.txt"
    if os.environ.get("PODSPEC_UPDATE_GOLDEN") == "1":
        path.write_text(text)
    assert path.exists(), f"missing golden file {path}; run with PODSPEC_UPDATE_GOLDEN=1 and review it"
    assert text == path.read_text()


CASES = {
    "create-from-empty": lambda: plan_for(state(webserver()), ObservedState()),
    "no-changes": lambda: plan_for(state(webserver()), applied(state(webserver()))),
    "sidecar-command-changed": lambda: plan_for(
        state(webserver(sidecar=SIDECAR.replace("sleep 10", "sleep 5"))), applied(state(webserver()))
    ),
    "host-port-changed": lambda: plan_for(state(webserver(port=9090)), applied(state(webserver()))),
    "pod-stopped": lambda: plan_for(state(webserver()), applied(state(webserver()), status=PodStatus.EXITED)),
    "container-removed-by-hand": lambda: plan_for(state(webserver()), without_container(applied(state(webserver())), UPDATER)),
    "container-stopped-by-hand": lambda: plan_for(
        state(webserver()), with_state(applied(state(webserver())), UPDATER, ContainerState.EXITED)
    ),
    "prune-pod-dropped": lambda: plan_for(
        state(replace(webserver(), name="other")), applied(state(webserver())), prune=True
    ),
    "stopped-pod-with-changed-container": lambda: plan_for(
        state(with_container(webserver(), "apache-httpd", working_dir="/srv")),
        applied(state(webserver()), status=PodStatus.EXITED),
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_plan_text_matches_golden(name):
    result, plan = CASES[name]()
    check_golden(name, result, plan)


def kinds(plan):
    return [(s.kind, s.target) for s in plan.steps]


def test_new_pod_order_volume_pod_init_containers_start():
    _, plan = CASES["create-from-empty"]()
    assert kinds(plan) == [
        (StepKind.CREATE_VOLUME, "webserver-data"),
        (StepKind.CREATE_NETWORK, "podspec-demo"),  # before the pod that joins it
        (StepKind.CREATE_POD, "dynamic-webserver"),
        (StepKind.CREATE_CONTAINER, "dynamic-webserver-apache-httpd-init"),
        (StepKind.CREATE_CONTAINER, "dynamic-webserver-apache-httpd"),
        (StepKind.CREATE_CONTAINER, UPDATER),
        (StepKind.START_POD, "dynamic-webserver"),
        (StepKind.CREATE_VOLUME, "podspec-names.demo"),  # the names record, after the last change of names
    ]
    assert all(s.cause for s in plan.steps)


def test_one_changed_container_touches_only_that_container():
    _, plan = CASES["sidecar-command-changed"]()
    assert kinds(plan) == [
        (StepKind.REMOVE_CONTAINER, UPDATER),
        (StepKind.CREATE_CONTAINER, UPDATER),
        (StepKind.START_CONTAINER, UPDATER),
    ]
    assert plan.steps[0].timeout == 2  # terminationGracePeriodSeconds


def test_replacement_keeps_volumes():
    _, plan = CASES["host-port-changed"]()
    assert StepKind.REMOVE_VOLUME not in [s.kind for s in plan.steps]
    assert [s.kind for s in plan.steps][:2] == [StepKind.STOP_POD, StepKind.REMOVE_POD]


def test_no_changes_no_steps():
    _, plan = CASES["no-changes"]()
    assert plan.empty


def test_conflict_makes_no_plan():
    hand = ObservedPod("h", "dynamic-webserver", PodStatus.RUNNING)
    result = differ.compute(state(webserver()), ObservedState(pods=(hand,)), "demo")
    with pytest.raises(ConflictError) as caught:
        planner.build(result)
    assert "pod dynamic-webserver: a pod with this name exists and podspec did not create it" in caught.value.message
    assert "--adopt" in caught.value.hint


def test_created_containers_carry_labels_with_last_applied_and_hash():
    _, plan = CASES["create-from-empty"]()
    step = next(s for s in plan.steps if s.target == "dynamic-webserver-apache-httpd")
    labels = dict(step.labels)
    assert labels["io.podspec.managed-by"] == "podspec"
    assert labels["io.podspec.project"] == "demo"
    assert labels["io.podspec.container"] == "apache-httpd"
    assert len(labels["io.podspec.hash"]) == 16
    assert '"image":"docker.io/library/httpd:2.4"' in labels["io.podspec.last-applied"]


def test_empty_desired_state_plans_nothing_without_prune():
    result, plan = plan_for(DesiredState(), applied(state(webserver())))
    assert plan.empty and not result.has_changes


def test_pods_that_leave_are_removed_first_and_alone():
    # "zzz" leaves and "aaa" arrives (a rename): zzz's host port must be free before aaa starts.
    host = applied(state(replace(webserver(), name="zzz")))
    result, plan = plan_for(state(replace(webserver(), name="aaa")), host, prune=True)
    assert kinds(plan)[:2] == [(StepKind.STOP_POD, "zzz"), (StepKind.REMOVE_POD, "zzz")]
    assert [s.lane for s in plan.steps[:2]] == ["", ""]
    assert {s.lane for s in plan.steps[2:-2]} == {"aaa"}
    # no pod that stays changes its names: the names record holds meanwhile and is replaced last
    assert kinds(plan)[-2:] == [(StepKind.REMOVE_VOLUME, "podspec-names.demo"), (StepKind.CREATE_VOLUME, "podspec-names.demo")]


def test_claim_labels_go_on_the_volume_with_podspecs_own():
    from podspec.model import VolumeClaim

    desired = replace(state(webserver()), claims=(VolumeClaim("webserver-data", labels=(("backup", "daily"),)),))
    _, plan = plan_for(desired, ObservedState())
    labels = dict(plan.steps[0].labels)
    assert labels["backup"] == "daily" and labels["io.podspec.managed-by"] == "podspec"
