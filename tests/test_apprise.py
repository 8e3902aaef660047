"""The apprise channels of ``pk notify --url`` (``mail.channels``, ``mail.send_to_channel``) against a real
HTTP receiver on 127.0.0.1 (apprise's ``json://`` URL), never a mock; a port nobody listens on is the
channel that fails."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from promisekeeper import mail
from promisekeeper.errors import BadInput


@dataclass
class Receiver:
    """A local HTTP server that keeps every JSON body posted to it (with its path)."""

    port: int
    posts: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def url(self, path: str = "/hook") -> str:
        return f"json://127.0.0.1:{self.port}{path}"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    got = Receiver(0)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            size = int(self.headers.get("Content-Length") or 0)
            got.posts.append((self.path, json.loads(self.rfile.read(size) or b"{}")))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    got.port = int(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield got
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def dead_port() -> int:
    """A port on 127.0.0.1 that nobody listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_report_arrives_at_the_channel(receiver: Receiver) -> None:
    [channel] = mail.channels([receiver.url()])
    assert mail.send_to_channel(channel, "Our shop: 1 overdue, 0 due today", "Overdue: 1\n#1 Boots") is None
    [(path, body)] = receiver.posts
    assert path == "/hook"
    assert body["title"] == "Our shop: 1 overdue, 0 due today"
    assert body["message"] == "Overdue: 1\n#1 Boots"


def test_a_dead_channel_says_why_and_raises_nothing() -> None:
    [channel] = mail.channels([f"json://127.0.0.1:{dead_port()}/hook"])
    why = mail.send_to_channel(channel, "t", "b")
    assert why is not None
    assert "\n" not in why
    assert "onnection" in why


def test_a_channel_is_shown_without_its_secret_and_logged_by_a_digest() -> None:
    [telegram] = mail.channels(["tgram://123456789:AAHsecrettokenvalue/987654321"])
    assert "AAHsecrettokenvalue" not in telegram.name
    assert telegram.name.startswith("tgram://")
    assert "?" not in telegram.name
    assert telegram.key.startswith("url:")
    assert "secret" not in telegram.key
    assert telegram.key == mail.channel_key("tgram://123456789:AAHsecrettokenvalue/987654321")


def test_the_same_url_twice_is_one_channel(receiver: Receiver) -> None:
    assert len(mail.channels([receiver.url(), f" {receiver.url()} "])) == 1


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("nonsense://whatever", "not a URL apprise can send to"),
        ("no url at all", "not a URL apprise can send to"),
        ("json://127.0.0.1/\nX-Evil: 1", "line break"),
    ],
)
def test_a_url_apprise_cannot_read_is_bad_input(url: str, message: str) -> None:
    with pytest.raises(BadInput, match=message):
        mail.channels([url])


def test_commands_without_a_url_do_not_import_apprise(tmp_path: Path) -> None:
    """apprise costs a third of a second to import: only ``notify --url`` pays for it."""
    code = (
        "import sys; from typer.testing import CliRunner; from promisekeeper.cli import app; "
        "CliRunner().invoke(app, ['due']); CliRunner().invoke(app, ['notify', '--help']); "
        "print('apprise' in sys.modules)"
    )
    env = {**os.environ, "PK_DB": str(tmp_path / "p.db"), "PK_CONFIG": str(tmp_path / "none.toml")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip().splitlines()[-1] == "False"
