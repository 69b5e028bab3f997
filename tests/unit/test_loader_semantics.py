

def test_host_path_types_that_would_create_paths_are_refused(tmp_path):
    from podspec.errors import ManifestError
    from podspec.loader import load

    path = tmp_path / "hp.yaml"
    path.write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: hp}\nspec:\n"
        "  containers:\n    - {name: c, image: \"busybox:1\", volumeMounts: [{name: d, mountPath: /d}]}\n"
        "  volumes:\n    - name: d\n      hostPath: {path: /srv/d, type: FileOrCreate}\n"
    )
    try:
        load([str(path)])
    except ManifestError as error:
        assert [str(p) for p in error.problems] == [
            f"{path}:9:32: spec.volumes[0].hostPath.type: hostPath type FileOrCreate is not supported: Podman's API "
            "does not create host paths, and the Podman host may be another machine (create /srv/d on the Podman "
            "host and use type File (or leave type out))"
        ]
    else:
        raise AssertionError("FileOrCreate was accepted")
