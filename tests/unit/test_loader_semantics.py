

def test_host_path_types_that_create_paths_are_accepted(tmp_path):
    """FileOrCreate / DirectoryOrCreate: made on the Podman host by a plan step (tests/unit/test_kubefields.py)."""
    from podspec.loader import load

    path = tmp_path / "hp.yaml"
    path.write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: hp}\nspec:\n"
        "  containers:\n    - {name: c, image: \"busybox:1\", volumeMounts: [{name: d, mountPath: /d}]}\n"
        "  volumes:\n    - name: d\n      hostPath: {path: /srv/d, type: FileOrCreate}\n"
    )
    [volume] = load([str(path)]).pods[0].volumes
    assert (volume.host_path, volume.host_path_type) == ("/srv/d", "FileOrCreate")
