"""engine/ssh.py without a network: reading ssh:// URLs, the ssh command line, ssh's failures as
podspec's errors, and the one HTTP client, its connections kept alive, over a unix socket (against a small HTTP/1.1
server of the standard library)."""

from __future__ import annotations

import json
import socketserver
import threading
from http.server import BaseHTTPRequestHandler

import pytest

from podspec.engine.httpclient import HttpClient
from podspec.engine.ssh import explain, parse, ssh_command
from podspec.engine.transport import TransportError
from podspec.errors import PodmanUnavailable


def test_urls():
    target = parse("ssh://deploy@edge.example.com:2222/run/user/1000/podman/podman.sock")
    assert (target.user, target.host, target.port, target.socket) == ("deploy", "edge.example.com", 2222,
                                                                       "/run/user/1000/podman/podman.sock")
    assert target.where == "deploy@edge.example.com:2222"
    assert parse("ssh://host/run/podman/podman.sock").where == "host"
    for bad in ("ssh://host", "ssh://host/", "ssh://:22/x.sock", "ssh://host:99999/x.sock"):
        with pytest.raises(PodmanUnavailable, match="cannot read the ssh:// URL"):
            parse(bad)


def test_command_checks_host_keys_and_never_prompts():
    command = ssh_command(parse("ssh://root@h:2222/s.sock"), "/tmp/l.sock", "~/k", {"PODSPEC_SSH_CONFIG": "/c"})
    text = " ".join(command)
    assert "BatchMode=yes" in text and "StrictHostKeyChecking=yes" in text and "ExitOnForwardFailure=yes" in text
    assert command[-4:] == ["-L", "/tmp/l.sock:/s.sock", "--", "h"]
    assert ["-F", "/c"] == command[command.index("-F"):command.index("-F") + 2]
    assert ["-p", "2222"] == command[command.index("-p"):command.index("-p") + 2]
    assert "IdentitiesOnly=yes" in text and "StrictHostKeyChecking=no" not in text


@pytest.mark.parametrize(("said", "what", "how"), [
    ("ssh: connect to host h port 2222: Connection refused", "nothing accepts SSH connections at root@h:2222",
     "that sshd runs there"),
    ("Host key verification failed.", "the SSH host key of root@h:2222 is not known",
     "ssh-keyscan -p 2222 h >> ~/.ssh/known_hosts"),
    ("@@@ WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! @@@\nHost key verification failed.",
     "has CHANGED since it was recorded", "ssh-keygen -R '[h]:2222'"),
    ("root@h: Permission denied (publickey).", "root@h:2222 refused the SSH login (identity /k)", "--identity"),
    ("ssh: Could not resolve hostname h: Name or service not known", "cannot resolve the host name", "host in the URL"),
    ("something new", "ssh to root@h:2222 failed: something new", "ssh -p 2222 root@h"),
])
def test_ssh_failures_say_what_where_and_how(said, what, how):
    error = explain(said, parse("ssh://root@h:2222/s.sock"), "/k")
    assert what in error.message
    assert how in error.hint


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list[tuple[str, str, int]] = []

    def log_message(self, *args):
        pass

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        Handler.seen.append((self.command, self.path, id(self.connection)))
        content = json.dumps({"path": self.path, "body": body.decode()}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(content)))
        if self.path.endswith("/close"):
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(content)

    do_GET = do_POST = _answer


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


@pytest.fixture
def server(tmp_path):
    path = str(tmp_path / "s.sock")
    srv = Server(path, Handler)
    Handler.seen = []
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield path
    srv.shutdown()
    srv.server_close()


def test_calls_share_one_kept_alive_connection(server):
    transport = HttpClient(server, 5, keep_alive=True)
    first = transport.request("get", "/containers/json", params={"all": "true"})
    second = transport.request("post", "/volumes/create", body={"Name": "v"})
    assert first.status_code == 200 and first.json()["path"] == "/v4.0.0/libpod/containers/json?all=true"
    assert json.loads(second.json()["body"]) == {"Name": "v"}
    assert len({conn for _, _, conn in Handler.seen}) == 1
    transport.close()


def test_threads_get_connections_of_their_own(server):
    transport = HttpClient(server, 5, keep_alive=True)
    results = []
    threads = [threading.Thread(target=lambda: results.append(transport.request("get", "/_ping").status_code))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200] * 4
    transport.close()


def test_a_connection_the_service_closed_is_replaced(server):
    transport = HttpClient(server, 5, keep_alive=True)
    assert transport.request("get", "/x/close").status_code == 200
    assert transport.request("get", "/y").status_code == 200
    assert [p for _, p, _ in Handler.seen] == ["/v4.0.0/libpod/x/close", "/v4.0.0/libpod/y"]


def test_no_service_is_a_transport_error(tmp_path):
    with pytest.raises(TransportError):
        HttpClient(str(tmp_path / "none.sock"), 1, keep_alive=True).request("get", "/_ping")
