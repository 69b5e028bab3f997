"""A project network's subnet is chosen free of the subnets this Podman knows; the host may use one
that Podman does not list (another Podman's bridge, a VPN's route), and Podman then refuses it
("subnet ... is already used on the host"). The next free candidates are tried: the choice is the
same at every run, so "run the command again" used to fail the same way for ever."""

from __future__ import annotations

from podspec.engine.fake import FakeEngine
from podspec.reconcile.network import free_subnet
from podspec.run.apply import ApplyRequest, Manifests, apply

POD = """\
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers: [{name: a, image: "docker.io/library/alpine:latest"}]
"""


def _apply(tmp_path, engine):
    path = tmp_path / "p.yaml"
    path.write_text(POD)
    return apply(ApplyRequest(Manifests((str(path),)), project="p"), lambda: engine)


def test_a_subnet_the_host_uses_unknown_to_podman_is_passed_over(tmp_path):
    engine = FakeEngine(images=("docker.io/library/alpine:latest",))
    first = free_subnet(engine.observe().networks, "p")
    engine.host_subnets = {first}
    _apply(tmp_path, engine)
    network = engine.networks["podspec-p"]
    assert network.subnet != first and network.subnet.startswith("10.9")
    assert "web" in engine.pods


def test_a_host_that_takes_every_candidate_fails_saying_so(tmp_path):
    import ipaddress

    engine = FakeEngine(images=("docker.io/library/alpine:latest",))
    engine.host_subnets = {str(s) for s in ipaddress.IPv4Network("10.90.0.0/15").subnets(new_prefix=22)}
    result = _apply(tmp_path, engine)
    assert result.failure is not None and "already used on the host" in str(result.failure)
    assert "podspec-p" not in engine.networks and "web" not in engine.pods


def test_podmans_words_for_a_taken_subnet_are_read_as_such_and_a_taken_name_is_not():
    from podspec.engine.parse import refusal
    from podspec.errors import Refusal

    assert refusal(500, "subnet 10.90.132.0/22 is already used on the host or by another config") is Refusal.SUBNET_TAKEN
    assert refusal(409, "network name podspec-p already used: network already exists") is Refusal.EXISTS
