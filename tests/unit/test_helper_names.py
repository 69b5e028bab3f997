"""podspec's short-lived helper containers (the one that makes a hostPath, the probe runner) have
names of a rule (`podspec-hostpath-<hash of the path>`, `podspec-probe-<infra id>`) that any pod can
take (pod `podspec`, container `hostpath-...`). A container of such a name that podspec's helper did
not make used to be removed (force) or used as the helper; it is now left alone, and said so."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from podspec import labels as L
from podspec.engine import hostpaths
from podspec.errors import EngineError, Refusal


class Host:
    """Answers a helper's Podman calls: one container of the helper's name exists, with `labels`."""

    def __init__(self, name: str, labels: dict[str, str], state: str = "exited") -> None:
        self.name, self.labels, self.state = name, labels, state
        self.calls: list[tuple[str, str]] = []

    def __call__(self, method: str, path: str, what: str = "", **kwargs: Any) -> Any:
        self.calls.append((method, path))
        if method == "post" and path == "/containers/create":
            if self.name:
                raise EngineError(f"{what}: the name {self.name} is in use", reason=Refusal.EXISTS)
            self.name, self.labels = kwargs["body"]["name"], kwargs["body"]["labels"]
            return {"Id": "new"}
        if method == "get" and path == f"/containers/{self.name}/json":
            return {"Name": self.name, "Config": {"Labels": self.labels}, "State": {"Status": self.state}}
        if method == "delete":
            self.name = ""
            return None
        if path.endswith("/wait"):
            return {"StatusCode": 0}
        return None


def test_a_container_of_the_host_path_helpers_name_that_podspec_did_not_make_is_left_alone():
    name = hostpaths.helper_name("/srv/data")
    host = Host(name, {L.MANAGED_BY: L.MANAGER, L.ROLE: "container", L.PROJECT: "other"})
    with pytest.raises(EngineError, match=f"container {name}, which podspec's helper did not make, holds"):
        hostpaths.create(host, "/srv/data", "DirectoryOrCreate")
    assert ("delete", f"/containers/{name}") not in host.calls and host.name == name


def test_a_helper_left_by_a_killed_run_is_removed_and_made_again():
    name = hostpaths.helper_name("/srv/data")
    host = Host(name, {L.MANAGED_BY: L.MANAGER, L.ROLE: hostpaths.ROLE_HOST_PATH})
    hostpaths.create(host, "/srv/data", "DirectoryOrCreate")
    assert host.calls.count(("post", "/containers/create")) == 2 and host.calls[-1] == ("delete", f"/containers/{name}")


@pytest.mark.parametrize("state", ["running", "exited"])
def test_a_container_of_the_probe_helpers_name_that_podspec_did_not_make_is_neither_used_nor_removed(state):
    from podspec.engine.probes import ProbeRunner, ProbeTarget, helper_name

    infra = "0123456789abcdef" * 4
    name = helper_name(infra)
    host = Host(name, {L.MANAGED_BY: L.MANAGER, L.ROLE: "container", L.PROJECT: "other"}, state)
    runner = ProbeRunner(host)
    with pytest.raises(EngineError, match=f"container {name}, which podspec's helper did not make"):
        runner.helper(ProbeTarget("web-app", "web", infra))
    assert [c for c in host.calls if c[0] != "get"] == []


# ------------------------------------------------ the hostPath helper's shell never reads the path

@pytest.mark.parametrize("kind", ["FileOrCreate", "DirectoryOrCreate"])
@pytest.mark.parametrize("tail", ["missing/$(touch PWNED)", "`touch PWNED`", "x\"; touch PWNED; echo \"", "$(touch PWNED)"])
def test_a_host_path_is_one_word_to_the_helpers_shell_and_never_run(tmp_path, kind, tail):
    """The helper runs as root in the host's root: a path under an allowed directory such as
    `/srv/data/missing/$(cmd)` used to run cmd there (the messages quoted the path in double quotes)."""
    import subprocess

    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "exists").write_text("")
    path = f"{tmp_path}/x/{tail}"
    argv = hostpaths.command(path, kind)
    subprocess.run(argv, cwd=tmp_path, capture_output=True, timeout=10)
    assert not list(tmp_path.rglob("PWNED")) and not (Path("/") / "PWNED").exists()
    said = subprocess.run(hostpaths.command(f"{tmp_path}/nope/{tail}", "FileOrCreate"), cwd=tmp_path,
                          capture_output=True, text=True, timeout=10)
    assert said.returncode == 4 and f"the directory of {tmp_path}/nope/{tail} does not exist" in said.stderr
    assert not list(tmp_path.rglob("PWNED"))
