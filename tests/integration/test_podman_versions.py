"""What differs between Podman 4.3 and Podman 5, on whichever engine the run uses.

podspec reads the service's version once and adapts: what Podman 5 can do (subPath on named
volumes, subPath on image volumes from 5.1) is applied there and refused on 4.3 with the version it
needs; image volumes themselves work through the API on both.
"""

from __future__ import annotations

from podspec.engine.podman import connect
from podspec.reconcile.podman_rules import version_tuple
from tests.integration.manifests import ids, podspec, write

SUB_PATH = """\
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: kept-data
---
apiVersion: v1
kind: Pod
metadata:
  name: subpaths
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: writer
      image: docker.io/library/busybox:latest
      imagePullPolicy: IfNotPresent
      command: ["sh", "-c", "echo hello >> /data/greeting; exec sleep 100000"]
      env:
        - {name: ROUND, value: "%(round)s"}
      volumeMounts:
        - {name: data, mountPath: /data, subPath: site/html}
        - {name: scratch, mountPath: /scratch, subPath: deep/er}
    - name: reader
      image: docker.io/library/busybox:latest
      imagePullPolicy: IfNotPresent
      command: ["sleep", "100000"]
      volumeMounts:
        - {name: data, mountPath: /all}
        - {name: scratch, mountPath: /scratch-all}
  volumes:
    - name: data
      persistentVolumeClaim: {claimName: kept-data}
    - name: scratch
      emptyDir: {}
"""


def version(podman) -> str:
    with connect(podman.url) as engine:
        return engine.version()


def test_sub_path_directories_are_made_on_podman_5_and_refused_on_4(podman, tmp_path):
    running = version(podman)
    manifest = write(tmp_path, SUB_PATH % {"round": "1"})
    result = podspec(podman, "apply", manifest)
    if version_tuple(running) < (5, 0):
        assert result.exit_code == 1
        assert ("subpaths/writer mounts data with subPath 'site/html': subPath on a persistentVolumeClaim or emptyDir "
                f"mount needs Podman 5.0 or newer (this host runs {running}, which would ignore it)") in result.stderr
        assert podman.podman("ps", "-aq").stdout.strip() == ""
        return
    assert result.exit_code == 0, result.output + result.stderr
    # One step per subPath mount, after the container is created and before the pod starts.
    lines = [line for line in result.output.splitlines() if line.startswith("[") and "create sub-path directory" in line]
    assert len(lines) == 2, result.output
    assert "/data/site/html in subpaths-writer" in lines[0] and "/scratch/deep/er in subpaths-writer" in lines[1]
    read = lambda *cmd: podman.podman("exec", "subpaths-reader", *cmd).stdout
    assert read("cat", "/all/site/html/greeting") == "hello\n"
    assert read("ls", "/scratch-all/deep") == "er\n"

    # The directory exists now: a recreated container finds it as it was (mode and data kept).
    podman.podman("exec", "subpaths-reader", "chmod", "700", "/all/site/html")
    before = ids(podman)
    second = write(tmp_path, SUB_PATH % {"round": "2"}, "round2.yaml")
    again = podspec(podman, "apply", second)
    assert again.exit_code == 0, again.output + again.stderr
    after = ids(podman)
    assert after["subpaths-writer"] != before["subpaths-writer"]
    assert after["subpaths-reader"] == before["subpaths-reader"]
    assert read("cat", "/all/site/html/greeting") == "hello\nhello\n"
    assert read("stat", "-c", "%a", "/all/site/html").strip() == "700"
    assert podspec(podman, "diff", second).exit_code == 0


IMAGE_VOLUME = """\
apiVersion: v1
kind: Pod
metadata:
  name: imagevol
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: docker.io/library/busybox:latest
      imagePullPolicy: IfNotPresent
      command: ["sleep", "100000"]
      volumeMounts:
        - {name: site, mountPath: /htdocs, subPath: usr/local/apache2/htdocs}
        - {name: site, mountPath: /site}
  volumes:
    - name: site
      image:
        reference: docker.io/library/httpd:2.4
        pullPolicy: Never
"""


def test_image_volumes_are_mounted_read_only_and_a_sub_path_of_one_is_refused_before_5_1(podman, tmp_path):
    running = version(podman)
    manifest = write(tmp_path, IMAGE_VOLUME)
    result = podspec(podman, "apply", manifest)
    sub_path = version_tuple(running) >= (5, 1)
    if not sub_path:  # Podman 4.3 (and 5.0): the image volume works, a subPath of it does not
        assert result.exit_code == 1
        assert ("imagevol/main mounts site with subPath 'usr/local/apache2/htdocs': subPath on an image volume needs "
                f"Podman 5.1 or newer (this host runs {running})") in result.stderr
        assert "is an image volume (" not in result.stderr  # the volume itself is not refused
        assert podman.podman("ps", "-aq").stdout.strip() == ""
        manifest = write(tmp_path, IMAGE_VOLUME.replace(
            "        - {name: site, mountPath: /htdocs, subPath: usr/local/apache2/htdocs}\n", ""))
        result = podspec(podman, "apply", manifest)
    assert result.exit_code == 0, result.output + result.stderr
    page = "<html><body><h1>It works!</h1></body></html>\n"
    exec_ = lambda *cmd: podman.podman("exec", "imagevol-main", *cmd, check=False)
    assert exec_("cat", "/site/usr/local/apache2/htdocs/index.html").stdout == page
    if sub_path:
        assert exec_("cat", "/htdocs/index.html").stdout == page
    written = exec_("touch", "/site/new")
    assert written.returncode != 0 and "Read-only file system" in written.stderr
    assert podspec(podman, "diff", manifest).exit_code == 0
    assert podspec(podman, "apply", manifest).output.rstrip().endswith("Nothing to do.")

    # export gives the same manifest back (the pull policy from podspec's record), and it applies as is.
    from typer.testing import CliRunner

    from podspec.cli import app
    from podspec.loader import load

    exported = CliRunner().invoke(app, ["export", "imagevol", "--url", podman.url])
    assert exported.exit_code == 0, exported.stderr
    assert "reference: docker.io/library/httpd:2.4" in exported.stdout and "pullPolicy: Never" in exported.stdout
    path = write(tmp_path, exported.stdout, "exported.yaml")
    assert load([path]).pods == load([manifest]).pods
    assert podspec(podman, "diff", path).exit_code == 0
