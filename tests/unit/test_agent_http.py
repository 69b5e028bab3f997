"""The agent's HTTP address (metrics, status page, webhook receiver) against clients that do not
finish their request: a connection that sends nothing, or promises a body it never sends, used to
hold one of the agent's threads for ever (as many as connections were opened); now each is closed
after a timeout, a body that does not come is answered 408, and no traceback reaches the log."""

from __future__ import annotations

import socket
import time

import pytest

from podspec.run.sync import metrics as served
from podspec.run.sync.metrics import Metrics, serve
from podspec.run.sync.receiver import Receiver


class Log:
    def __init__(self) -> None:
        self.lines: list[tuple[str, dict]] = []

    def info(self, name: str, **fields: object) -> None:
        self.lines.append((name, fields))

    def warning(self, name: str, **fields: object) -> None:
        self.lines.append((name, fields))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def address(monkeypatch):
    monkeypatch.setattr(served, "REQUEST_TIMEOUT", 1.0)
    port = _free_port()
    receiver = Receiver(b"secret", "main", lambda sender: None, Log())
    stop = serve(Metrics("p"), ("127.0.0.1", port), lambda: True, receiver=receiver)
    yield ("127.0.0.1", port)
    stop()


def _answer(connection: socket.socket) -> bytes:
    connection.settimeout(10)
    data = b""
    while chunk := connection.recv(4096):
        data += chunk
    return data


def test_a_promised_body_that_never_comes_is_answered_408_without_a_traceback(address, capfd):
    with socket.create_connection(address) as connection:
        connection.sendall(b"POST /hooks/github HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{")
        began = time.monotonic()
        answer = _answer(connection)
    assert answer.startswith(b"HTTP/1.0 408") and time.monotonic() - began < 8
    assert "Traceback" not in capfd.readouterr().err


def test_a_connection_that_sends_nothing_is_closed(address, capfd):
    with socket.create_connection(address) as connection:
        began = time.monotonic()
        assert _answer(connection) == b"" and time.monotonic() - began < 8
    assert "Traceback" not in capfd.readouterr().err
    with socket.create_connection(address) as connection:  # and the address still answers
        connection.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
        assert b"200 OK" in _answer(connection)
