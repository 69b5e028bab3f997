"""`podspec diff`'s host read sent before the command line is parsed (engine/early.py): which
command lines send it, and that the engine takes its answers in place of its own five calls, once,
for its own URL only, with Podman's refusals raised as the engine raises them."""

from __future__ import annotations

import json
import socket
import threading

import pytest

from podspec.engine import early
from podspec.engine.connection import Endpoint
from podspec.engine.podman import PodmanEngine
from podspec.errors import PodspecError

URL = "unix:///run/p.sock"


@pytest.mark.parametrize(("args", "env", "url"), [
    (["diff", "m.yaml", "--url", URL], {}, URL),
    (["diff", "--url=" + URL, "m.yaml"], {}, URL),
    (["diff", "m.yaml"], {"CONTAINER_HOST": URL}, URL),
    (["diff", "m.yaml", "--url", "unix:///other.sock"], {"CONTAINER_HOST": URL}, "unix:///other.sock"),
    (["diff", "-o", "json", "m.yaml", "--url", URL, "-p", "shop"], {}, URL),
    (["apply", "m.yaml", "--url", URL], {}, None),  # apply reads under its lock
    (["diff", "m.yaml"], {}, None),  # the default socket or a private service: resolved by the engine
    (["diff", "m.yaml", "--url", "ssh://core@host/run/podman/podman.sock"], {}, None),
    (["diff", "m.yaml", "--url", "tcp://127.0.0.1:8080"], {}, None),
    (["diff", "--target", "all"], {"CONTAINER_HOST": URL}, None),
    (["diff", "-t", "edge"], {"CONTAINER_HOST": URL}, None),
    (["diff", "-tedge"], {"CONTAINER_HOST": URL}, None),
    (["diff", "m.yaml", "-c", "remote"], {"CONTAINER_HOST": URL}, None),
    (["diff", "m.yaml", "--connection=remote"], {"CONTAINER_HOST": URL}, None),
    (["diff", "--help"], {"CONTAINER_HOST": URL}, None),
    (["diff", "m.yaml", "--url"], {}, None),
    (["diff", "m.yaml", "--url", "unix://"], {}, None),
    (["diff", "--", "--url", "unix:///x"], {}, None),  # after --, a file's name
    ([], {"CONTAINER_HOST": URL}, None),
])
def test_which_command_lines_read_early(args, env, url):
    assert early.url_of(args, env) == url


# Podman's answers, by path (the container list's query string dropped).
LISTS = {
    "/containers/json": [],
    "/volumes/json": [{"Name": "data", "Labels": {}, "Driver": "local", "Mountpoint": "/v/data"}],
    "/images/json": [],
    "/secrets/json": [],
    "/networks/json": [{"name": "podman", "driver": "bridge", "labels": {}, "subnets": []}],
}


@pytest.fixture
def service(tmp_path):
    """A unix-socket server answering LISTS as Podman does (one request per connection);
    `refuse` maps a path to the status it answers instead. Records every path asked."""
    path = str(tmp_path / "podman.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(16)
    asked: list[str] = []
    refuse: dict[str, int] = {}

    def answer(conn: socket.socket) -> None:
        with conn, conn.makefile("rb") as reader:
            target = reader.readline().split(b" ")[1].decode()
            while reader.readline() not in (b"\r\n", b""):
                pass
            route = target.split("?")[0].removeprefix("/v4.0.0/libpod")
            asked.append(route)
            status = refuse.get(route, 200)
            body = json.dumps({"cause": "no", "message": "refused", "response": status} if status != 200
                              else LISTS[route]).encode()
            conn.sendall(b"HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                         % (status, len(body), body))

    def accept() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=answer, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    yield f"unix://{path}", asked, refuse
    listener.close()


def engine(url: str) -> PodmanEngine:
    return PodmanEngine(Endpoint(url, "--url"))


def test_the_engine_takes_the_early_answers_once_instead_of_asking(service):
    url, asked, _ = service
    early.send(["diff", "m.yaml", "--url", url], {}, 5)
    first = engine(url).observe()
    assert sorted(asked) == sorted(LISTS)  # each list asked once: by the early read
    assert [v.name for v in first.volumes] == ["data"]
    again = engine(url).observe()  # taken once: a second read asks Podman
    assert sorted(asked) == sorted(2 * list(LISTS))
    assert again == first


def test_a_read_of_some_pods_or_of_another_url_does_not_take_them(service, tmp_path):
    url, asked, _ = service
    early.send(["diff", "--url", url], {}, 5)
    engine(url).observe(pods=["web"])  # a scoped read asks for itself
    assert asked.count("/containers/json") == 2
    early.send(["diff", "--url", "unix:///elsewhere.sock"], {}, 5)
    engine(url).observe()  # not its URL: dropped unread, asked afresh
    assert asked.count("/containers/json") == 3
    assert early.take("unix:///elsewhere.sock") is None  # and gone


def test_a_refusal_in_the_early_read_is_raised_as_the_engine_raises_it(service):
    url, _, refuse = service
    refuse["/secrets/json"] = 500
    with pytest.raises(PodspecError) as plain:
        engine(url).observe()
    early.send(["diff", "--url", url], {}, 5)
    with pytest.raises(PodspecError) as taken:
        engine(url).observe()
    assert type(taken.value) is type(plain.value)
    assert taken.value.message == plain.value.message and "list secrets" in taken.value.message


def test_no_service_at_the_url_leaves_the_error_to_the_engine(tmp_path):
    url = f"unix://{tmp_path}/absent.sock"
    early.send(["diff", "--url", url], {}, 5)
    with pytest.raises(PodspecError) as raised:
        engine(url).observe()
    assert "list" in raised.value.message and url in raised.value.message
