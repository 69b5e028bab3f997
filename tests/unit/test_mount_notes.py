"""A mount's recorded source and its files (names.py): what intent writes, export and the volume diff
read back, for every kind of volume."""

from __future__ import annotations

import pytest

from podspec.model import KeyRef, ProjectedFile, PullPolicy, SourceKind, Volume, VolumeKind
from podspec.names import MountSource, file_note, mount_source, named_volume_of, read_file_note, read_mount_source

SOURCES = [
    (Volume("d", VolumeKind.CLAIM, claim_name="data"), "volume:data", MountSource("volume", "data")),
    (Volume("d", VolumeKind.CLAIM, claim_name="data", read_only=True), "volume:data:ro",
     MountSource("volume", "data", read_only=True)),
    (Volume("h", VolumeKind.HOST_PATH, host_path="/srv/www"), "hostPath:/srv/www", MountSource("hostPath", "/srv/www")),
    (Volume("h", VolumeKind.HOST_PATH, host_path="/srv/www", host_path_type="Directory"), "hostPath:/srv/www:Directory",
     MountSource("hostPath", "/srv/www", detail="Directory")),
    (Volume("m", VolumeKind.EMPTY_DIR, medium="Memory", size_limit_bytes=1024), "tmpfs:1024", MountSource("tmpfs", detail="1024")),
    (Volume("e", VolumeKind.EMPTY_DIR), "emptyDir", MountSource("emptyDir")),
    (Volume("c", VolumeKind.CONFIG_MAP, source="site"), "configMap:site", MountSource("configMap", "site")),
    (Volume("s", VolumeKind.SECRET, source="creds"), "secret:creds", MountSource("secret", "creds")),
    (Volume("p", VolumeKind.PROJECTED), "projected", MountSource("projected")),
    (Volume("w", VolumeKind.DOWNWARD_API), "downwardAPI", MountSource("downwardAPI")),
    (Volume("i", VolumeKind.IMAGE, image="quay.io/x/site:1", image_pull_policy=PullPolicy.ALWAYS),
     "image:Always:quay.io/x/site:1", MountSource("image", "quay.io/x/site:1", detail="Always")),
]


@pytest.mark.parametrize("volume,text,read", SOURCES, ids=[t for _, t, _ in SOURCES])
def test_a_mount_source_is_read_back_as_written(volume, text, read):
    assert mount_source(volume) == text
    assert read_mount_source(text) == read
    assert named_volume_of(text) == (volume.claim_name if volume.kind is VolumeKind.CLAIM else None)


def test_nothing_recorded_reads_as_no_kind():
    assert read_mount_source("") == MountSource("")
    assert named_volume_of("") is None


def test_file_notes_are_read_back_as_written():
    plain = Volume("c", VolumeKind.CONFIG_MAP, source="site")
    projected = Volume("p", VolumeKind.PROJECTED)
    index = ProjectedFile("index.html", 0o640, KeyRef(SourceKind.CONFIG_MAP, "site", "index"))
    field = ProjectedFile("labels", 0o644, KeyRef(SourceKind.DOWNWARD_API, "", "metadata.labels"))
    assert file_note(plain, "index.html", index) == "index.html <- index (0640)"
    assert file_note(plain, "", index) == ". <- index (0640)"
    assert file_note(projected, "index.html", index) == "index.html <- configMap/site:index (0640)"
    assert file_note(projected, "labels", field) == "labels <- downwardAPI:metadata.labels (0644)"
    assert read_file_note("index.html <- configMap/site:index (0640)") == ("index.html", "configMap/site:index", 0o640)
    assert read_file_note(". <- index (0640)") == (".", "index", 0o640)
    assert read_file_note("index.html <- index") is None
