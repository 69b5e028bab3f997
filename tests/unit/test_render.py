"""Rendering: colour only when asked, stable JSON shapes, plan structure."""

from __future__ import annotations

from podspec import render
from podspec.observed import ObservedState
from podspec.reconcile import diff as differ
from podspec.reconcile import planner
from tests.unit.hosts import state, webserver


def test_colour_only_when_asked():
    result = differ.compute(state(webserver()), ObservedState(), "demo")
    plain = render.diff_text(result)
    coloured = render.diff_text(result, colour=True)
    assert "\x1b[" not in plain
    assert "\x1b[32m+ pod dynamic-webserver: create (not on the host)\x1b[0m" in coloured


def test_json_shape_is_stable():
    result = differ.compute(state(webserver()), ObservedState(), "demo")
    data = render.diff_json(result)
    assert sorted(data) == [
        "changed", "kept", "networks", "pods", "project", "secrets", "summary", "unchanged_pods", "version", "volumes", "warnings",
    ]
    assert data["version"] == 1
    assert sorted(data["pods"][0]) == ["action", "cause", "containers", "fields", "name"]
    assert sorted(data["pods"][0]["containers"][0]) == ["action", "cause", "fields", "name", "role"]


def test_plan_json_actions_are_stable_identifiers_with_typed_resources():
    plan = planner.build(differ.compute(state(webserver()), ObservedState(), "demo"))
    steps = render.plan_json(plan)
    assert [s["action"] for s in steps] == [
        "create_volume", "create_network", "create_pod", "create_container", "create_container", "create_container", "start_pod",
        "create_volume"]
    assert steps[0] == {"action": "create_volume", "resource": "volume:webserver-data", "target": "webserver-data",
                        "lane": None, "cause": "not on the host"}
    assert steps[1]["resource"] == "network:podspec-demo"
    assert steps[3]["resource"] == "container:dynamic-webserver/apache-httpd-init"
    assert steps[3]["target"] == "dynamic-webserver-apache-httpd-init"
    assert {s["lane"] for s in steps[2:-1]} == {"dynamic-webserver"}
