"""Messages to customers end to end: ``pk notice ID --send``, the ready message (``tell_ready``, behind
``pk ready --tell``), ``pk followup send`` and ``pk customer add --language/--consent``, against a real
SMTP server (aiosmtpd) and a real HTTP receiver for apprise on 127.0.0.1, never a mock.

The shop is Trailhead Outfitters in Berlin; it is Sunday 22 Nov 2026, 10:00.
"""

from __future__ import annotations

import json
import re
import subprocess
from email.message import EmailMessage
from pathlib import Path

import pytest
from typer.testing import Result

from tests import test_apprise
from tests.cli import test_installed as installed
from tests.cli import test_notify
from tests.cli.conftest import Pk, PkJson
from tests.cli.test_notify import Server
from tests.conftest import SQL
from tests.test_apprise import Receiver, dead_port

smtp = test_notify.smtp  # a real SMTP server on loopback, shared with pk notify's tests
receiver = test_apprise.receiver  # a real HTTP receiver for apprise's json:// URLs

SHOP = "Trailhead Outfitters"
FROM = "promises@trailhead.example"
DESK = "desk@trailhead.example"


def configure(folder: Path, port: int, *, sms_url: str | None = None, shop_language: str = "en") -> None:
    """The shop's config: its mail server on loopback, its reply address, its SMS gateway."""
    sms = f'sms_url = "{sms_url}"\n' if sms_url else ""
    (folder / "config.toml").write_text(
        f'[shop]\nname = "{SHOP}"\nlanguage = "{shop_language}"\n'
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\nfrom = "{FROM}"\n'
        f'[messages]\nreply_to = "{DESK}"\n{sms}',
        encoding="utf-8",
    )


@pytest.fixture
def shop(tmp_path: Path, smtp: Server) -> Path:
    configure(tmp_path, smtp.port)
    return tmp_path


def _ok(result: Result) -> str:
    assert result.exit_code == 0, result.stderr + result.stdout
    return result.stdout


def _sent_events(db_sql: SQL) -> list[tuple[str, int, dict[str, object]]]:
    rows = db_sql.rows(
        "SELECT kind, promise_id, data FROM event WHERE kind IN ('notice_sent', 'message_sent') ORDER BY id"
    )
    return [(k, int(p), d if isinstance(d, dict) else json.loads(d)) for k, p, d in rows]


def _parts(message: EmailMessage) -> tuple[str, str]:
    plain, rich = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None
    assert rich is not None
    return _lines(plain.get_content()), _lines(rich.get_content())


def _lines(content: object) -> str:
    """A received part's text with the wire's CRLF line ends as ``\\n``."""
    return str(content).replace("\r\n", "\n")


def _joerg(pk: Pk) -> None:
    """A German customer who agreed to mail, and an overdue promise to him (due Friday 20 Nov)."""
    _ok(
        pk(
            "customer", "add", "Jörg Müller", "--email", "joerg@example.de", "--language", "de",
            "--consent", "email",
        )
    )  # fmt: skip
    _ok(pk("promise", "add", "Wanderschuhe Größe 42", "-c", "Jörg Müller", "-p", "240", "-d", "2026-11-20"))


# --- consent and addresses ------------------------------------------------------------------------


def test_no_consent_is_refused_naming_it_and_nothing_is_sent(
    pk: Pk, shop: Path, smtp: Server, db_sql: SQL
) -> None:
    _ok(pk("customer", "add", "Anna Smith", "--email", "anna@example.com"))
    _ok(pk("promise", "add", "Hiking boots", "-c", "Anna Smith", "-p", "240", "-d", "2026-11-20"))
    result = pk("notice", "1", "--send")
    assert result.exit_code == 2
    assert "Anna Smith has not agreed to messages (consent none)" in result.stderr
    assert 'pk customer add "Anna Smith" --consent email' in result.stderr
    assert smtp.received == []
    assert _sent_events(db_sql) == []


def test_consent_without_an_address_names_what_is_missing(pk: Pk, shop: Path, smtp: Server) -> None:
    _ok(pk("customer", "add", "Ben", "--consent", "email"))
    _ok(pk("promise", "add", "Tent", "-c", "Ben", "-d", "2026-11-20"))
    result = pk("notice", "1", "--send")
    assert result.exit_code == 2
    assert "Ben agreed to messages by email but has no email address" in result.stderr
    _ok(pk("customer", "add", "Ben", "--consent", "sms"))
    result = pk("notice", "1", "--send")
    assert result.exit_code == 2
    assert "Ben agreed to text messages but has no phone number" in result.stderr
    assert smtp.received == []


# --- the German notice ----------------------------------------------------------------------------


def test_a_german_customer_gets_the_notice_in_german(pk: Pk, shop: Path, smtp: Server, db_sql: SQL) -> None:
    _joerg(pk)
    said = _ok(pk("notice", "1", "--send"))
    assert said == "Sent the notice for #1 to Jörg Müller <joerg@example.de> by email (de).\n"
    [got] = smtp.received
    assert got.recipients == ["joerg@example.de"]
    assert got.sender == FROM
    message = got.message
    assert message["Subject"] == f"{SHOP}: zu Ihrer Bestellung Nr. 1"
    assert message["From"] == f"{SHOP} <{FROM}>"
    assert message["To"] == "Jörg Müller <joerg@example.de>"
    assert message["Reply-To"] == DESK
    assert message["Content-Language"] == "de"
    assert message["Date"] == "Sun, 22 Nov 2026 10:00:00 +0100"
    assert message["List-Unsubscribe"] == f"<mailto:{DESK}?subject=stop>"
    assert message.get_content_type() == "multipart/alternative"
    text, rich = _parts(message)
    assert text.startswith("Guten Tag Jörg Müller,\n")
    assert "Wanderschuhe Größe 42 für 240,00\u00a0€" in text  # umlauts intact, German money
    assert "Fr., 20. Nov." in text  # the German day
    assert "Nov 20" not in text
    assert "€240" not in text
    assert "antworten Sie mit dem Wort stop" in text  # how to stop further messages
    assert "Guten Tag Jörg Müller," in rich
    assert "240,00\u00a0€" in rich
    assert '<html lang="de">' in rich
    assert b"J=C3=B6rg" in got.raw or "Jörg".encode() in got.raw  # UTF-8 on the wire, not mojibake
    [(kind, promise, data)] = _sent_events(db_sql)
    assert (kind, promise) == ("notice_sent", 1)
    assert data["channel"] == "email"
    assert data["language"] == "de"
    assert data["message_id"] == message["Message-ID"]
    assert str(data["key"]).startswith("notice:1:")
    history = [h["detail"] for h in json.loads(_ok(pk("promise", "show", "1", "--json")))["history"]]
    assert "the notice was sent to the customer by email (in de)" in history


def test_the_same_notice_is_never_sent_twice(pk: Pk, shop: Path, smtp: Server, db_sql: SQL) -> None:
    _joerg(pk)
    _ok(pk("notice", "1", "--send"))
    again = pk("notice", "1", "--send", now="2026-11-22T15:00:00+01:00")
    assert again.exit_code == 0
    assert again.stdout == (
        "Not sent again: the notice for #1 was sent to Jörg Müller on Sun 22 Nov 2026 10:00.\n"
    )
    assert len(smtp.received) == 1
    assert len(_sent_events(db_sql)) == 1
    # New facts are a new notice: delivered (late) after the first one went.
    _ok(pk("deliver", "1", "--no-followup"))
    _ok(pk("notice", "1", "--send"))
    assert len(smtp.received) == 2
    assert len(_sent_events(db_sql)) == 2


def test_a_failed_send_is_exit_5_and_records_nothing(pk: Pk, tmp_path: Path, db_sql: SQL) -> None:
    configure(tmp_path, dead_port())
    _joerg(pk)
    result = pk("notice", "1", "--send")
    assert result.exit_code == 5
    assert result.stderr.startswith("pk: Could not mail the notice for #1 to Jörg Müller via 127.0.0.1:")
    assert "connection was refused" in result.stderr
    assert _sent_events(db_sql) == []


def test_a_refused_recipient_records_nothing(pk: Pk, shop: Path, smtp: Server, db_sql: SQL) -> None:
    _ok(pk("customer", "add", "Nobody", "--email", "nobody@example.com", "--consent", "email"))
    _ok(pk("promise", "add", "Boots", "-c", "Nobody", "-d", "2026-11-20"))
    result = pk("notice", "1", "--send")
    assert result.exit_code == 5
    assert "refused the recipient nobody@example.com" in result.stderr
    assert smtp.received == []
    assert _sent_events(db_sql) == []


@pytest.mark.sqlite_only
def test_a_read_only_book_sends_nothing(pk: Pk, shop: Path, smtp: Server, tmp_path: Path) -> None:
    """A message the book cannot record would be sent again next time: on a read-only medium (a bind
    mount remounted ``ro``: root cannot write it either) nothing is sent."""
    source, medium = tmp_path / "shop", tmp_path / "medium"
    source.mkdir()
    medium.mkdir()
    book = {"PK_DB": str(source / "p.db")}
    _ok(pk("customer", "add", "Jörg", "--email", "joerg@example.de", "--consent", "email", env=book))
    _ok(pk("promise", "add", "Boots", "-c", "Jörg", "-d", "2026-11-20", env=book))
    for mount in (["--bind", str(source), str(medium)], ["-o", "remount,ro,bind", str(medium)]):
        done = subprocess.run(["mount", *mount], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            subprocess.run(["umount", str(medium)], capture_output=True, check=False)
            pytest.skip(f"cannot mount read-only here: {done.stderr.strip()}")
    try:
        result = pk("notice", "1", "--send", env={"PK_DB": str(medium / "p.db")})
    finally:
        subprocess.run(["umount", str(medium)], check=False)
    assert result.exit_code == 4
    assert "is not writable" in result.stderr
    assert smtp.received == []


def test_the_draft_is_in_the_customers_language_too(pk: Pk, shop: Path) -> None:
    _joerg(pk)
    draft = _ok(pk("notice", "1"))
    assert draft.startswith("Guten Tag Jörg Müller,\n")
    assert "240,00\u00a0€" in draft


# --- the ready message ----------------------------------------------------------------------------


def test_an_english_customer_is_told_their_goods_are_ready(
    pk: Pk, shop: Path, smtp: Server, db_sql: SQL
) -> None:
    _ok(pk("customer", "add", "Anna Smith", "--email", "anna@example.com", "--consent", "email"))
    _ok(pk("promise", "add", "Hiking boots", "-c", "Anna Smith", "-p", "240", "-q", "2", "-d", "fri"))
    _ok(pk("deposit", "1", "100"))
    said = _ok(pk("ready", "1", "--tell"))
    assert "Sent the ready message for #1 to Anna Smith <anna@example.com> by email (en)." in said
    [got] = smtp.received
    assert got.message["Subject"] == f"{SHOP}: your order #1 is ready"
    text, rich = _parts(got.message)
    assert text.startswith("Dear Anna Smith,\n\n2 × Hiking boots, which you ordered on Sun 22 Nov, are ready")
    assert "You paid a deposit of €100.00; €140.00 is left to pay." in text
    assert "reply with the word stop" in text
    assert "€140.00" in rich
    [(kind, promise, data)] = _sent_events(db_sql)
    assert (kind, promise, data["message"], data["channel"]) == ("message_sent", 1, "ready", "email")


def test_ready_tell_without_consent_marks_nothing(pk: Pk, shop: Path, smtp: Server) -> None:
    _ok(pk("promise", "add", "Hiking boots", "-c", "Anna Smith", "-d", "fri"))
    result = pk("ready", "1", "--tell")
    assert result.exit_code == 2
    assert "has not agreed to messages" in result.stderr
    assert json.loads(_ok(pk("promise", "show", "1", "--json")))["ready_at"] is None
    assert smtp.received == []


# --- text messages through apprise ------------------------------------------------------------------


def test_a_customer_who_chose_sms_gets_a_text_message(
    pk: Pk, tmp_path: Path, smtp: Server, receiver: Receiver, db_sql: SQL
) -> None:
    configure(tmp_path, smtp.port, sms_url=f"json://127.0.0.1:{receiver.port}/sms/{{phone}}")
    _ok(pk("customer", "add", "Jörg Müller", "--phone", "+49 170 1234567", "--language", "de"))
    _ok(pk("customer", "add", "Jörg Müller", "--consent", "sms"))
    _ok(pk("promise", "add", "Wanderschuhe", "-c", "Jörg Müller", "-p", "240", "-d", "2026-11-20"))
    said = _ok(pk("notice", "1", "--send"))
    assert said.startswith("Sent the notice for #1 to json://127.0.0.1:")
    assert said.endswith(" by text message (de).\n")
    [(path, body)] = receiver.posts
    assert path == "/sms/+491701234567"
    assert body["title"] == f"{SHOP}: zu Ihrer Bestellung Nr. 1"
    assert body["message"].startswith("Guten Tag Jörg Müller,")
    assert "240,00\u00a0€" in body["message"]
    assert "Sie erhalten diese SMS" in body["message"]
    assert smtp.received == []
    [(_, _, data)] = _sent_events(db_sql)
    assert data["channel"] == "sms"


def test_a_failed_text_message_records_nothing(pk: Pk, tmp_path: Path, smtp: Server, db_sql: SQL) -> None:
    configure(tmp_path, smtp.port, sms_url=f"json://127.0.0.1:{dead_port()}/sms/{{phone}}")
    _ok(pk("customer", "add", "Ben", "--phone", "+49 170 1234567", "--consent", "sms"))
    _ok(pk("promise", "add", "Tent", "-c", "Ben", "-d", "2026-11-20"))
    result = pk("notice", "1", "--send")
    assert result.exit_code == 5
    assert result.stderr.startswith("pk: Could not text the notice for #1 to Ben via json://127.0.0.1:")
    assert _sent_events(db_sql) == []


# --- the shop's templates ---------------------------------------------------------------------------


def test_the_shops_template_is_used_and_escaped_in_html(pk: Pk, shop: Path, smtp: Server) -> None:
    templates = shop / "templates"
    templates.mkdir()
    (templates / "notice.de.txt").write_text(
        "Subject: Ihre {{ what }} – eine Nachricht von {{ shop }}\n\n"
        "Hallo {{ customer }},\n\nIhre {{ item }} ({{ price }}) waren bis {{ due }} versprochen.\n",
        encoding="utf-8",
    )
    (templates / "notice.de.html").write_text(
        "<html><body><p>Hallo {{ customer }}: {{ what }}</p></body></html>\n", encoding="utf-8"
    )
    _ok(pk("customer", "add", "Jörg <Müller>", "--email", "joerg@example.de", "--language", "de-AT"))
    _ok(pk("customer", "add", "Jörg <Müller>", "--consent", "email"))
    _ok(pk("promise", "add", "Schuhe <b>42</b>", "-c", "Jörg <Müller>", "-p", "240", "-d", "2026-11-20"))
    _ok(pk("notice", "1", "--send"))
    [got] = smtp.received
    assert got.message["Subject"] == f"Ihre Schuhe <b>42</b> – eine Nachricht von {SHOP}"
    text, rich = _parts(got.message)
    assert text.startswith(
        "Hallo Jörg <Müller>,\n\nIhre Schuhe <b>42</b> (€\u00a0240,00) waren bis Fr., 20. Nov."
    )
    assert "antworten Sie mit dem Wort stop" in text  # the stop line is added to the shop's text
    assert "<p>Hallo Jörg &lt;Müller&gt;: Schuhe &lt;b&gt;42&lt;/b&gt;</p>" in rich
    assert "<b>42</b>" not in rich
    assert rich.index("antworten Sie mit dem Wort stop") < rich.index("</body>")


@pytest.mark.parametrize(
    ("source", "line", "why"),
    [
        ("Hallo,\n\n{% if %}\n", 3, "Expected an expression"),
        ("Hallo,\n{{ customer }}\n{{ nonsense }}\n", 3, "'nonsense' is undefined"),
        ("{{ customer.__class__.__mro__ }}\n", 1, "unsafe"),
        ("Hallo\n{% for i in range(10 ** 7) %}.{% endfor %}\n", 2, "Range too big"),
    ],
)
def test_a_broken_template_is_refused_naming_file_and_line(
    pk: Pk, shop: Path, smtp: Server, db_sql: SQL, source: str, line: int, why: str
) -> None:
    templates = shop / "templates"
    templates.mkdir()
    (templates / "notice.de.txt").write_text(source, encoding="utf-8")
    _joerg(pk)
    result = pk("notice", "1", "--send")
    assert result.exit_code == 2, result.stderr
    assert f"The message template {templates / 'notice.de.txt'}, line {line} cannot be used" in result.stderr
    assert why in result.stderr
    assert smtp.received == []
    assert _sent_events(db_sql) == []


# --- the follow-up check-in -------------------------------------------------------------------------

FOLLOWUP_DAY = "2026-11-24T08:00:00+01:00"  # Tuesday: 2 working days after Sunday's delivery


def test_followup_send_checks_in_once_with_those_who_agreed(
    pk: Pk, shop: Path, smtp: Server, db_sql: SQL
) -> None:
    _joerg(pk)
    _ok(pk("promise", "add", "Tent", "-c", "Ben", "-d", "2026-11-20"))  # Ben agreed to nothing
    _ok(pk("deliver", "1"))
    _ok(pk("deliver", "2"))
    assert _ok(pk("followup", "send")) == "No follow-up to send today.\n"
    dry = _ok(pk("followup", "send", "--dry-run", now=FOLLOWUP_DAY))
    assert "Subject: =?utf-8?" in dry or "Subject: Trailhead" in dry
    assert "Guten Tag Jörg Müller," in dry
    assert smtp.received == []
    assert _sent_events(db_sql) == []
    result = pk("followup", "send", now=FOLLOWUP_DAY)
    assert result.exit_code == 0, result.stderr
    assert re.fullmatch(
        r"Sent the follow-up check-in for #\d+ to Jörg Müller <joerg@example.de> by email \(de\)\.\n",
        result.stdout,
    )
    assert "1 follow-up due today is for customers who did not agree to messages" in result.stderr
    [got] = smtp.received
    assert got.message["Subject"] == f"{SHOP}: Ist mit Ihrer Bestellung alles in Ordnung?"
    text, _ = _parts(got.message)
    assert "Am So., 22. Nov. haben Sie von uns Wanderschuhe Größe 42 erhalten." in text
    again = _ok(pk("followup", "send", now="2026-11-24T18:00:00+01:00"))
    assert again.startswith("Not sent again: the follow-up check-in for #")
    assert len(smtp.received) == 1
    # A day later the check-in is not sent late.
    assert _ok(pk("followup", "send", now="2026-11-25T08:00:00+01:00")) == "No follow-up to send today.\n"
    [(kind, _, data)] = _sent_events(db_sql)
    assert (kind, data["message"]) == ("message_sent", "followup")


# --- the customer's language and consent -------------------------------------------------------------


def test_language_and_consent_are_shown_and_consent_changes_are_history(
    pk: Pk, pkj: PkJson, shop: Path, db_sql: SQL
) -> None:
    _ok(pk("customer", "add", "Anna Smith"))
    shown = pkj("customer", "show", "Anna Smith")
    assert (shown["language"], shown["consent"]) == ("en", "none")  # the shop's language by default
    _ok(pk("customer", "add", "Anna Smith", "--language", "DE_at", "--consent", "email"))
    shown = pkj("customer", "show", "Anna Smith")
    assert (shown["language"], shown["consent"]) == ("de-AT", "email")
    assert pkj("customer", "list")[0]["consent"] == "email"
    assert re.search(r"^Messages +by email, in de-AT$", _ok(pk("customer", "show", "Anna Smith")), re.M)
    later = "2026-11-22T11:00:00+01:00"  # a change of its own moment, not the customer's creation's
    _ok(pk("customer", "add", "Anna Smith", "--consent", "none", now=later))
    rows = db_sql.rows("SELECT data FROM event WHERE kind = 'consent' ORDER BY id")
    changes = [d if isinstance(d, dict) else json.loads(d) for (d,) in rows]
    assert changes == [{"old": "none", "new": "email"}, {"old": "email", "new": "none"}]
    assert _ok(pk("undo", "--yes", now=later)) == (
        "Undid: pk customer add, Sun 22 Nov 2026 11:00: changed a customer's consent\n"
    )
    assert pkj("customer", "show", "Anna Smith")["consent"] == "email"


def test_a_language_that_is_no_tag_is_bad_input(pk: Pk) -> None:
    result = pk("customer", "add", "Anna", "--language", "German!")
    assert result.exit_code == 2
    assert "--language 'German!' is not a language tag" in result.stderr


def test_a_language_without_a_catalog_is_written_in_english_and_said_once(
    pk: Pk, shop: Path, smtp: Server
) -> None:
    _ok(
        pk(
            "customer",
            "add",
            "Marie",
            "--email",
            "marie@example.fr",
            "--language",
            "fr",
            "--consent",
            "email",
        )
    )
    _ok(pk("promise", "add", "Chaussures", "-c", "Marie", "-p", "240", "-d", "2026-11-20"))
    result = pk("notice", "1", "--send")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.count("There is no catalog for the language fr") == 1
    text, _ = _parts(smtp.received[0].message)
    assert text.startswith("Dear Marie,")
    assert "€240.00" in text


# --- the morning mail in the shop's language ---------------------------------------------------------


def test_the_morning_mail_speaks_the_shops_language(pk: Pk, tmp_path: Path, smtp: Server) -> None:
    configure(tmp_path, smtp.port, shop_language="de")
    _ok(pk("promise", "add", "Wanderschuhe", "-c", "Jörg Müller", "-p", "240", "-d", "2026-11-20"))
    _ok(pk("promise", "add", "Rückruf", "-c", "Anna", "--kind", "callback", "-d", "today 16:00"))
    _ok(pk("notify", "--to", "owner@trailhead.example"))
    [got] = smtp.received
    assert got.message["Subject"] == f"{SHOP}: 1 überfällig, 1 heute fällig"
    text, rich = _parts(got.message)
    assert text.startswith(
        "Stand So., 22. Nov. 2026, 10:00 Uhr (Europe/Berlin): zuerst die überfälligen Zusagen "
        "(die am längsten überfälligen zuerst), dann die heute fälligen.\n"
    )
    assert "Überfällig: 1" in text
    assert "Heute fällig (So., 22. Nov.): 1" in text
    assert "Gesendet von pk (promisekeeper)." in text
    assert '<html lang="de">' in rich
    assert "Überfällig: 1</h2>" in rich


def test_a_shop_language_without_a_catalog_mails_in_english_and_says_so(
    pk: Pk, tmp_path: Path, smtp: Server
) -> None:
    configure(tmp_path, smtp.port, shop_language="fr")
    _ok(pk("promise", "add", "Chaussures", "-d", "2026-11-20"))
    result = pk("notify", "--to", "owner@trailhead.example")
    assert result.exit_code == 0, result.stderr
    assert "There is no catalog for the language fr" in result.stderr
    assert smtp.received[0].message["Subject"] == f"{SHOP}: 1 overdue, 0 due today"


# --- the installed pk, as cron runs it -----------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.skipif(not installed.PK.exists(), reason="the pk console script is not installed here")
def test_the_installed_pk_sends_once_and_says_why_not(tmp_path: Path, smtp: Server) -> None:
    configure(tmp_path, smtp.port)
    config = {"PK_CONFIG": str(tmp_path / "config.toml")}
    installed.run(tmp_path, "customer", "add", "Ben", "--email", "ben@example.com", **config)
    installed.run(tmp_path, "promise", "add", "Tent", "-c", "Ben", "-d", "2026-11-20", **config)
    refused = installed.run(tmp_path, "notice", "1", "--send", **config)
    assert refused.returncode == 2
    assert refused.stderr.startswith("pk: Ben has not agreed to messages (consent none)")
    assert refused.stderr.count("\n") == 1
    installed.run(tmp_path, "customer", "add", "Ben", "--consent", "email", **config)
    sent = installed.run(tmp_path, "notice", "1", "--send", **config)
    assert (sent.returncode, sent.stdout) == (
        0,
        "Sent the notice for #1 to Ben <ben@example.com> by email (en).\n",
    )
    again = installed.run(tmp_path, "notice", "1", "--send", **config)
    assert again.returncode == 0
    assert again.stdout.startswith("Not sent again:")
    assert len(smtp.received) == 1
    configure(tmp_path, dead_port())
    quiet = installed.run(tmp_path, "followup", "send", **config)
    assert (quiet.returncode, quiet.stdout) == (0, "No follow-up to send today.\n")
    installed.run(tmp_path, "deliver", "1", **config)
    failed = installed.run(tmp_path, "followup", "send", **config, PK_NOW="2026-11-24T08:00:00+01:00")
    assert failed.returncode == 5
    assert failed.stderr.startswith("pk: Could not mail the follow-up check-in for #2 to Ben via 127.0.0.1:")
    assert failed.stderr.count("\n") == 1
