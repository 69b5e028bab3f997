"""--connection NAME on a machine without podman: the connection is read from the user's own files
(podman-py's PodmanConfig), Podman 5's JSON winning over Podman 4's containers.conf."""

from __future__ import annotations

import json

import pytest

from podspec.engine import connection
from podspec.errors import PodmanUnavailable


@pytest.fixture
def no_podman(monkeypatch):
    real = connection.shutil.which
    monkeypatch.setattr(connection.shutil, "which", lambda name: None if name == "podman" else real(name))


def write_files(config) -> None:
    (config / "containers").mkdir(parents=True)
    (config / "containers" / "containers.conf").write_text(
        '[engine]\nactive_service = "old"\n'
        '[engine.service_destinations.old]\nuri = "ssh://core@old.example:2222/run/podman/podman.sock"\n'
        'identity = "/keys/old"\n'
        '[engine.service_destinations.both]\nuri = "ssh://core@four.example/run/podman/podman.sock"\n')
    (config / "containers" / "podman-connections.json").write_text(json.dumps({"Connection": {
        "Default": "edge",
        "Connections": {
            "edge": {"URI": "ssh://deploy@edge.example/run/user/1000/podman/podman.sock", "Identity": "/keys/edge"},
            "both": {"URI": "tcp://five.example:8080"},
        }}}))


def test_a_connection_is_read_from_both_files_without_podman(tmp_path, no_podman):
    write_files(tmp_path)
    env = {"XDG_CONFIG_HOME": str(tmp_path)}
    assert connection._named_connection("edge", env) == (
        "ssh://deploy@edge.example/run/user/1000/podman/podman.sock", "/keys/edge")
    assert connection._named_connection("old", env) == ("ssh://core@old.example:2222/run/podman/podman.sock", "/keys/old")
    assert connection._named_connection("both", env) == ("tcp://five.example:8080", None)
    endpoint = connection.resolve(None, "edge", env)
    assert endpoint.url.startswith("ssh://deploy@edge.example") and endpoint.identity == "/keys/edge"


def test_an_unknown_connection_names_the_known_ones_and_the_place(tmp_path, no_podman):
    write_files(tmp_path)
    with pytest.raises(PodmanUnavailable, match=r"no Podman connection named 'lab' in .*containers .*known: both, edge, old"):
        connection._named_connection("lab", {"XDG_CONFIG_HOME": str(tmp_path)})
    with pytest.raises(PodmanUnavailable, match="known: none"):
        connection._named_connection("lab", {"HOME": str(tmp_path / "nobody")})


def test_a_broken_connections_file_is_a_clear_error(tmp_path, no_podman):
    (tmp_path / "containers").mkdir()
    (tmp_path / "containers" / "podman-connections.json").write_text("{not json = [")
    with pytest.raises(PodmanUnavailable, match="cannot read Podman's connections in .*podman-connections.json"):
        connection._named_connection("edge", {"XDG_CONFIG_HOME": str(tmp_path)})


def test_tcp_urls_are_read_into_an_address():
    assert connection.tcp_address("tcp://127.0.0.1:8080") == ("127.0.0.1", 8080)
    assert connection.tcp_address("tcp://[::1]:8080/") == ("::1", 8080)
    for bad in ("tcp://host", "tcp://host:port", "tcp://:80", "tcp://host:80/some/path"):
        with pytest.raises(PodmanUnavailable, match="write it as tcp://host:port"):
            connection.tcp_address(bad)


def test_every_scheme_but_ssh_gets_the_one_http_client():
    from podspec.engine.httpclient import HttpClient

    tcp = connection.open_transport("tcp://127.0.0.1:8080", None, 5)
    unix = connection.open_transport("unix:///run/podman/podman.sock", None, 5)
    assert isinstance(tcp, HttpClient) and tcp.address == ("127.0.0.1", 8080)
    assert isinstance(unix, HttpClient) and unix.address == "/run/podman/podman.sock"
