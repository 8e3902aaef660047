"""``pk notify`` end to end against a real SMTP server (aiosmtpd) on 127.0.0.1, on a free port.

TLS verification in these tests works as it does for a shop with its own CA: the test makes a CA and a
server certificate for 127.0.0.1, and ``PK_SMTP_CAFILE`` points pk at that CA. Without it, pk trusts
only the system's CAs and refuses the server (exit 5): verification is never switched off.
"""

from __future__ import annotations

import datetime as dt
import email
import json
import socket
import sqlite3
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from typer.testing import Result

from tests.cli.conftest import Pk
from tests.conftest import SQL

TO = "owner@trailhead.example"
FROM = "promises@trailhead.example"


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage
    tls: bool
    raw: bytes


@dataclass
class Sink:
    """An aiosmtpd handler that keeps what it receives and refuses ``nobody@`` recipients."""

    received: list[Received] = field(default_factory=list)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address.startswith("nobody@"):
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.received.append(
            Received(
                envelope.mail_from,
                list(envelope.rcpt_tos),
                parsed,
                bool(getattr(session, "ssl", None)),
                bytes(envelope.original_content),
            )
        )
        return "250 OK: queued"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        b"shop",
        b"s3cret",
    )
    return AuthResult(success=ok, handled=False)


@dataclass
class Server:
    sink: Sink
    port: int

    @property
    def received(self) -> list[Received]:
        return self.sink.received


def _start(**kwargs: Any) -> tuple[Controller, Server]:
    sink = Sink()
    port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port, server_hostname="pk-test", **kwargs)
    controller.start()
    return controller, Server(sink, port)


@pytest.fixture
def smtp() -> Iterator[Server]:
    """A plain SMTP server with optional login (user shop, password s3cret)."""
    controller, server = _start(authenticator=_authenticator, auth_require_tls=False)
    yield server
    controller.stop()


@dataclass(frozen=True)
class Certs:
    ca: Path
    cert: Path
    key: Path


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    """A throwaway CA and a server certificate it signed for 127.0.0.1 and localhost."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    folder = tmp_path_factory.mktemp("certs")
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pk test CA")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = Certs(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    paths.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return paths


def _server_context(certs: Certs) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certs.cert, certs.key)
    return context


@pytest.fixture
def tls_smtp(certs: Certs) -> Iterator[Server]:
    """A server that demands STARTTLS before anything else, with the test CA's certificate."""
    controller, server = _start(tls_context=_server_context(certs), require_starttls=True)
    yield server
    controller.stop()


@pytest.fixture
def ssl_smtp(certs: Certs) -> Iterator[Server]:
    """A server that speaks TLS from the first byte (port 465 style)."""
    controller, server = _start(ssl_context=_server_context(certs))
    yield server
    controller.stop()


def _notify(
    pk: Pk, server: Server | int, *args: str, now: str | None = None, env: dict[str, str] | None = None
) -> Result:
    port = server if isinstance(server, int) else server.port
    return pk(
        "notify",
        "--to",
        TO,
        "--from",
        FROM,
        "--smtp-host",
        "127.0.0.1",
        "--smtp-port",
        str(port),
        *(args or ("--smtp-security", "none")),
        now=now,
        env=env,
    )


def _morning(pk: Pk) -> None:
    """Two promises overdue (one with text a customer could type), one due today, one next week."""
    assert (
        pk(
            "promise",
            "add",
            "Hiking boots size 38",
            "-c",
            "Anna Smith",
            "-q",
            "2",
            "-p",
            "240",
            "-d",
            "2026-11-20",
            "-s",
            "Jo",
        ).exit_code
        == 0
    )
    pk(
        "promise",
        "add",
        "Rain jacket <M> & hood",
        "-c",
        "Kaito <kaito@example.com>",
        "-p",
        "180",
        "-d",
        "2026-11-21",
    )
    pk(
        "promise",
        "add",
        "Call back about the bindings",
        "--kind",
        "callback",
        "-c",
        "Emma",
        "-d",
        "today 16:00",
    )
    pk("promise", "add", "Tent", "-d", "2026-11-30")


def _notified(db_sql: SQL) -> int:
    return int(db_sql.rows("SELECT count(*) FROM event WHERE kind = 'notified'")[0][0])


@pytest.mark.slow
def test_the_morning_mail_arrives_as_text_and_html(pk: Pk, smtp: Server, db_sql: SQL) -> None:
    _morning(pk)
    result = _notify(pk, smtp)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        f'Mailed "Our shop: 2 overdue, 1 due today" to {TO} via 127.0.0.1:{smtp.port}.\n'
    )
    [got] = smtp.received
    assert (got.sender, got.recipients) == (FROM, [TO])
    message = got.message
    assert message["Subject"] == "Our shop: 2 overdue, 1 due today"
    assert message["From"] == f"Our shop <{FROM}>"
    assert message["To"] == TO
    assert message.get_content_type() == "multipart/alternative"
    plain = message.get_body(("plain",))
    page = message.get_body(("html",))
    assert plain is not None
    assert page is not None
    text, markup = str(plain.get_content()), str(page.get_content())
    assert "\x1b" not in text
    assert text.index("Hiking boots") < text.index("Rain jacket") < text.index("Call back")
    assert "Tent" not in text
    assert "Rain jacket &lt;M&gt; &amp; hood" in markup
    assert "Kaito &lt;kaito@example.com&gt;" in markup
    assert "<M>" not in markup


@pytest.mark.slow
def test_a_sent_report_is_logged_and_shown_in_the_promise(pk: Pk, smtp: Server, db_sql: SQL) -> None:
    _morning(pk)
    assert _notify(pk, smtp).exit_code == 0
    assert db_sql.rows("SELECT recipients, subject, overdue, due FROM sent_report") == [
        (TO, "Our shop: 2 overdue, 1 due today", 2, 1)
    ]
    assert sorted(db_sql.rows("SELECT promise_id, section FROM sent_item")) == [
        (1, "overdue"),
        (2, "overdue"),
        (3, "due"),
    ]
    history = json.loads(pk("promise", "show", "1", "--json").stdout)["history"]
    assert history[-1] == {
        "at": "2026-11-22T10:00:00+01:00",
        "event": "notified",
        "detail": f"mailed to {TO} as overdue",
        "data": {"report_id": 1, "recipients": [TO], "section": "overdue"},
    }
    shown = pk("promise", "show", "3").stdout
    assert "notified" in shown
    assert "as due today" in shown


@pytest.mark.slow
def test_several_recipients_get_one_message(pk: Pk, smtp: Server) -> None:
    _morning(pk)
    result = _notify(
        pk, smtp, "--smtp-security", "none", "--to", "jo@trailhead.example", "--subject", "Today"
    )
    assert result.exit_code == 0, result.stderr
    [got] = smtp.received
    assert got.recipients == [TO, "jo@trailhead.example"]
    assert got.message["Subject"] == "Today"


def test_a_closed_port_is_exit_5_and_records_nothing(pk: Pk, db_sql: SQL) -> None:
    _morning(pk)
    port = _free_port()
    result = _notify(pk, port)
    assert result.exit_code == 5
    assert result.stderr == (
        f"pk: Could not mail the report via 127.0.0.1:{port}: the connection was refused "
        "(is a mail server listening on that port?).\n"
    )
    assert db_sql.rows("SELECT count(*) FROM sent_report") == [(0,)]
    assert _notified(db_sql) == 0


@pytest.mark.slow
def test_a_server_that_never_answers_times_out_with_exit_5(pk: Pk, db_sql: SQL) -> None:
    _morning(pk)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        result = _notify(pk, port, env={"PK_SMTP_TIMEOUT": "0.3"})
    assert result.exit_code == 5
    assert result.stderr == (
        f"pk: Could not mail the report via 127.0.0.1:{port}: the server did not answer within 0.3 s.\n"
    )
    assert _notified(db_sql) == 0


@pytest.mark.slow
def test_only_if_any_sends_nothing_on_a_quiet_day(pk: Pk, smtp: Server, db_sql: SQL) -> None:
    pk("promise", "add", "Tent", "-d", "2026-11-30")
    result = _notify(pk, smtp, "--smtp-security", "none", "--only-if-any")
    assert result.exit_code == 0
    assert result.stdout == "Nothing to report; no mail sent.\n"
    assert smtp.received == []
    assert db_sql.rows("SELECT count(*) FROM sent_report") == [(0,)]


@pytest.mark.slow
def test_without_only_if_any_a_quiet_day_still_mails(pk: Pk, smtp: Server) -> None:
    pk("promise", "add", "Tent", "-d", "2026-11-30")
    assert _notify(pk, smtp).exit_code == 0
    [got] = smtp.received
    assert got.message["Subject"] == "Our shop: 0 overdue, 0 due today"
    assert "Nothing overdue and nothing due until Sun 22 Nov (end of day)." in _text_part(got.message)


@pytest.mark.slow
def test_dry_run_prints_the_message_and_sends_nothing(pk: Pk, smtp: Server, db_sql: SQL) -> None:
    _morning(pk)
    result = pk("notify", "--to", TO, "--from", FROM, "--dry-run")  # no server needed
    assert result.exit_code == 0, result.stderr
    printed = email.message_from_string(result.stdout, policy=policy.default)
    assert isinstance(printed, EmailMessage)
    assert printed["Subject"] == "Our shop: 2 overdue, 1 due today"
    assert [p.get_content_type() for p in printed.iter_parts()] == ["text/plain", "text/html"]
    assert result.stdout.startswith("Subject: Our shop: 2 overdue, 1 due today\nFrom: ")
    assert smtp.received == []
    assert db_sql.rows("SELECT count(*) FROM sent_report") == [(0,)]
    assert _notified(db_sql) == 0


def _text_part(message: EmailMessage) -> str:
    plain = message.get_body(("plain",))
    assert plain is not None
    return str(plain.get_content())


def test_dry_run_needs_no_sender(pk: Pk, cli_env: dict[str, str]) -> None:
    """A dry run sends nothing, so it asks for no --from: the config's sender if there is one, else none."""
    _morning(pk)
    result = pk("notify", "--to", TO, "--dry-run")
    assert result.exit_code == 0, result.stderr
    printed = email.message_from_string(result.stdout, policy=policy.default)
    assert printed["From"] is None
    assert printed["To"] == TO
    assert printed["Subject"] == "Our shop: 2 overdue, 1 due today"
    config = Path(cli_env["PK_CONFIG"])
    config.write_text(f'[shop]\nname = "Trailhead Outfitters"\n[smtp]\nfrom = "{FROM}"\n')
    printed = email.message_from_string(pk("notify", "--to", TO, "--dry-run").stdout, policy=policy.default)
    assert printed["From"] == f"Trailhead Outfitters <{FROM}>"


@pytest.mark.slow
def test_the_mail_says_what_pk_due_says(pk: Pk, smtp: Server) -> None:
    """The same headings as ``pk due`` for the same morning, and one way of writing a date (Wed 2 Dec)."""
    now = "2026-12-02T07:30:00+01:00"
    pk("promise", "add", "Boots", "-c", "Anna", "-d", "2026-12-01", now=now)
    pk("promise", "add", "Call back", "--kind", "callback", "-c", "Ben", "-d", "today 16:00", now=now)
    due = pk("due", now=now)
    assert due.exit_code == 0, due.stderr
    headings = [line for line in due.stdout.splitlines() if line.startswith(("Overdue", "Due"))]
    assert headings == ["Overdue: 1", "Due today (Wed 2 Dec): 1"]
    assert _notify(pk, smtp, now=now).exit_code == 0
    text = _text_part(smtp.received[-1].message)
    assert [line for line in text.splitlines() if line in headings] == headings
    assert text.startswith("As of Wed 2 Dec 2026 07:30 (Europe/Berlin): ")
    assert "02 Dec" not in text
    assert "Tue 1 Dec" in text
    pk("deliver", "1", now=now)
    pk("done", "2", now=now)
    quiet = pk("due", now=now).stdout.strip()
    assert quiet == "Nothing overdue and nothing due until Wed 2 Dec (end of day)."
    assert _notify(pk, smtp, now=now).exit_code == 0
    assert quiet in _text_part(smtp.received[-1].message)


@pytest.mark.slow
@pytest.mark.sqlite_only
def test_stored_control_characters_arrive_visible_and_never_in_a_header(
    pk: Pk, smtp: Server, db_target: str, cli_env: dict[str, str]
) -> None:
    """Rows written by another program with a screen clear, a bell, CR/LF and a right-to-left override:
    both parts show each visibly, the HTML part escaped, and no header carries one raw."""
    pk("promise", "add", "Boots", "-c", "Eve", "-s", "Jo", "-d", "2026-11-21")
    with sqlite3.connect(db_target) as book:
        book.execute(
            "UPDATE promise SET what = ?, staff = ? WHERE id = 1",
            ("Boots\x1b[2J\x07\r\nBcc: evil@example.com", "Jo\x1b]0;TITLE\x07"),
        )
        book.execute("UPDATE customer SET name = ?", ("<b>Eve</b>\u202eevil",))
    book.close()
    config = Path(cli_env["PK_CONFIG"])
    config.write_text('[shop]\nname = "Trail\\u001b[2Jhead\\u202e"\n')
    result = _notify(pk, smtp)
    assert result.exit_code == 0, result.stderr
    [got] = smtp.received
    head = got.raw.split(b"\r\n\r\n", 1)[0]
    assert head.isascii()
    for raw in ("\x1b", "\x07", "\u202e"):
        assert raw.encode() not in got.raw
    assert b"Bcc" not in head
    assert got.message["Subject"] == "Trail\u241b[2Jhead<U+202E>: 1 overdue, 0 due today"
    assert got.message["From"].addresses[0].display_name == "Trail\u241b[2Jhead<U+202E>"
    text = _text_part(got.message)
    flat = " ".join(text.split())
    assert "Boots\u241b[2J\u2407\u240d\u240aBcc:" in flat  # the table may wrap the cell after it
    assert "<b>Eve</b><U+202E>evil" in flat
    assert "Jo\u241b]0;TITLE\u2407" in flat
    page = got.message.get_body(("html",))
    assert page is not None
    markup = str(page.get_content())
    assert "Boots\u241b[2J\u2407\u240d\u240aBcc: evil@example.com" in markup
    assert "&lt;b&gt;Eve&lt;/b&gt;&lt;U+202E&gt;evil" in markup
    assert "<b>" not in markup
    assert "Jo\u241b]0;TITLE\u2407" in markup


@pytest.mark.slow
def test_only_new_mails_what_became_overdue_since_the_last_mail(pk: Pk, smtp: Server) -> None:
    _morning(pk)
    assert _notify(pk, smtp, "--smtp-security", "none", "--only-new").exit_code == 0
    first = smtp.received[-1].message
    assert first["Subject"] == "Our shop: 2 newly overdue"
    # An hour later nothing new has slipped: with --only-if-any nothing goes out.
    quiet = _notify(
        pk, smtp, "--smtp-security", "none", "--only-new", "--only-if-any", now="2026-11-22T11:00:00+01:00"
    )
    assert quiet.stdout == "Nothing to report; no mail sent.\n"
    assert len(smtp.received) == 1
    # By 17:00 the 16:00 callback has slipped; a promise entered late with a past due is new too.
    pk("promise", "add", "Gaiters", "-d", "2026-11-19", now="2026-11-22T12:00:00+01:00")
    later = _notify(pk, smtp, "--smtp-security", "none", "--only-new", now="2026-11-22T17:00:00+01:00")
    assert later.exit_code == 0, later.stderr
    message = smtp.received[-1].message
    assert message["Subject"] == "Our shop: 2 newly overdue"
    plain = message.get_body(("plain",))
    assert plain is not None
    text = str(plain.get_content())
    assert "since the last report (Sun 22 Nov 2026 10:00)" in text
    assert "Gaiters" in text
    assert "Call back" in text
    assert "Hiking boots" not in text
    assert "Rain jacket" not in text


@pytest.mark.slow
def test_only_new_counts_a_renegotiated_promise_that_slips_again(pk: Pk, smtp: Server) -> None:
    pk("promise", "add", "Boots", "-d", "2026-11-20")
    assert _notify(pk, smtp, "--smtp-security", "none", "--only-new").exit_code == 0
    pk("promise", "amend", "1", "--due", "2026-11-23", "--reason", "Supplier delay")
    assert _notify(pk, smtp, "--smtp-security", "none", "--only-new", "--only-if-any").stdout.startswith(
        "Nothing"
    )
    slipped = _notify(pk, smtp, "--smtp-security", "none", "--only-new", now="2026-11-24T09:00:00+01:00")
    assert slipped.exit_code == 0
    assert smtp.received[-1].message["Subject"] == "Our shop: 1 newly overdue"


@pytest.mark.slow
def test_login_with_the_password_from_the_environment(pk: Pk, smtp: Server) -> None:
    _morning(pk)
    result = _notify(
        pk, smtp, "--smtp-security", "none", "--smtp-user", "shop", env={"PK_SMTP_PASSWORD": "s3cret"}
    )
    assert result.exit_code == 0, result.stderr
    assert len(smtp.received) == 1


@pytest.mark.slow
def test_a_refused_login_is_exit_5_and_records_nothing(pk: Pk, smtp: Server, db_sql: SQL) -> None:
    _morning(pk)
    result = _notify(
        pk, smtp, "--smtp-security", "none", "--smtp-user", "shop", env={"PK_SMTP_PASSWORD": "wrong"}
    )
    assert result.exit_code == 5
    assert result.stderr.startswith(
        f"pk: Could not mail the report via 127.0.0.1:{smtp.port}: "
        "the server refused the login of user shop (535"
    )
    assert result.stderr.count("\n") == 1
    assert smtp.received == []
    assert _notified(db_sql) == 0


@pytest.mark.slow
def test_a_refused_recipient_is_exit_5_and_nobody_gets_it(pk: Pk, smtp: Server, db_sql: SQL) -> None:
    _morning(pk)
    result = _notify(pk, smtp, "--smtp-security", "none", "--to", "nobody@trailhead.example")
    assert result.exit_code == 5
    assert result.stderr == (
        f"pk: Could not mail the report via 127.0.0.1:{smtp.port}: the server refused the recipient "
        "nobody@trailhead.example (550 5.1.1 No such mailbox here); nobody was sent it.\n"
    )
    assert smtp.received == []
    assert db_sql.rows("SELECT count(*) FROM sent_report") == [(0,)]
    assert _notified(db_sql) == 0


@pytest.mark.slow
def test_starttls_with_the_shops_own_ca(pk: Pk, tls_smtp: Server, certs: Certs) -> None:
    _morning(pk)
    result = _notify(pk, tls_smtp, "--smtp-security", "starttls", env={"PK_SMTP_CAFILE": str(certs.ca)})
    assert result.exit_code == 0, result.stderr
    [got] = tls_smtp.received
    assert got.tls
    assert got.message["Subject"] == "Our shop: 2 overdue, 1 due today"


@pytest.mark.slow
def test_starttls_with_an_unknown_ca_is_refused(pk: Pk, tls_smtp: Server, db_sql: SQL) -> None:
    _morning(pk)
    result = _notify(pk, tls_smtp, "--smtp-security", "starttls")
    assert result.exit_code == 5
    assert result.stderr.startswith(
        f"pk: Could not mail the report via 127.0.0.1:{tls_smtp.port}: "
        "its TLS certificate could not be verified ("
    )
    assert "PK_SMTP_CAFILE" in result.stderr
    assert result.stderr.count("\n") == 1
    assert tls_smtp.received == []
    assert _notified(db_sql) == 0


@pytest.mark.slow
def test_plain_smtp_to_a_server_that_requires_starttls_is_exit_5(pk: Pk, tls_smtp: Server) -> None:
    _morning(pk)
    result = _notify(pk, tls_smtp, "--smtp-security", "none")
    assert result.exit_code == 5
    assert f"127.0.0.1:{tls_smtp.port}" in result.stderr
    assert tls_smtp.received == []


@pytest.mark.slow
def test_implicit_tls(pk: Pk, ssl_smtp: Server, certs: Certs) -> None:
    _morning(pk)
    result = _notify(pk, ssl_smtp, "--smtp-security", "ssl", env={"PK_SMTP_CAFILE": str(certs.ca)})
    assert result.exit_code == 0, result.stderr
    assert len(ssl_smtp.received) == 1


@pytest.mark.slow
def test_the_smtp_section_of_the_config_is_used(pk: Pk, smtp: Server, cli_env: dict[str, str]) -> None:
    _morning(pk)
    config = Path(cli_env["PK_CONFIG"])
    config.write_text(
        '[shop]\nname = "Trailhead Outfitters"\n'
        f'[smtp]\nhost = "127.0.0.1"\nport = {smtp.port}\nsecurity = "none"\nuser = "shop"\n'
        f'password = "s3cret"\nfrom = "{FROM}"\n'
    )
    config.chmod(0o600)
    result = pk("notify", "--to", TO)
    assert result.exit_code == 0, result.stderr
    [got] = smtp.received
    assert got.message["Subject"] == "Trailhead Outfitters: 2 overdue, 1 due today"
    assert got.message["From"] == f"Trailhead Outfitters <{FROM}>"


@pytest.mark.slow
def test_a_config_password_others_can_read_is_refused(pk: Pk, smtp: Server, cli_env: dict[str, str]) -> None:
    config = Path(cli_env["PK_CONFIG"])
    config.write_text(f'[smtp]\nhost = "127.0.0.1"\nport = {smtp.port}\npassword = "s3cret"\nuser = "shop"\n')
    config.chmod(0o644)
    result = pk("notify", "--to", TO, "--from", FROM, "--smtp-security", "none")
    assert result.exit_code == 2
    assert result.stderr == (
        f"pk: The config file {config} holds the SMTP password but others can read it (mode 644); "
        f"run chmod 600 {config}, or remove the password and set PK_SMTP_PASSWORD instead.\n"
    )
    assert smtp.received == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--to", "owner@example.com\r\nBcc: evil@example.com", "--from", FROM), "line break"),
        (("--to", "not-an-address", "--from", FROM), "not one mail address"),
        (("--to", TO), "No sender address"),
        (("--to", TO, "--from", FROM), "No mail server"),
        (("--to", TO, "--from", FROM, "--smtp-host", "h", "--smtp-user", "shop"), "PK_SMTP_PASSWORD"),
        (("--to", TO, "--from", FROM, "--smtp-security", "tls"), "--smtp-security"),
        (("--from", FROM, "--dry-run"), "--to"),
    ],
)
def test_bad_options_are_one_sentence_and_exit_2(pk: Pk, args: tuple[str, ...], message: str) -> None:
    result = pk("notify", *args)
    assert result.exit_code == 2, result.stderr
    assert message in result.stderr
    assert result.stderr.startswith("pk: ")
    assert result.stderr.count("\n") == 1
