"""Issue 27 (hardening) against the real Podman: what a hostile or careless manifest, repository or
pusher could do to a host is refused or contained."""

from __future__ import annotations

import subprocess

from typer.testing import CliRunner

from podspec.cli import app
from tests.integration.manifests import Result, ids, sleeper

CLAIM = """\
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: {name}
---
"""


def _cli(podman, *args: str) -> Result:
    """podspec with the default project (no --project): the directory rule."""
    result = CliRunner().invoke(app, [*args, "--url", podman.url], catch_exceptions=False)
    return Result(result.exit_code, result.stdout, result.stderr)


def _repository(root, pods: str, remote: str) -> str:
    (root / "manifests").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "remote", "add", "origin", remote], check=True)
    (root / "manifests" / "pods.yaml").write_text(pods)
    return str(root / "manifests")


def _with_volume(name: str, volume: str) -> str:
    return CLAIM.format(name=volume) + sleeper(name).replace(
        "      command:", "      volumeMounts:\n        - {name: data, mountPath: /data}\n      command:"
    ) + f"  volumes:\n    - name: data\n      persistentVolumeClaim:\n        claimName: {volume}\n"


def test_two_repositories_with_a_manifests_folder_are_two_projects_and_an_upgraded_host_keeps_its_name(podman, tmp_path):
    shop = _repository(tmp_path / "shop", _with_volume("shop-db", "shop-data"), "https://git.example/acme/shop.git")
    blog = _repository(tmp_path / "blog", sleeper("blog-web"), "git@git.example:acme/blog.git")
    # The shop as an older podspec applied it: under the bare folder name.
    assert _cli(podman, "apply", "--project", "manifests", shop).exit_code == 0
    podman.podman("exec", "shop-db-main", "sh", "-c", "echo precious > /data/file")
    before = ids(podman)

    # Upgraded: the default finds the shop's objects under the former name and keeps it, says so,
    # and recreates nothing (diff, apply and its prune alike).
    again = _cli(podman, "apply", "--prune", "--prune-volumes", shop)
    assert again.exit_code == 0, again.stderr
    assert "project 'manifests': this host holds these manifests' pods and volumes under 'manifests'" in again.stderr
    assert "Nothing to do." in again.output
    assert ids(podman) == before
    assert podman.podman("exec", "shop-db-main", "cat", "/data/file").stdout == "precious\n"

    # The blog, in a folder of the same name, is a project of its own: its own name, network and
    # history; apply --prune --prune-volumes there leaves the shop alone.
    applied = _cli(podman, "apply", "--prune", "--prune-volumes", blog, "-o", "json")
    assert applied.exit_code == 0, applied.stderr
    blog_project = podman.podman("pod", "inspect", "blog-web", "--format", '{{index .Labels "io.podspec.project"}}').stdout.strip()
    assert blog_project.startswith("manifests-") and blog_project != "manifests"
    assert ids(podman)["shop-db-main"] == before["shop-db-main"]
    labels = podman.podman("pod", "inspect", "blog-web", "--format", "{{json .Labels}}").stdout
    assert '"io.podspec.origin":"git:git.example/acme/blog"' in labels

    # A pod of the same name from the other repository is refused, and nothing changes.
    (tmp_path / "blog" / "manifests" / "pods.yaml").write_text(sleeper("blog-web") + "---\n" + sleeper("shop-db"))
    refused = _cli(podman, "apply", blog)
    assert refused.exit_code == 1
    assert "pod shop-db: the pod belongs to podspec project 'manifests'" in refused.stderr
    assert ids(podman)["shop-db-main"] == before["shop-db-main"]

    # The shop prunes its own as before, under its kept name.
    (tmp_path / "blog" / "manifests" / "pods.yaml").write_text(sleeper("blog-web"))
    (tmp_path / "shop" / "manifests" / "pods.yaml").write_text(CLAIM.format(name="other-data") + sleeper("shop-web"))
    pruned = _cli(podman, "apply", "--prune", "--prune-volumes", shop)
    assert pruned.exit_code == 0, pruned.stderr
    names = podman.podman("ps", "-a", "--format", "{{.Names}}").stdout.split()
    assert "shop-db-main" not in names and "blog-web-main" in names and "shop-web-main" in names
    volumes = podman.podman("volume", "ls", "--format", "{{.Name}}").stdout.split()
    assert "shop-data" not in volumes
    assert podman.podman("pod", "inspect", "shop-web", "--format", '{{index .Labels "io.podspec.project"}}').stdout.strip() == "manifests"


def test_annotations_the_runtime_acts_on_are_refused_unless_allowed(podman, tmp_path, monkeypatch):
    from tests.integration.manifests import podspec, write

    text = sleeper("annotated").replace(
        "spec:", "  annotations:\n    run.oci.keep_original_groups: '1'\n    example.com/owner: ops\nspec:", 1)
    manifest = write(tmp_path, text)
    refused = podspec(podman, "apply", manifest)
    assert refused.exit_code == 1
    assert "annotation run.oci.keep_original_groups would reach the container runtime" in refused.stderr
    assert podman.podman("pod", "ps", "-q").stdout.strip() == ""

    monkeypatch.setenv("PODSPEC_ALLOW_ANNOTATIONS", "run.oci.keep_original_groups")
    assert podspec(podman, "apply", manifest).exit_code == 0
    seen = podman.podman("inspect", "annotated-main", "--format", "{{json .Config.Annotations}}").stdout
    assert '"run.oci.keep_original_groups":"1"' in seen and '"example.com/owner":"ops"' in seen
    exported = _cli(podman, "export", "annotated")
    assert "run.oci.keep_original_groups: '1'" in exported.output and "example.com/owner: ops" in exported.output


def _host_path_pod(path: str, sub_path: str = "") -> str:
    sub = f", subPath: {sub_path}" if sub_path else ""
    return sleeper("linked").replace(
        "      command:", f"      volumeMounts:\n        - {{name: host, mountPath: /host{sub}}}\n      command:"
    ) + f"  volumes:\n    - name: host\n      hostPath: {{path: {path}}}\n"


def test_host_paths_are_checked_where_podman_follows_their_links(podman, tmp_path):
    from tests.integration.manifests import podspec, write

    allowed = tmp_path / "srv"
    (allowed / "real" / "inner").mkdir(parents=True)
    (allowed / "real" / "inner" / "file").write_text("mine\n")
    (allowed / "to-etc").symlink_to("/etc")
    (allowed / "real" / "up").symlink_to("../..")  # climbs out of the allowed directory
    (allowed / "inside").symlink_to("real/inner")  # a link that stays inside is fine
    allow = ["--allow-host-path", str(allowed)]
    cases = [
        (str(allowed / "to-etc"), "", "/etc"),
        (str(allowed), "to-etc", "/etc"),
        (str(allowed / "real"), "up", str(tmp_path)),
    ]
    for path, sub, real in cases:
        manifest = write(tmp_path, _host_path_pod(path, sub))
        for command in ("diff", "apply"):
            refused = podspec(podman, command, manifest, *allow)
            assert refused.exit_code == 1, (path, sub, refused.output)
            assert f"leads to {real} through a symbolic link on the host, outside the allowed directories" in refused.stderr, \
                refused.stderr
        assert podman.podman("ps", "-aq").stdout.strip() == ""  # nothing was created

    manifest = write(tmp_path, _host_path_pod(str(allowed / "inside")))
    applied = podspec(podman, "apply", manifest, *allow)
    assert applied.exit_code == 0, applied.stderr
    assert podman.podman("exec", "linked-main", "cat", "/host/file").stdout == "mine\n"


def _claim_pod(name: str, sub_path: str = "") -> str:
    sub = f", subPath: {sub_path}" if sub_path else ""
    return sleeper(name).replace(
        "      command:", f"      volumeMounts:\n        - {{name: data, mountPath: /data{sub}}}\n      command:"
    ) + "  volumes:\n    - name: data\n      persistentVolumeClaim:\n        claimName: shared-vol\n"


def test_a_link_a_container_writes_in_a_volume_does_not_lead_a_subpath_out_of_it(podman, tmp_path):
    """CVE-2017-1002101 itself: a container writes a link in a named volume, another mount of the
    volume names it as subPath. The subPath must not reach the host's files."""
    from tests.integration.manifests import podspec, write

    (tmp_path / "marker").write_text("host file\n")
    writer = write(tmp_path, CLAIM.format(name="shared-vol") + _claim_pod("vol-writer"), "writer.yaml")
    assert podspec(podman, "apply", writer).exit_code == 0
    podman.podman("exec", "vol-writer-main", "ln", "-s", str(tmp_path), "/data/esc")
    reader = write(tmp_path, _claim_pod("vol-reader", "esc"), "reader.yaml")
    result = podspec(podman, "apply", reader)
    # Podman 4.3 cannot mount a volume's subPath (podspec refuses it before any change); Podman 5
    # resolves it inside the volume at every start and refuses the link out: never the host's file.
    assert result.exit_code == 1, result.output
    assert ("needs Podman 5.0" in result.stderr) or ('subpath "esc" is outside of the volume' in result.stderr), result.stderr
    seen = podman.podman("exec", "vol-reader-main", "cat", "/data/marker", check=False)
    assert "host file" not in seen.stdout


def test_a_host_path_to_create_is_a_file_name_never_a_command_run_on_the_host(podman, tmp_path):
    """The helper that makes a DirectoryOrCreate/FileOrCreate path runs as root in the host's root; a
    path under an allowed directory such as `srv/missing/$(cmd)` used to run cmd there."""
    from tests.integration.manifests import podspec, write

    allowed = tmp_path / "srv"
    allowed.mkdir()
    mark = f"podspec-hostpath-injection-{tmp_path.name}"
    allow = ["--allow-host-path", str(allowed)]
    for path, kind in ((f"{allowed}/missing/$(cd /tmp; touch {mark})", "FileOrCreate"),
                       (f"{allowed}/$(cd /tmp; touch {mark})", "DirectoryOrCreate")):
        manifest = write(tmp_path, _host_path_pod(f'"{path}", type: {kind}'))
        podspec(podman, "apply", manifest, *allow)
        assert not (tmp_path.parent / mark).exists() and not list(tmp_path.glob(f"**/{mark}"))
        from pathlib import Path

        assert not (Path("/tmp") / mark).exists(), "the path's command ran on the host"
    assert (allowed / f"$(cd /tmp; touch {mark})").is_dir()  # made, under its own name
