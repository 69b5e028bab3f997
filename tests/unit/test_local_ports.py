"""Which host ports a process holds (engine/local.py), as Podman would find them when it binds."""

from __future__ import annotations

import socket

from podspec.engine.local import ports_in_use


def test_a_listener_holds_its_port_and_a_closed_port_is_free():
    with socket.socket() as listener:
        listener.bind(("0.0.0.0", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert ports_in_use([("", port, "tcp")]) == (("", port, "tcp"),)
    assert ports_in_use([("", port, "tcp")]) == ()


def test_connections_left_in_time_wait_do_not_hold_the_port():
    """A page just served (rootless Podman's forwarder closes first) leaves the port in TIME_WAIT;
    Podman binds it again, so it is free. The listener sets SO_REUSEADDR as Go's (Podman's) do."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    served, _ = listener.accept()
    served.close()  # the server side closes first: its end goes to TIME_WAIT
    listener.close()
    client.recv(1)
    client.close()
    plain = socket.socket()
    try:
        plain.bind(("0.0.0.0", port))
        in_time_wait = False
    except OSError:
        in_time_wait = True  # what a bind without SO_REUSEADDR sees
    finally:
        plain.close()
    assert in_time_wait
    assert ports_in_use([("", port, "tcp")]) == ()
