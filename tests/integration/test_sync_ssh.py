"""The pull agent against a Podman reached over ssh:// (a real OpenSSH server on loopback,
tests/integration/sshd.py): applies, and self-heals from the event stream through the tunnel."""

from __future__ import annotations

import pytest

from tests.integration.manifests import sleeper
from tests.integration.sshd import Sshd, sshd  # noqa: F401 - the fixture
from tests.integration.sync_helpers import Agent, Repo, running, wait_until

pytestmark = pytest.mark.podman


def test_the_agent_over_ssh_applies_and_self_heals(podman, sshd: Sshd, tmp_path):  # noqa: F811
    before = sshd.tunnels()
    repo, state = Repo(tmp_path / "repo"), tmp_path / "state"
    head = repo.commit({"a.yaml": sleeper("alpha")}, "alpha")
    remote = ("--url", sshd.url(podman.state / "podman.sock"), "--identity", str(sshd.client_key))
    with Agent(podman, repo, state, "--interval", "1h", "--self-heal", *remote,
               env={"PODSPEC_SSH_CONFIG": str(sshd.ssh_config)}) as agent:
        wait_until(lambda: agent.agent_state().get("applied") == head, 60, "the commit applied over ssh", agent)
        wait_until(lambda: running(podman, "alpha-main"), 30, "the container running", agent)
        podman.podman("rm", "-f", "-t", "0", "alpha-main")
        wait_until(lambda: running(podman, "alpha-main"), 5, "the removed container back over ssh", agent)
        wait_until(lambda: " repaired " in agent.log(), 5, "the repair logged", agent)
        assert "events-lost" not in agent.log()
        assert agent.stop() == 0
    assert sshd.tunnels() - before == set(), "the agent's ssh tunnels (applies, event stream) end with it"
