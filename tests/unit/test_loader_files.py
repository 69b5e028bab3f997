"""Each check of the loader, on a real file under tests/fixtures: the exact problems reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from podspec.errors import ManifestError
from podspec.loader import load

ROOT = Path(__file__).resolve().parents[2]
INVALID = "tests/fixtures/invalid"


@pytest.fixture(autouse=True)
def in_repo_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def problems(*paths: str) -> list[str]:
    with pytest.raises(ManifestError) as caught:
        load(list(paths))
    return [str(p) for p in caught.value.problems]


CASES = {
    "unknown-field.yaml": [
        'F:9:7: spec.containers[0].imagee: unknown field "imagee" (did you mean image?)',
        'F:10:7: spec.containers[0].portz: unknown field "portz" (did you mean ports?)',
    ],
    "api-version.yaml": ['F:1:13: apiVersion: unsupported apiVersion "v14l" (supported apiVersions: v1)'],
    "kind.yaml": ['F:2:7: kind: unsupported kind "StatefulSet" (write it as a Deployment with replicas: 1 (one host keeps one copy), its volumeClaimTemplates as PersistentVolumeClaims and its serviceName as a Service; supported kinds: Pod, PersistentVolumeClaim, ConfigMap, Secret, Service, Deployment, Job)'],
    "names.yaml": [
        "F:7:13: spec.containers[0].name: too long (68 characters; at most 63)",
        "F:13:13: spec.volumes[0].name: invalid value \"Data\": must be a DNS-1123 label: lowercase letters, digits "
        "and '-' (or '_', as `podman kube generate` writes), starting and ending with a letter or digit",
        "F:15:20: spec.volumes[0].persistentVolumeClaim.claimName: invalid value \"-bad-\": must be letters, "
        "digits, '-', '_' and '.', starting and ending with a letter or digit",
    ],
    "wrong-types.yaml": [
        "F:6:14: metadata.labels.version: expected a string, got number 2 (quote the value to make it a string)",
        'F:8:16: spec.hostNetwork: expected true or false, got "yes"',
        "F:12:16: spec.containers[0].command: expected a list, got \"nginx -g daemon off;\" "
        "(write it as a YAML list (lines starting with '- '))",
        'F:14:26: spec.containers[0].ports[0].containerPort: expected an integer, got "http"',
        "F:18:18: spec.containers[0].env[0].value: expected a string, got a boolean (redacted) (quote the value to make it a string)",
        'F:21:16: spec.containers[0].resources.limits.cpu: invalid value "lots": must be a Kubernetes quantity '
        "such as 100m, 0.5, 128Mi or 1G",
    ],
    "missing-image.yaml": [
        "F:7:7: spec.containers[0].image: missing required field image",
        "F:9:14: spec.containers[1].image: must not be empty",
    ],
    "no-containers.yaml": [
        "F:6:15: spec.containers: must not be empty",
        "F:12:7: spec.containers: missing required field containers",
    ],
    "port-range.yaml": [
        "F:10:26: spec.containers[0].ports[0].containerPort: number 0 is below the minimum 1",
        "F:11:21: spec.containers[0].ports[0].hostPort: number 65536 is above the maximum 65535",
    ],
    "duplicate-containers.yaml": [
        "F:10:7: spec.containers[0].name: container name web is used twice in pod web (first used at F:7:7; "
        "init containers and containers share one namespace)",
        "F:12:7: spec.containers[1].name: container name web is used twice in pod web (first used at F:7:7; "
        "init containers and containers share one namespace)",
    ],
    "undeclared-volume.yaml": [
        "F:10:11: spec.containers[0].volumeMounts[0].name: volume htdoc is not declared in spec.volumes "
        "(did you mean htdocs?)",
        "F:12:11: spec.containers[0].volumeMounts[1].name: volume logs is not declared in spec.volumes "
        "(declared volumes: htdocs)",
    ],
    "host-port-clash.yaml": [
        "F:20:11: spec.containers[1].ports[0].hostPort: host port *:8080/TCP is already claimed by pod one, "
        "container web (see F:11:11; use another hostPort or hostIP)",
        "F:32:11: spec.containers[0].ports[0].hostPort: host port 127.0.0.1:8080/TCP is already claimed by pod one, "
        "container web (see F:11:11; use another hostPort or hostIP)",
    ],
    "duplicate-claims.yaml": [
        "F:9:3: metadata.name: PersistentVolumeClaim data is defined twice (first defined at F:4:3; rename or remove one)",
    ],
    "env-duplicate.yaml": [
        "F:14:11: spec.containers[0].env[2].name: env var MODE is set twice in container web "
        "(first set at F:10:11; keep one)",
    ],
    "request-above-limit.yaml": [
        "F:11:20: spec.containers[0].resources.requests.cpu: cpu request is above its limit "
        "(a request must be less than or equal to the limit)",
    ],
    "sources-and-values.yaml": [
        "F:6:48: metadata.annotations.io.podman.annotations.init.container.type: unsupported init container type "
        "'sometimes' (supported values: once, always)",
        "F:9:11: spec.hostAliases[0].ip: '300.1.1.1' is not an IP address (write an IPv4 or IPv6 address, e.g. 127.0.0.1)",
        "F:16:19: spec.containers[0].ports[0].hostIP: 'localhost' is not an IP address "
        "(write an IPv4 or IPv6 address, e.g. 127.0.0.1)",
        "F:19:19: spec.containers[0].resources.limits.memory: invalid memory quantity '1e40': too large",
        "F:23:9: spec.containers[0].livenessProbe: a probe needs exactly one of exec, httpGet, tcpSocket",
        "F:25:7: spec.volumes[0]: a volume needs exactly one of persistentVolumeClaim, hostPath, emptyDir, configMap, secret, image, projected, downwardAPI (or cluster storage such as nfs)",
        "F:26:7: spec.volumes[1]: a volume needs exactly one of persistentVolumeClaim, hostPath, emptyDir, configMap, secret, image, projected, downwardAPI (or cluster storage such as nfs); "
        "found hostPath, emptyDir",
    ],
    "one-pass.yaml": [
        # the first pod fails the schema: its duplicate container name is not checked, nor its name
        "F:9:7: spec.containers[0].image: missing required field image",
        'F:10:7: spec.containers[0].imagee: unknown field "imagee" (did you mean image?)',
        # the others passed the schema: what building found, and the semantic checks, within and across pods
        "F:20:11: spec.hostAliases[0].ip: '300.1.1.1' is not an IP address (write an IPv4 or IPv6 address, e.g. 127.0.0.1)",
        "F:28:7: spec.containers[1].name: container name app is used twice in pod web (first used at F:23:7; "
        "init containers and containers share one namespace)",
        "F:41:11: spec.containers[0].ports[0].hostPort: host port *:8080/TCP is already claimed by pod web, "
        "container app (see F:27:11; use another hostPort or hostIP)",
        "F:44:19: spec.containers[0].resources.limits.memory: invalid memory quantity '1e40': too large",
        "F:46:11: spec.containers[0].volumeMounts[0].name: volume data is not declared in spec.volumes "
        "(declare it under spec.volumes)",
    ],
    "reserved-labels.yaml": [
        "F:7:5: metadata.labels.io.podspec.managed-by: label io.podspec.managed-by: the io.podspec. prefix is "
        "reserved for podspec's ownership labels (rename it)",
        "F:9:5: metadata.annotations.io.podspec.project: annotation io.podspec.project: the io.podspec. prefix is "
        "reserved for podspec's ownership labels (rename it)",
        # io.podspec/note (line 10) is another prefix: allowed
        "F:21:5: metadata.labels.io.podspec.pod: label io.podspec.pod: the io.podspec. prefix is reserved for "
        "podspec's ownership labels (rename it)",
    ],
    "run-as-group.yaml": [
        # the pod's runAsGroup, inherited by two containers without a runAsUser: said once, where it is written
        "F:7:5: spec.securityContext.runAsGroup: runAsGroup needs runAsUser on Podman "
        "(Podman sets the user as uid:gid); add runAsUser",
        "F:20:9: spec.containers[3].securityContext.runAsGroup: runAsGroup needs runAsUser on Podman "
        "(Podman sets the user as uid:gid); add runAsUser",
        # pod "fine": runAsUser inherited from the pod, and fsGroup alone, are accepted
    ],
    "redacted-env.yaml": [
        "F:13:18: spec.containers[0].env[1].value: env DB_PASSWORD holds the placeholder (redacted) written by "
        "`podspec export`; put the real value in (or export again with --show-secrets)",
        "F:14:36: spec.containers[0].env[2].value: env API_TOKEN holds the placeholder (redacted) written by "
        "`podspec export`; put the real value in (or export again with --show-secrets)",
    ],
    "host-network-ports.yaml": [
        "F:14:11: spec.containers[0].ports[1].hostPort: with hostNetwork, hostPort 8443 must equal containerPort 443 "
        "(omit hostPort; with hostNetwork the containerPort is opened on the host)",
        # with hostNetwork a containerPort without hostPort is taken on the host too
        "F:27:11: spec.containers[0].ports[0].hostPort: host port *:9090/TCP is already claimed by pod host, "
        "container web (see F:15:11; use another hostPort or hostIP)",
    ],
    "duplicate-key.yaml": ["F:9:7: spec.containers[0].image: duplicate key 'image' (first written at line 8; keep one)"],
    "python-tag.yaml": [
        "F:4:9: metadata.name: unsupported YAML tag tag:yaml.org,2002:python/object/apply:os.system (remove the tag)",
    ],
    "empty.yaml": ["F: empty file: no manifest documents (add a Pod, Deployment, Job, Service, PersistentVolumeClaim, ConfigMap or Secret, or remove the file)"],
    "comments-only.yaml": ["F: empty file: no manifest documents (add a Pod, Deployment, Job, Service, PersistentVolumeClaim, ConfigMap or Secret, or remove the file)"],
    "top-list.yaml": ["F:1:1: a manifest document must be a mapping (apiVersion, kind, metadata, spec), got a list"],
    "top-scalar.yaml": ["F:1:1: a manifest document must be a mapping (apiVersion, kind, metadata, spec), got a string"],
    "latin1.yaml": [
        "F:4:12: invalid UTF-8 (byte 0xe9) (manifests are UTF-8 text files; re-encode it, e.g. with iconv -t UTF-8)",
    ],
    "nul.yaml": ["F:2:10: binary data (a NUL byte), not a YAML manifest (manifests are UTF-8 text files)"],
    "malformed.yaml": ["F:6:5: invalid YAML: did not find expected ',' or '}' (while parsing a flow mapping)"],
    "alias-bomb.yaml": [
        "F:7:26: too many YAML nodes (over 500,000 in one file, aliases expanded) "
        "(split the file; deeply nested aliases (an alias bomb) are not accepted)",
    ],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_invalid_file_reports_exactly(name):
    path = f"{INVALID}/{name}"
    assert problems(path) == [line.replace("F", path, 1).replace("at F:", f"at {path}:").replace("see F:", f"see {path}:")
                              for line in CASES[name]]


def test_every_invalid_fixture_has_a_case():
    on_disk = {p.name for p in (ROOT / INVALID).glob("*.yaml")}
    assert on_disk == set(CASES)


def test_pod_names_are_unique_across_files():
    assert problems(f"{INVALID}/duplicate-pods") == [
        f"{INVALID}/duplicate-pods/b.yaml:4:3: metadata.name: pod web is defined twice "
        f"(first defined at {INVALID}/duplicate-pods/a.yaml:4:3; rename or remove one)",
    ]


def test_problems_of_every_file_are_reported_in_one_run():
    found = problems(f"{INVALID}/api-version.yaml", f"{INVALID}/kind.yaml", f"{INVALID}/empty.yaml")
    assert [p.split(":")[0] for p in found] == [
        f"{INVALID}/api-version.yaml", f"{INVALID}/empty.yaml", f"{INVALID}/kind.yaml",
    ]


def test_host_ports_clash_across_files():
    found = problems("tests/fixtures/valid/tutorial-generate-kube.yaml", "tests/fixtures/equivalent/short.yaml")
    assert found == [
        "tests/fixtures/equivalent/short.yaml:12:11: spec.containers[0].ports[0].hostPort: host port *:8080/TCP is "
        "already claimed by pod dynamic-webserver, container apache-httpd (see "
        "tests/fixtures/valid/tutorial-generate-kube.yaml:40:7; use another hostPort or hostIP)",
    ]


@pytest.mark.parametrize("name", ["tutorial-generate-kube.yaml", "every-field.yaml", "anchors.yaml"])
def test_valid_fixtures_load(name):
    state = load([f"tests/fixtures/valid/{name}"])
    assert state.pods
    assert state.files == (f"tests/fixtures/valid/{name}",)


def test_the_repository_manifests_load():
    state = load(["manifests"])
    assert "dynamic-webserver" in [p.name for p in state.pods]
    assert "webserver-data" in [c.name for c in state.claims]


def test_reserved_prefix_is_podspecs_own_label_prefix():
    from podspec import labels
    from podspec.loader.semantics import RESERVED_PREFIX

    assert RESERVED_PREFIX == labels.PREFIX
    assert labels.MANAGED_BY.startswith(RESERVED_PREFIX)


def test_a_link_in_a_manifest_directory_that_leads_out_of_it_is_refused_unread(tmp_path):
    """A pull request's checkout must not make validate read (and quote) a file of the runner's: a
    link found in a manifest directory must stay in it; one named on the command line is read."""
    from podspec.loader.sources import read

    (tmp_path / "m" / "sub").mkdir(parents=True)
    (tmp_path / "key.yaml").write_text("auths: {registry: {auth: TOPSECRET}}\n")
    (tmp_path / "m" / "web.yaml").write_text("kind: Pod\n")
    (tmp_path / "m" / "leak.yaml").symlink_to(tmp_path / "key.yaml")
    (tmp_path / "m" / "sub" / "up.yaml").symlink_to("../../key.yaml")
    (tmp_path / "m" / "sub" / "same.yaml").symlink_to("../web.yaml")  # stays inside: read (once)
    sources, problems = read([str(tmp_path / "m")], None)
    assert [s.raw for s in sources] == [b"kind: Pod\n"]  # web.yaml, read once (first through the inner link)
    assert sorted(p.origin.file for p in problems) == [str(tmp_path / "m" / "leak.yaml"), str(tmp_path / "m" / "sub" / "up.yaml")]
    assert all("symbolic link to a file outside" in p.message for p in problems)
    named, none = read([str(tmp_path / "m" / "leak.yaml")], None)
    assert none == [] and named[0].raw.startswith(b"auths")
