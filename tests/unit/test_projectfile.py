"""podspec.toml: finding it, reading it, refusing what it cannot mean; targets' one exit code."""

from __future__ import annotations

from pathlib import Path

import pytest

from podspec.cli.targets import exit_code
from podspec.errors import PodspecError, UsageError
from podspec.run.projectfile import Target, find, load
from podspec.run.targets import TargetOutcome, each

FULL = """\
project = "shop"

[policy]
profile = "restricted"
allow_host_paths = ["/srv/shop"]
allow_host_ports = [8080, 8443]
allow_capabilities = ["NET_ADMIN"]

[targets.edge]
url = "ssh://deploy@edge.example.com/run/podman/podman.sock"
identity = "~/.ssh/deploy"
manifests = ["manifests/"]

[targets.lab]
connection = "lab"
manifests = ["manifests/web.yaml", "/abs/other.yaml"]
"""


def write(directory: Path, text: str) -> Path:
    path = directory / "podspec.toml"
    path.write_text(text)
    return path


def test_found_by_walking_up(tmp_path):
    path = write(tmp_path, FULL)
    (tmp_path / "a" / "b").mkdir(parents=True)
    assert find(tmp_path / "a" / "b") == path


def test_not_looked_for_above_the_git_repository(tmp_path):
    write(tmp_path, FULL)
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    (tmp_path / "repo" / "sub").mkdir()
    assert find(tmp_path / "repo" / "sub") is None


def test_everything_it_holds(tmp_path):
    found = load(write(tmp_path, FULL))
    assert found.project == "shop"
    assert found.as_env() == {
        "PODSPEC_PROJECT": "shop", "PODSPEC_POLICY": "restricted", "PODSPEC_ALLOW_HOST_PATHS": "/srv/shop",
        "PODSPEC_ALLOW_HOST_PORTS": "8080,8443", "PODSPEC_ALLOW_CAPABILITIES": "NET_ADMIN",
    }
    assert found.targets == (
        Target("edge", (str(tmp_path / "manifests"),), url="ssh://deploy@edge.example.com/run/podman/podman.sock",
               identity="~/.ssh/deploy"),
        Target("lab", (str(tmp_path / "manifests" / "web.yaml"), "/abs/other.yaml"), connection="lab"),
    )
    assert [t.name for t in found.select(["all"])] == ["edge", "lab"]
    assert [t.name for t in found.select(["lab", "edge"])] == ["edge", "lab"]  # the file's order


def test_an_empty_file_changes_nothing(tmp_path):
    found = load(write(tmp_path, ""))
    assert found.as_env() == {} and found.targets == ()
    with pytest.raises(UsageError, match="names no targets"):
        found.select(["all"])


@pytest.mark.parametrize(("text", "message"), [
    ("projekt = 'x'\n", "unknown key projekt"),
    ("[policy]\nprofle = 'baseline'\n", "[policy]: unknown key profle"),
    ("[targets.a]\nurl = 'unix:///x'\nmanifest = ['m']\n", "[targets.a]: unknown key manifest"),
    ("[targets.a]\nmanifests = ['m']\n", "give exactly one of url and connection"),
    ("[targets.a]\nurl = 'unix:///x'\nconnection = 'c'\nmanifests = ['m']\n", "give exactly one of url and connection"),
    ("[targets.a]\nurl = 'unix:///x'\n", "[targets.a]: no manifests"),
    ("[targets.all]\nurl = 'unix:///x'\nmanifests = ['m']\n", "`all` is reserved"),
    ("[targets.a]\nurl = 'unix:///x'\nmanifests = 'm'\n", "manifests must be a list"),
    ("project = 3\n", "project must be a string"),
    ("project = \n", "not valid TOML"),
])
def test_mistakes_are_errors_naming_the_file(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(PodspecError) as caught:
        load(path)
    assert str(path) in caught.value.message
    assert message in caught.value.message
    assert caught.value.hint


def test_unknown_target_names_the_known_ones(tmp_path):
    with pytest.raises(UsageError) as caught:
        load(write(tmp_path, FULL)).select(["edge", "prod"])
    assert caught.value.message == f"no target named 'prod' in {tmp_path / 'podspec.toml'}"
    assert caught.value.hint == "known targets: edge, lab (or `all`)"


def outcome(result: object = None, error: PodspecError | None = None) -> TargetOutcome:
    return TargetOutcome(Target("t", ("m",), url="unix:///x"), result, error)


@pytest.mark.parametrize(("outcomes", "code"), [
    ([outcome("same"), outcome("same")], 0),
    ([outcome("same"), outcome("changed")], 2),
    ([outcome("changed"), outcome("failed")], 1),
    ([outcome("changed"), outcome(error=PodspecError("down"))], 1),
])
def test_one_exit_code_for_all_targets(outcomes, code):
    assert exit_code(outcomes, failed=lambda r: r == "failed", changed=lambda r: r == "changed") == code


def test_each_runs_every_target_and_keeps_their_order():
    targets = [Target(name, ("m",), url="unix:///x") for name in ("c", "a", "b")]

    def work(target: Target) -> str:
        if target.name == "a":
            raise UsageError("a is down")
        return target.name.upper()

    outcomes = each(targets, work)
    assert [(o.target.name, o.result, o.error and o.error.message) for o in outcomes] == [
        ("c", "C", None), ("a", None, "a is down"), ("b", "B", None)]


def test_module_reads_toml_with_the_standard_library_only_when_there_is_a_file(tmp_path):
    import subprocess
    import sys

    (tmp_path / "podspec.toml").write_text('project = "shop"\n')
    code = ("import sys; from pathlib import Path; from podspec.run import projectfile; "
            "before = 'tomllib' in sys.modules; loaded = projectfile.load(Path(sys.argv[1])); "
            "print(before, 'tomllib' in sys.modules, loaded.project)")
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "podspec.toml")], capture_output=True, text=True,
                          check=True)
    assert done.stdout.split() == ["False", "True", "shop"]
