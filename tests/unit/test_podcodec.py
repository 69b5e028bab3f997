"""The apply history keeps each pod as JSON (reconcile/podcodec.py): every pod the loader builds
from the valid fixtures and the accepted corpus comes back equal, with the same intent; a
secret-looking env value is kept only as its digest."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from podspec.errors import ManifestError
from podspec.loader import load
from podspec.model import Container, EnvVar, Pod
from podspec.reconcile import podcodec
from podspec.reconcile.intent import pod_intent
from podspec.secrets import looks_secret

FIXTURES = Path(__file__).parent.parent / "fixtures"


def fixture_pods() -> list[Pod]:
    pods: list[Pod] = []
    files = sorted((FIXTURES / "valid").glob("*.yaml")) + sorted((FIXTURES / "corpus").rglob("*.y*ml"))
    for path in files:
        try:
            pods += load([str(path)]).pods
        except ManifestError:
            continue  # refused corpus files: nothing to keep
    return pods


def plain(pod: Pod) -> Pod:
    """The pod with its secret-looking literal env values replaced by their digests, as decode gives
    them back without the values."""
    def mend(c: Container) -> Container:
        return replace(c, env=tuple(
            EnvVar(v.name, podcodec.stored_env_value(v.name, v.value)) if v.ref is None and looks_secret(v.name) else v
            for v in c.env))
    return replace(pod, containers=tuple(mend(c) for c in pod.containers),
                   init_containers=tuple(mend(c) for c in pod.init_containers))


def test_every_fixture_pod_round_trips_through_json_with_the_same_intent():
    pods = fixture_pods()
    assert len(pods) > 40
    for pod in pods:
        data = json.loads(json.dumps(podcodec.encode(pod)))
        values = {(n, d): next(v.value for c in pod.all_containers() for v in c.env if v.name == n and v.ref is None)
                  for _, n, d in podcodec.redacted(data)}
        back = podcodec.decode(data, values)
        assert back == pod, pod.name
        assert pod_intent(back) == pod_intent(pod)
        assert podcodec.decode(data) == plain(pod)  # without the values: their digests stand in


def test_a_secret_looking_env_value_is_kept_as_its_digest_and_comes_back_only_with_its_value():
    pod = Pod("p", (Container("c", "docker.io/library/alpine:latest",
                              env=(EnvVar("DB_PASSWORD", "hunter2"), EnvVar("MODE", "prod"))),))
    text = json.dumps(podcodec.encode(pod))
    assert "hunter2" not in text and "prod" in text
    data = json.loads(text)
    [(container, name, digest)] = podcodec.redacted(data)
    assert (container, name) == ("c", "DB_PASSWORD") and digest.startswith("sha256:")
    assert podcodec.decode(data, {("DB_PASSWORD", digest): "hunter2"}) == pod
    assert podcodec.decode(data).containers[0].env[0].value == digest


def test_json_that_is_no_pod_is_a_decode_error():
    with pytest.raises(podcodec.DecodeError):
        podcodec.decode({"name": "p", "containers": [{"name": "c", "image": "x", "nonsense": 1}]})
    with pytest.raises(podcodec.DecodeError):
        podcodec.decode({"name": "p"})
