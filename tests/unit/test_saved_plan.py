"""Saved plans on plain data: what a plan sees of the host, the staleness rules, and the file."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from podspec.errors import UsageError
from podspec.model import EnvVar
from podspec.observed import ContainerState, ObservedImage, ObservedVolume
from podspec.reconcile import diff as differ
from podspec.reconcile import history as H
from podspec.reconcile import planner
from podspec.reconcile import saved_plan as S
from podspec.reconcile.history import HistoryRecord
from podspec.run.saved_plan import check_flags
from tests.unit.hosts import IMAGES, SIDECAR, applied, state, webserver, with_container, with_state

UPDATER = "dynamic-webserver-apache-httpd-index-updater"


def view(observed, desired=None):
    return S.host_view(desired or state(webserver()), observed, "demo")


def test_the_host_view_names_what_the_plan_depends_on():
    seen = view(applied(state(webserver())))
    names = [o.what for o in seen]
    assert names == sorted(names)
    assert "pod dynamic-webserver" in names
    assert "container dynamic-webserver/apache-httpd-index-updater" in names
    assert "volume webserver-data" in names
    assert "image docker.io/library/httpd:2.4" in names
    assert not any("infra" in n for n in names)  # the pod's ID stands for it
    updater = next(o for o in seen if o.what.endswith("index-updater"))
    assert (updater.id, updater.state) == (f"{UPDATER}-id", "running") and updater.labels.startswith("sha256:")


def test_history_records_and_other_projects_objects_are_not_part_of_the_view():
    observed = applied(state(webserver()))
    record = ObservedVolume("podspec-history.demo.000001", H.to_labels(HistoryRecord("demo", 1, "r", "t", "applied")))
    foreign = ObservedVolume("other", {"io.podspec.managed-by": "podspec", "io.podspec.project": "else"})
    assert view(replace(observed, volumes=observed.volumes + (record, foreign))) == view(observed)


@pytest.mark.parametrize(("change", "expected"), [
    (lambda o: replace(o, containers=tuple(replace(c, id="new") if c.name == UPDATER else c for c in o.containers)),
     "container dynamic-webserver/apache-httpd-index-updater was recreated since the plan was made"),
    (lambda o: with_state(o, UPDATER, ContainerState.EXITED),
     "container dynamic-webserver/apache-httpd-index-updater was running when the plan was made and is exited now"),
    (lambda o: replace(o, containers=tuple(c for c in o.containers if c.name != UPDATER)),
     "container dynamic-webserver/apache-httpd-index-updater was removed since the plan was made"),
    (lambda o: replace(o, volumes=()), "volume webserver-data was removed since the plan was made"),
    (lambda o: replace(o, volumes=(ObservedVolume("webserver-data", {"made": "by hand"}),)),
     "volume webserver-data changed since the plan was made"),
    (lambda o: replace(o, images=tuple(ObservedImage("d" * 64, i.names) if "httpd" in i.names[0] else i for i in IMAGES)),
     f"image docker.io/library/httpd:2.4 now points to image {'d' * 12}, not {'c' * 12} as when the plan was made"),
    (lambda o: replace(o, images=tuple(i for i in IMAGES if "httpd" not in i.names[0])),
     "image docker.io/library/httpd:2.4 was removed since the plan was made"),
    (lambda o: replace(o, pods=tuple(replace(p, id="other-id") for p in o.pods)),
     "pod dynamic-webserver was recreated since the plan was made"),
])
def test_stale_host_says_what_changed(change, expected):
    before = applied(state(webserver()))
    assert S.stale_host(view(before), view(before)) == []
    assert expected in S.stale_host(view(before), view(change(before)))


def test_objects_that_appear_make_a_plan_stale():
    desired = state(webserver())
    empty = view(replace(applied(desired), pods=(), containers=(), volumes=(), images=()))
    found = S.stale_host(empty, view(applied(desired)))
    assert "pod dynamic-webserver appeared since the plan was made" in found
    assert "container dynamic-webserver/apache-httpd appeared since the plan was made" in found
    assert "volume webserver-data appeared since the plan was made" in found
    assert "image docker.io/library/httpd:2.4 appeared since the plan was made" in found


def test_stale_manifests_names_each_file():
    before = (("m/a.yaml", "sha256:1"), ("m/b.yaml", "sha256:2"))
    assert S.stale_manifests(before, before) == []
    assert S.stale_manifests(before, (("m/a.yaml", "sha256:9"), ("m/c.yaml", "sha256:3"))) == [
        "m/a.yaml changed since the plan was made",
        "m/b.yaml was removed since the plan was made",
        "m/c.yaml was added since the plan was made",
    ]


def test_stale_steps_compares_the_derived_plan_with_the_saved_one():
    desired = state(webserver())
    changed = state(with_container(webserver(), "apache-httpd-index-updater", command=("sh", "-c", SIDECAR + " ")))
    saved = S.saved_steps(planner.build(differ.compute(changed, applied(desired), "demo")))
    assert S.stale_steps(saved, saved) == []
    assert S.stale_steps(saved, ()) == [
        "the plan made now differs from the saved one (no longer planned: "
        + ", ".join(s.describe() for s in saved) + ")"]
    assert "another order" in S.stale_steps(saved, tuple(reversed(saved)))[0]


def test_saved_steps_hold_no_env_value_and_a_changed_value_changes_the_spec_digest():
    def steps(value: str):
        pod = with_container(webserver(), "apache-httpd", env=(EnvVar("DB_PASSWORD", value), EnvVar("MODE", "plain-value")))
        return S.saved_steps(planner.build(differ.compute(state(pod), applied(state(webserver())), "demo")))

    text = json.dumps([s.__dict__ for s in steps("hunter2")])
    assert "hunter2" not in text and "plain-value" not in text
    assert steps("hunter2") != steps("hunter3")


def saved(**changes) -> S.SavedPlan:
    desired = state(webserver())
    observed = applied(desired)
    found = differ.compute(desired, observed, "demo")
    plan = S.SavedPlan("demo", ("m/",), (("m/pods.yaml", "sha256:1"),), S.host_view(desired, observed, "demo"),
                       S.saved_steps(planner.build(found)), found.summary(), "2026-11-28T10:00:00Z", "abc")
    return replace(plan, **changes)


def test_the_plan_file_round_trips_and_is_versioned():
    plan = saved(prune=True)
    data = S.to_json(plan)
    assert data["format"] == "podspec-plan" and data["version"] == 1
    assert sorted(data) == ["created", "format", "host", "manifests", "options", "project", "revision", "steps",
                            "summary", "version"]
    assert S.from_json(json.loads(json.dumps(data)), "p.json") == plan
    with pytest.raises(UsageError, match="not a podspec plan file"):
        S.from_json({"a": 1}, "p.json")
    with pytest.raises(UsageError, match="version 2"):
        S.from_json({**data, "version": 2}, "p.json")
    with pytest.raises(UsageError, match="damaged"):
        S.from_json({**data, "steps": [{}]}, "p.json")


def test_apply_plan_refuses_flags_that_contradict_the_plan():
    plan = saved()
    check_flags(plan, "p.json", ["m/"], None, ("demo", ""), False, False, False)
    check_flags(plan, "p.json", ["m/"], "demo", None, False, False, False)
    # made on a host that keeps the name an older podspec gave these manifests (reconcile/former.py)
    check_flags(plan, "p.json", ["m/"], None, ("demo-3fa2c1", "demo"), False, False, False)
    with pytest.raises(UsageError, match="made for m/; apply --plan needs its manifests and options on the command line, not other/"):
        check_flags(plan, "p.json", ["other/"], None, None, False, False, False)
    with pytest.raises(UsageError, match="project 'demo', not 'x'"):
        check_flags(plan, "p.json", ["m/"], "x", None, False, False, False)
    with pytest.raises(UsageError, match="its manifests make project 'm-3fa2c1'") as caught:
        check_flags(plan, "p.json", ["m/"], None, ("m-3fa2c1", "m"), False, False, False)
    assert "carry it out with: podspec apply --plan p.json m/ --project demo" in caught.value.hint
    with pytest.raises(UsageError, match="its manifests make project") as caught:  # the hint: exactly what to type
        check_flags(replace(plan, prune=True), "p.json", ["m/"], None, ("m-3fa2c1", "m"), True, False, False)
    assert "podspec apply --plan p.json m/ --project demo --prune" in caught.value.hint
    with pytest.raises(UsageError, match="without --prune"):
        check_flags(plan, "p.json", ["m/"], None, None, True, False, False)


@pytest.mark.parametrize("option", ["prune", "prune_volumes", "adopt", "force_conflicts"])
def test_a_plan_file_cannot_ask_for_more_than_the_command_line_says(option):
    """An edited plan file that adds an option (and steps to match) is refused unless the command
    line, where it was reviewed, asks for the same; the hint restates the whole command."""
    plan = replace(saved(), **{option: True})
    flag = "--" + option.replace("_", "-")
    with pytest.raises(UsageError, match=f"the plan asks for {flag}, which the command line does not") as caught:
        check_flags(plan, "p.json", ["m/"], None, None, False, False, False)
    assert f"podspec apply --plan p.json m/ {flag}" in caught.value.hint
    with pytest.raises(UsageError, match="needs its manifests and options on the command line"):
        check_flags(plan, "p.json", [], None, None, False, False, False)
    given = {o: o == option for o in ("prune", "prune_volumes", "adopt", "force_conflicts")}
    check_flags(plan, "p.json", ["m/"], None, None, given["prune"], given["prune_volumes"], given["adopt"], given["force_conflicts"])


def test_the_command_to_type_is_quoted_for_a_shell():
    plan = replace(saved(), paths=("my manifests/",), prune=True)
    assert plan.command("the plan.json") == "podspec apply --plan 'the plan.json' 'my manifests/' --prune"
    assert plan.command("p.json", with_project=True) == "podspec apply --plan p.json 'my manifests/' --project demo --prune"


def test_a_signed_plan_takes_its_options_from_the_file_and_an_altered_one_is_refused(tmp_path):
    from podspec.render import saved_plan_text
    from podspec.run.saved_plan import read_plan

    path = tmp_path / "plan.json"
    path.write_text(saved_plan_text(replace(saved(), prune=True), b"k3y"))
    plan = read_plan(str(path), b"k3y")
    assert plan.signed and plan.prune
    check_flags(plan, str(path), [], None, None, False, False, False)  # signed: nothing to restate
    data = json.loads(path.read_text())
    data["options"]["prune_volumes"] = True
    path.write_text(json.dumps(data))
    with pytest.raises(UsageError, match="its signature does not match"):
        read_plan(str(path), b"k3y")
    path.write_text(saved_plan_text(saved()))
    with pytest.raises(UsageError, match="it is not signed"):
        read_plan(str(path), b"k3y")
    path.write_text(saved_plan_text(saved(), b"other"))
    with pytest.raises(UsageError, match="signed with another key"):
        read_plan(str(path), b"k3y")


def test_the_projects_other_pods_count_only_for_a_plan_with_prune():
    other = replace(webserver(), name="other")
    observed = applied(state(webserver(), other))
    desired = state(webserver())
    assert not any("other" in o.what for o in S.host_view(desired, observed, "demo"))
    pruning = S.host_view(desired, observed, "demo", prune=True)
    assert "pod other" in [o.what for o in pruning]
    assert "container other/apache-httpd" in [o.what for o in pruning]
