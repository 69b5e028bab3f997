"""Whole objects only a cluster's API server uses (a ServiceAccount, RBAC, a PodDisruptionBudget, an
autoscaler): accepted beside the pods, one warning each at its kind (`--strict`: an error), as
`podman kube play` skips kinds it does not run. Workload kinds podspec does not run are refused with
how to write the same pods in a kind it runs.

The fixtures are excerpts of real manifests found in corpus 3 (bench/corpus3_sources.txt).
"""

from __future__ import annotations

import textwrap

import pytest

from podspec.errors import ManifestError
from podspec.loader import load

# Excerpt of GoogleCloudPlatform/microservices-demo kubernetes-manifests/frontend.yaml
# (commit 34ffea9175946982c3088ed84994fe6019ad6e92): a Deployment naming its service account,
# a Service, and the ServiceAccount itself.
FRONTEND = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: frontend
spec:
  selector:
    matchLabels:
      app: frontend
  template:
    metadata:
      labels:
        app: frontend
    spec:
      serviceAccountName: frontend
      containers:
        - name: server
          image: us-central1-docker.pkg.dev/google-samples/microservices-demo/frontend:v0.10.3
          ports:
          - containerPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: frontend
spec:
  selector:
    app: frontend
  ports:
  - name: http
    port: 80
    targetPort: 8080
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: frontend
"""

# GoogleCloudPlatform/kubernetes-engine-samples quickstarts/hello-app-redis/manifests/pdb-minavailable.yaml
# (commit 2b5036514162a489145c5e5570bc320efbcb37bf), whole.
PDB = """\
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: redis-pdb
spec:
  minAvailable: 3
  selector:
    matchLabels:
      app: redis
"""

# The start of Azure-Samples/aks-store-demo aks-store-quickstart.yaml
# (commit 7ce10c5110d6a52d3517dfb6d7a7b7b2edf2e5a5).
STATEFULSET = """\
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: rabbitmq
spec:
  serviceName: rabbitmq
  replicas: 1
  selector:
    matchLabels:
      app: rabbitmq
  template:
    metadata:
      labels:
        app: rabbitmq
    spec:
      containers:
        - name: rabbitmq
          image: rabbitmq:4.3.2-management-alpine
"""


def write(tmp_path, text: str, name: str = "f.yaml") -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def test_a_service_account_beside_a_deployment_is_a_warning_at_its_kind(tmp_path):
    file = write(tmp_path, FRONTEND)
    state = load([file])
    assert [p.name for p in state.pods] == ["frontend-pod"]  # a Deployment's pod, as kube play names it
    assert [s.name for s in state.services] == ["frontend"]
    found = [(p.origin.line, p.origin.column, p.path, p.message) for p in state.warnings if p.path == "kind"]
    assert found == [(34, 7, "kind", "a ServiceAccount is ignored on a single Podman host "
                                     "(it is about the identity pods use to call the cluster's API)")]


def test_strict_refuses_the_service_account(tmp_path):
    file = write(tmp_path, FRONTEND)
    with pytest.raises(ManifestError) as raised:
        load([file], strict=True)
    kinds = [str(p) for p in raised.value.problems if p.path == "kind"]
    assert kinds == [f"{file}:34:7: kind: a ServiceAccount would be ignored on a single Podman host (it is about the "
                     "identity pods use to call the cluster's API) (remove it, or validate without --strict)"]


def test_a_file_of_only_a_pod_disruption_budget_loads_with_one_warning(tmp_path):
    state = load([write(tmp_path, PDB)])
    assert state.pods == () and state.services == ()
    assert [(w.origin.line, w.origin.column, w.message) for w in state.warnings] == [
        (2, 7, "a PodDisruptionBudget is ignored on a single Podman host (it is about evictions when the cluster "
               "drains a node)")]


@pytest.mark.parametrize("api_version, kind", [
    ("rbac.authorization.k8s.io/v1", "RoleBinding"), ("autoscaling/v2", "HorizontalPodAutoscaler"),
])
def test_other_cluster_objects_are_warnings(tmp_path, api_version, kind):
    state = load([write(tmp_path, f"apiVersion: {api_version}\nkind: {kind}\nmetadata:\n  name: x\n")])
    assert [w.message.split(" is ignored")[0] for w in state.warnings] == [f"a {kind}"]


def test_a_cluster_kind_under_an_api_version_it_does_not_have_is_refused(tmp_path):
    file = write(tmp_path, "apiVersion: v2\nkind: ServiceAccount\nmetadata:\n  name: x\n")
    with pytest.raises(ManifestError) as raised:
        load([file])
    assert any('unsupported kind "ServiceAccount"' in str(p) for p in raised.value.problems)


def test_a_stateful_set_is_refused_with_how_to_write_it(tmp_path):
    file = write(tmp_path, STATEFULSET)
    with pytest.raises(ManifestError) as raised:
        load([file])
    assert [str(p) for p in raised.value.problems] == [
        f'{file}:2:7: kind: unsupported kind "StatefulSet" (write it as a Deployment with replicas: 1 (one host '
        "keeps one copy), its volumeClaimTemplates as PersistentVolumeClaims and its serviceName as a Service; "
        "supported kinds: Pod, PersistentVolumeClaim, ConfigMap, Secret, Service, Deployment, Job)"]


def test_a_generated_name_is_one_problem_that_says_to_set_metadata_name(tmp_path):
    # The start of GoogleCloudPlatform/kubernetes-engine-samples batch/kueue-cohort/job-team-a.yaml
    # (commit 2b5036514162a489145c5e5570bc320efbcb37bf): a Job named by the cluster on each create.
    file = write(tmp_path, """\
        apiVersion: batch/v1
        kind: Job
        metadata:
          namespace: team-a
          generateName: sample-job-team-a-
        spec:
          template:
            spec:
              containers:
              - name: dummy-job
                image: gcr.io/k8s-staging-perf-tests/sleep:v0.1.0
              restartPolicy: Never
        """)
    with pytest.raises(ManifestError) as raised:
        load([file])
    assert [str(p) for p in raised.value.problems] == [
        f"{file}:5:3: metadata.generateName: generateName is a Kubernetes field podspec does not support: podspec "
        "needs a fixed name to find the pod again (set metadata.name)"]
