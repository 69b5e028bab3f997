"""The one HTTP client (engine/httpclient.py) against a small unix-socket server that answers as
Podman's Go server does: Content-Length, the chunked encoding (long answers), no body (204), or a
body that ends when the connection closes; and Podman's refusals read into reasons, once."""

from __future__ import annotations

import socket
import threading

import pytest

from podspec.engine import parse
from podspec.engine.httpclient import HttpClient
from podspec.errors import Refusal

# Answers by path: raw HTTP, sent after the request's head (and body) was read.
ANSWERS = {
    "/v4.0.0/libpod/length": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
    "/v4.0.0/libpod/chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                              b"4\r\n[1,2\r\n6;ext=1\r\n,3,4,5\r\n1\r\n]\r\n0\r\n\r\n",
    "/v4.0.0/libpod/empty": b"HTTP/1.1 204 No Content\r\n\r\n",
    "/v4.0.0/libpod/missing": b"HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\n{}",
}
UNTIL_CLOSE = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it"


@pytest.fixture
def server(tmp_path):
    """Serves ANSWERS on kept-alive connections; /close answers without a length and closes.
    Records (connection number, path) of every request."""
    path = str(tmp_path / "s.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen()
    seen: list[tuple[int, str]] = []

    def serve(conn: socket.socket, number: int) -> None:
        reader = conn.makefile("rb")
        with conn, reader:
            while True:
                line = reader.readline()
                if not line:
                    return
                target = line.split(b" ")[1].decode()
                length = 0
                while (header := reader.readline()) not in (b"\r\n", b""):
                    if header.lower().startswith(b"content-length:"):
                        length = int(header.split(b":")[1])
                reader.read(length)
                seen.append((number, target))
                if target.endswith("/close"):
                    conn.sendall(UNTIL_CLOSE)
                    return
                conn.sendall(ANSWERS[target])

    def accept() -> None:
        number = 0
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            number += 1
            threading.Thread(target=serve, args=(conn, number), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    yield path, seen
    listener.close()


def test_answers_of_every_shape_on_one_kept_alive_connection(server):
    path, seen = server
    client = HttpClient(path, 5, keep_alive=True)
    assert client.request("get", "/length").content == b"hello"
    assert client.request("get", "/chunked").json() == [1, 2, 3, 4, 5]
    assert client.request("delete", "/empty").status_code == 204
    reply = client.request("post", "/missing", body=b"\x00bytes")
    assert (reply.status_code, reply.content) == (404, b"{}")
    assert client.request("get", "/length").content == b"hello"
    assert {number for number, _ in seen} == {1}
    client.close()


def test_an_answer_that_ends_with_the_connection_and_the_next_call_on_a_new_one(server):
    path, seen = server
    client = HttpClient(path, 5, keep_alive=True)
    assert client.request("get", "/close").content == b"all of it"
    assert client.request("get", "/length").content == b"hello"
    assert [number for number, _ in seen] == [1, 2]
    client.close()


@pytest.mark.parametrize(("status", "message", "reason"), [
    # Podman 4.3.1 and 5.4.2's words, as the engine reads them (parse.error_message)
    (404, "no container with name or ID \"web-app\" found: no such container", Refusal.NOT_FOUND),
    (404, "no volume with name \"data\" found: no such volume", Refusal.NOT_FOUND),
    (404, "no pod with name or ID web found: no such pod", Refusal.NOT_FOUND),
    (404, "podspec-1234abcd-x: no such secret", Refusal.NOT_FOUND),
    (500, "getting repository tags: fetching tags list: invalid status code from registry 404 (Not Found)", Refusal.NOT_FOUND),
    (500, "repository name not known to registry", Refusal.NOT_FOUND),
    (500, "cleaning up volume storage for \"podspec-lock\": remove /var/lib/x: directory not empty", Refusal.NOT_FOUND),
    (409, "volume with name data already exists: volume already exists", Refusal.EXISTS),
    (500, "adding pod to state: name \"web\" is in use: pod already exists", Refusal.EXISTS),
    (500, "the container name \"web-app\" is already in use by 1234. You have to remove that container", Refusal.EXISTS),
    (500, "x: secret name in use", Refusal.EXISTS),
    (409, "volume data is being used by the following container(s): 1234: volume is being used", Refusal.IN_USE),
    (404, "docker.io/library/nothere:1: image not known", Refusal.UNKNOWN_IMAGE),
    (500, "container 1234 is not running: container state improper", Refusal.WRONG_STATE),
    (304, "container already running", Refusal.WRONG_STATE),
    (500, "cannot add init-ctr to a running pod", Refusal.OTHER),
    (500, "creating volume directory \"/s/volumes/podspec_lock_x/_data\": mkdir /s/volumes/podspec_lock_x/_data: "
          "no such file or directory", Refusal.RACED),
    (500, "creating volume directory \"/s/volumes/v/_data\": mkdir /s/volumes/v/_data: permission denied", Refusal.OTHER),
    (404, "", Refusal.NOT_FOUND),
])
def test_refusals_are_read_once_into_reasons(status, message, reason):
    assert parse.refusal(status, message) is reason
    error = parse.refused("do it", status, message)
    assert error.reason is reason and error.message == f"Podman refused to do it: {message}"
