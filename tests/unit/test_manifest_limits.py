"""Numbers a manifest may write that used to hang or exhaust the machine that reads it (a CI
runner's validate, the agent judging a pushed commit): each is an error at its place, at once."""

from __future__ import annotations

import pytest

from tests.unit.loading import problems

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: many}
spec:
  replicas: REPLICAS
  selector: {matchLabels: {app: many}}
  template:
    metadata: {labels: {app: many}}
    spec:
      containers: [{name: a, image: alpine}]
"""


@pytest.mark.parametrize("replicas", [1001, 2_000_000_000])
def test_a_deployment_of_more_copies_than_one_host_runs_is_refused_at_once(tmp_path, replicas):
    """replicas: 2000000000 made validate build copies until the machine ran out of memory."""
    [found] = problems(tmp_path, DEPLOYMENT.replace("REPLICAS", str(replicas)))
    assert found.startswith(f"F:5:13: spec.replicas: {replicas} replicas: at most 1000")


def test_a_thousand_copies_are_still_fine(tmp_path):
    assert problems(tmp_path, DEPLOYMENT.replace("REPLICAS", "3")) == []


def test_many_deployments_of_many_copies_stop_the_reading_at_the_limit(tmp_path):
    """Within the per-Deployment limit, thousands of Deployments in one file could still make
    millions of copies; reading stops once the manifests make more than 5000 pods."""
    text = "".join(DEPLOYMENT.replace("many", f"d{i}").replace("REPLICAS", "1000") + "---\n" for i in range(200))
    found = problems(tmp_path, text)
    assert len(found) == 1 and "the manifests make more than 5000 pods" in found[0]
    assert found[0].startswith("F:56:1:")  # the sixth Deployment: 6000 pods


@pytest.mark.parametrize("kind, name, replicas, longest", [
    ("Deployment", "d" * 59, 2, "d" * 59 + "-pod-1"),
    ("Deployment", "d" * 58, 10, "d" * 58 + "-pod-9"),
    ("Job", "j" * 60, 1, "j" * 60 + "-pod"),
])
def test_a_workload_whose_pods_names_are_no_hostname_is_refused(tmp_path, kind, name, replicas, longest):
    """A copy's name is its hostname (Linux: at most 64 bytes, Kubernetes: 63); a Deployment named
    with 59 characters passed validate and its second copy failed to start (sethostname: invalid argument)."""
    text = DEPLOYMENT.replace("REPLICAS", str(replicas)).replace("{name: many}", f"{{name: {name}}}")
    if kind == "Job":
        text = text.replace("apps/v1", "batch/v1").replace("Deployment", "Job").replace(f"  replicas: {replicas}\n", "")
        text = text.replace("  selector: {matchLabels: {app: many}}\n", "").replace("    spec:\n", "    spec:\n      restartPolicy: Never\n")
    [found] = problems(tmp_path, text)
    assert found.startswith("F:3:18: metadata.name:") and f"its pod {longest} ({len(longest)} characters)" in found


def test_a_workload_whose_pods_names_fit_is_fine(tmp_path):
    text = DEPLOYMENT.replace("REPLICAS", "10").replace("{name: many}", f"{{name: {'d' * 57}}}")
    assert problems(tmp_path, text) == []
