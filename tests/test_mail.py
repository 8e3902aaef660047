"""The morning mail as a message: its parts, its escaping, its headers, and the route to the server."""

from __future__ import annotations

import email
import html
import os
import re
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from promisekeeper import mail, store, words
from promisekeeper.config import SmtpSettings
from promisekeeper.db import Database
from promisekeeper.errors import BadInput
from promisekeeper.money import Money
from promisekeeper.views import DueReport, Kind
from promisekeeper.when import Clock, Due, end_of_day, parse_when
from tests.cli.test_notify import Server

SHOP = "Trailhead Outfitters"
NASTY = "<script>alert('x')</script> & \"Co\" Bcc: evil@example.com"  # control characters: HOSTILE
STAFF = "<i>Sam</i>&Co"


def _add(db: Database, clock: Clock, what: str, due: str, **kw: object) -> int:
    with db.session() as session:
        return store.add_promise(session, clock=clock, what=what, due=parse_when(due, clock), **kw)  # type: ignore[arg-type]


@pytest.fixture
def report(db: Database, clock: Clock) -> DueReport:
    """Two overdue (one with hostile text everywhere a person types) and one due today."""
    _add(
        db,
        clock,
        "Hiking boots size 38",
        "2026-11-20",
        customer="Anna Smith",
        quantity=2,
        staff="Jo",
        price=Money.from_minor(24000, "EUR"),
    )
    _add(db, clock, NASTY, "2026-11-21", customer=NASTY, staff=STAFF, note=NASTY)
    _add(db, clock, "Call back Ben", "today 16:00", kind="callback", customer="Ben")
    _add(db, clock, "Not yet", "2026-11-30")
    with db.session(write=False) as session:
        return store.due_report(session, clock=clock)


def _message(report: DueReport, clock: Clock, **kw: object) -> EmailMessage:
    who = mail.envelope("promises@trailhead.example", ["owner@trailhead.example"], shop=SHOP)
    return mail.build_message(report, who, shop=SHOP, tz=clock.tz, **kw)  # type: ignore[arg-type]


def _parse(message: EmailMessage) -> EmailMessage:
    """Round-trip through bytes, as the receiving server sees it."""
    parsed = email.message_from_bytes(message.as_bytes(), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _parts(message: EmailMessage) -> tuple[str, str]:
    plain = message.get_body(("plain",))
    rich = message.get_body(("html",))
    assert plain is not None
    assert rich is not None
    return str(plain.get_content()), str(rich.get_content())


class _Tags(HTMLParser):
    """Collects elements and checks that every opened element is closed in order."""

    VOID = frozenset({"meta", "br"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.seen: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack.pop() == tag


def test_the_message_is_multipart_alternative_with_text_then_html(report: DueReport, clock: Clock) -> None:
    message = _parse(_message(report, clock))
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert message["Subject"] == "Trailhead Outfitters: 2 overdue, 1 due today"
    assert message["From"] == "Trailhead Outfitters <promises@trailhead.example>"
    assert message["To"] == "owner@trailhead.example"
    assert message["Date"] == "Sun, 22 Nov 2026 10:00:00 +0100"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Message-ID"].endswith("@trailhead.example>")


def test_the_text_part_is_the_due_table_aligned_and_plain(report: DueReport, clock: Clock) -> None:
    text, _ = _parts(_parse(_message(report, clock)))
    assert "\x1b" not in text
    lines = text.splitlines()
    assert (
        lines[0]
        == "As of Sun 22 Nov 2026 10:00 (Europe/Berlin): overdue promises first (most overdue first), "
        "then those due today."
    )
    assert "Overdue: 2" in lines
    boots = next(line for line in lines if "Hiking boots" in line)
    assert boots.split()[:3] == ["1", "Fri", "20"]  # render may wrap "Nov" and "1d 10h" below
    assert "overdue" in boots
    assert "2 × Hiking boots size 38" in boots
    assert boots.endswith("€240.00  Jo")
    header = next(line for line in lines if line.startswith("#  Due"))
    assert header.index("Customer") == boots.index("Anna Smith")  # columns line up
    assert "Not yet" not in text
    assert all(len(line) <= 100 for line in lines if not line.startswith("As of"))


def test_the_html_part_is_a_table_with_rows_coloured_by_state(report: DueReport, clock: Clock) -> None:
    _, page = _parts(_parse(_message(report, clock)))
    tags = _Tags()
    tags.feed(page)
    tags.close()
    assert tags.stack == []
    rows = [attrs.get("style") or "" for tag, attrs in tags.seen if tag == "tr"]
    body_rows = [style for style in rows if "background-color" in style]
    assert len(body_rows) == 3
    assert [("#fdecea" in s, "#fff6d6" in s) for s in body_rows] == [
        (True, False),
        (True, False),
        (False, True),
    ]
    assert "<h2" in page
    assert "Overdue: 2" in page
    assert "Due today (Sun 22 Nov): 1" in page
    # The wide layout is inline styles (clients that drop style sheets keep it); the one style sheet is the
    # narrow-screen media query.
    cells = [attrs for tag, attrs in tags.seen if tag == "td"]
    assert len(cells) == 3 * 7
    assert all(attrs.get("style") for attrs in cells)
    sheet = page[page.index("<style") : page.index("</style>")]
    assert "@media only screen and (max-width: 600px)" in sheet
    assert sheet.count("{") == sheet.count("}")


def test_the_html_columns_put_what_the_promise_is_first(report: DueReport, clock: Clock) -> None:
    """On a phone the cells stack in this order: what, customer, due and status first."""
    _, page = _parts(_parse(_message(report, clock)))
    tags = _Tags()
    tags.feed(page)
    heads = page[page.index("<thead>") : page.index("</thead>")]
    names = re.findall(r"<th[^>]*>([^<]*)</th>", heads)
    assert names == ["#", "What", "Customer", "Due", "Status", "Price", "Staff"]
    classes = [attrs.get("class") for tag, attrs in tags.seen if tag == "td"][:7]
    assert classes == ["pk-id", "pk-what", "pk-customer", "pk-due", "pk-status", "pk-price", "pk-staff"]


def test_customer_and_staff_text_is_escaped_in_html(report: DueReport, clock: Clock) -> None:
    _, page = _parts(_parse(_message(report, clock)))
    assert "<script>" not in page
    assert "<i>" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;Co&quot;" in page
    assert "&lt;i&gt;Sam&lt;/i&gt;&amp;Co" in page


# What a book written by another program (or before input was checked) may hold: a screen clear, a bell,
# a line break and a right-to-left override. Each must be shown visibly, never sent raw.
HOSTILE = {
    "what": "Boots\x1b[2J\x07 size\r\n38",
    "customer": "Eve\u202eevil\x1b]0;TITLE\x07",
    "staff": "Jo\x1b[31m\rSam",
}
SHOWN = {
    "what": "Boots\u241b[2J\u2407 size\u240d\u240a38",
    "customer": "Eve<U+202E>evil\u241b]0;TITLE\u2407",
    "staff": "Jo\u241b[31m\u240dSam",
}
RAW = ("\x1b", "\x07", "\u202e", "\r")


def _hostile_book(db: Database, clock: Clock) -> DueReport:
    """A promise stored with plain text, then rewritten in the file with sqlite3, as another program could."""
    promise = _add(db, clock, "Boots", "2026-11-21", customer="Eve", staff="Jo", note="fine")
    with sqlite3.connect(db.target) as raw:
        raw.execute(
            "UPDATE promise SET what = ?, staff = ?, note = ? WHERE id = ?",
            (HOSTILE["what"], HOSTILE["staff"], HOSTILE["what"], promise),
        )
        raw.execute("UPDATE customer SET name = ?", (HOSTILE["customer"],))
    raw.close()
    with db.session(write=False) as session:
        return store.due_report(session, clock=clock)


@pytest.mark.sqlite_only
def test_stored_control_characters_are_shown_in_both_parts(db: Database, clock: Clock) -> None:
    report = _hostile_book(db, clock)
    assert report.overdue[0].what == HOSTILE["what"]  # the store hands it on as stored
    message = _message(report, clock)
    text, page = _parts(_parse(message))
    for raw in RAW:
        assert raw not in text.replace("\r\n", "\n")
        assert raw not in page.replace("\r\n", "\n")
    assert "\n38" not in text  # the stored line break does not break the table's line
    flat = " ".join(text.split())
    for field in ("what", "staff"):
        assert SHOWN[field] in page
    assert html.escape(SHOWN["customer"]) in page
    assert "Boots\u241b[2J\u2407 size\u240d\u240a38" in flat.replace(" size", " size")
    assert "Eve<U+202E>evil" in flat
    assert "Jo\u241b[31m\u240dSam" in flat


@pytest.mark.sqlite_only
def test_stored_control_characters_never_reach_a_header(db: Database, clock: Clock) -> None:
    report = _hostile_book(db, clock)
    shop = "Trail\x1b[2Jhead\u202e\x07"
    who = mail.envelope("promises@trailhead.example", ["owner@trailhead.example"], shop=shop)
    message = mail.build_message(report, who, shop=shop, tz=clock.tz)
    head = message.as_bytes().split(b"\r\n\r\n", 1)[0]
    assert head.isascii()
    assert b"\x1b" not in head
    assert b"\x07" not in head
    parsed = _parse(message)
    assert parsed["Subject"] == "Trail\u241b[2Jhead<U+202E>\u2407: 1 overdue, 0 due today"
    assert parsed["From"].addresses[0].display_name == "Trail\u241b[2Jhead<U+202E>\u2407"
    _, page = _parts(parsed)
    assert "<title>Trail\u241b[2Jhead&lt;U+202E&gt;\u2407: 1 overdue, 0 due today</title>" in page


def test_typed_text_never_reaches_a_header(report: DueReport, clock: Clock) -> None:
    raw = _message(report, clock, subject="Morning\r\nBcc: evil@example.com").as_bytes()
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    names = [line.split(":", 1)[0] for line in head.split("\r\n") if line and not line[0].isspace()]
    assert names == [
        "Subject",
        "From",
        "To",
        "Date",
        "Message-ID",
        "Auto-Submitted",
        "MIME-Version",
        "Content-Type",
    ]
    message = _parse(_message(report, clock, subject="Morning\r\nBcc: evil@example.com"))
    assert message["Subject"] == "Morning Bcc: evil@example.com"
    assert message["Bcc"] is None
    assert "evil" not in str(message["To"])


def test_a_shop_name_with_a_line_break_stays_one_header(report: DueReport, clock: Clock) -> None:
    who = mail.envelope("promises@trailhead.example", ["owner@trailhead.example"], shop="Shop\r\nBcc: x@y.z")
    message = _parse(mail.build_message(report, who, shop="Shop\r\nBcc: x@y.z", tz=clock.tz))
    assert message["Subject"] == "Shop Bcc: x@y.z: 2 overdue, 1 due today"
    assert message["Bcc"] is None
    assert message["From"].addresses[0].display_name == "Shop Bcc: x@y.z"


def test_non_ascii_shop_name_is_encoded_in_the_subject(report: DueReport, clock: Clock) -> None:
    who = mail.envelope("promises@trailhead.example", ["owner@trailhead.example"], shop="Bergsport Müller")
    message = mail.build_message(report, who, shop="Bergsport Müller", tz=clock.tz)
    raw = message.as_bytes().split(b"\r\n\r\n", 1)[0]
    assert raw.isascii()
    assert _parse(message)["Subject"] == "Bergsport Müller: 2 overdue, 1 due today"


@pytest.mark.parametrize(
    "address",
    ["owner@example.com\r\nBcc: evil@example.com", "nope", "a@b.c, d@e.f", "", "<>", "jö@example.com", "a@"],
)
def test_a_bad_address_is_bad_input(address: str) -> None:
    with pytest.raises(BadInput) as caught:
        mail.envelope("promises@example.com", [address], shop=SHOP)
    assert "--to" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_the_envelope_keeps_names_and_drops_duplicates() -> None:
    who = mail.envelope(
        "Promises <promises@example.com>",
        ["Jo <jo@example.com>", "JO@example.com", "sam@example.com"],
        shop=SHOP,
    )
    assert str(who.sender) == "Promises <promises@example.com>"
    assert who.to == ["jo@example.com", "sam@example.com"]
    with pytest.raises(BadInput, match="--from"):
        mail.envelope(None, ["jo@example.com"], shop=SHOP)


def test_a_dry_run_needs_no_sender(report: DueReport, clock: Clock) -> None:
    """Nothing is sent, so nobody sends it: the message has no From, and ``send`` refuses it."""
    who = mail.envelope(None, ["owner@trailhead.example"], shop=SHOP, need_sender=False)
    assert who.sender is None
    message = _parse(mail.build_message(report, who, shop=SHOP, tz=clock.tz))
    assert message["From"] is None
    assert message["To"] == "owner@trailhead.example"
    assert message["Message-ID"].endswith("@trailhead.example>")
    route = mail.route(SmtpSettings(host="127.0.0.1", port=1), config_path=None, environ={})
    with pytest.raises(BadInput, match="--from"):
        mail.send(message, who, route)


def test_a_quiet_day_says_so(db: Database, clock: Clock) -> None:
    with db.session(write=False) as session:
        quiet = store.due_report(session, clock=clock)
    text, page = _parts(_parse(_message(quiet, clock)))
    said = "Nothing overdue and nothing due until Sun 22 Nov (end of day)."  # as pk due says it
    assert said in text
    assert said in page
    assert "<table" not in page


def test_dates_are_written_one_way(db: Database, tz: ZoneInfo) -> None:
    """A day below 10: the header said "Wed 02 Dec" while the table said "Wed 2 Dec"."""
    morning = Clock(now=datetime(2026, 12, 2, 7, 30, tzinfo=tz), tz=tz)
    _add(db, morning, "Boots", "2026-12-01")
    _add(db, morning, "Call Ben", "today 16:00", kind="callback")
    with db.session(write=False) as session:
        today = store.due_report(session, clock=morning)
    since = datetime(2026, 12, 1, 9, 5, tzinfo=tz)
    for message in (_message(today, morning), _message(today, morning, only_new=True, since=since)):
        text, page = _parts(_parse(message))
        assert "Wed 02 Dec" not in text + page
        assert "Tue 01 Dec" not in text + page
        assert "As of Wed 2 Dec 2026 07:30 (Europe/Berlin)" in text
        assert "As of Wed 2 Dec 2026 07:30 (Europe/Berlin)" in page
        assert "Tue 1 Dec" in text  # the table's form
    assert "(Tue 1 Dec 2026 09:05)" in _parts(_parse(_message(today, morning, only_new=True, since=since)))[0]


def test_the_due_heading_is_pk_dues(report: DueReport, clock: Clock) -> None:
    """The mail's section titles are the ones ``pk due`` prints for the same report (words.due_title)."""
    until = Due(end_of_day(clock.today, clock.tz), True)
    assert report.until == until.moment
    text, page = _parts(_parse(_message(report, clock)))
    heading = words.due_title(until, clock.tz, clock.now, 1)
    assert heading == "Due today (Sun 22 Nov): 1"
    assert heading in text.splitlines()
    assert heading in page
    assert "Due today:" not in text + page


def test_only_new_says_since_when(report: DueReport, clock: Clock) -> None:
    message = _parse(_message(report, clock, only_new=True, since=clock.now.replace(hour=8)))
    assert message["Subject"] == "Trailhead Outfitters: 2 newly overdue"
    text, page = _parts(message)
    assert "became overdue since the last report (Sun 22 Nov 2026 08:00)" in text
    assert "Newly overdue: 2" in text.splitlines()
    assert "Newly overdue: 2" in page


def test_seven_bit_copy_for_old_servers(report: DueReport, clock: Clock) -> None:
    message = _message(report, clock)
    clean = mail.seven_bit(message)
    assert clean.as_bytes().isascii()
    assert [p["Content-Transfer-Encoding"] for p in clean.iter_parts()] == ["quoted-printable"] * 2
    assert _parts(_parse(clean)) == _parts(_parse(message))
    original = message.get_body(("plain",))
    assert original is not None
    assert original["Content-Transfer-Encoding"] == "8bit"  # the original is untouched


# --- the route --------------------------------------------------------------------------------------------


def _config(tmp_path: Path, mode: int) -> Path:
    path = tmp_path / "config.toml"
    path.write_text('[smtp]\npassword = "hunter2"\n')
    path.chmod(mode)
    return path


def test_the_password_comes_from_the_environment_before_the_config(tmp_path: Path) -> None:
    smtp = SmtpSettings(host="mail.example.com", user="shop", password="from-config")
    path = _config(tmp_path, 0o600)
    r = mail.route(smtp, config_path=path, environ={"PK_SMTP_PASSWORD": "from-env"})
    assert (r.host, r.port, r.security, r.user, r.password) == (
        "mail.example.com",
        587,
        "starttls",
        "shop",
        "from-env",
    )
    assert mail.route(smtp, config_path=path, environ={}).password == "from-config"


def test_a_config_password_others_can_read_is_refused(tmp_path: Path) -> None:
    if os.name == "nt":
        pytest.skip("POSIX file modes")
    smtp = SmtpSettings(host="mail.example.com", user="shop", password="hunter2")
    path = _config(tmp_path, 0o644)
    with pytest.raises(BadInput) as caught:
        mail.route(smtp, config_path=path, environ={"PK_SMTP_PASSWORD": "x"})
    assert str(caught.value) == (
        f"The config file {path} holds the SMTP password but others can read it (mode 644); "
        f"run chmod 600 {path}, or remove the password and set PK_SMTP_PASSWORD instead."
    )


@pytest.mark.parametrize(("security", "port"), [("none", 25), ("starttls", 587), ("ssl", 465)])
def test_the_port_follows_the_security(security: str, port: int) -> None:
    r = mail.route(SmtpSettings(host="h"), config_path=None, environ={}, security=security)
    assert r.port == port
    assert (
        mail.route(SmtpSettings(host="h", port=2525), config_path=None, environ={}, security=security).port
        == 2525
    )
    assert mail.route(SmtpSettings(host="h", port=2525), config_path=None, environ={}, port=26).port == 26


def test_the_options_win_over_the_config() -> None:
    smtp = SmtpSettings(host="config.example.com", port=2525, security="ssl", user="config")
    r = mail.route(
        smtp,
        config_path=None,
        environ={"PK_SMTP_PASSWORD": "pw"},
        host="cli.example.com",
        port=26,
        security="none",
        user="cli",
    )
    assert (r.host, r.port, r.security, r.user) == ("cli.example.com", 26, "none", "cli")


def test_a_missing_server_or_password_is_bad_input() -> None:
    with pytest.raises(BadInput, match="--smtp-host"):
        mail.route(SmtpSettings(), config_path=None, environ={})
    assert mail.route(SmtpSettings(), config_path=None, environ={}, need_server=False).host is None
    with pytest.raises(BadInput, match="PK_SMTP_PASSWORD"):
        mail.route(SmtpSettings(host="h", user="shop"), config_path=None, environ={})


def test_timeout_and_ca_file_from_the_environment(tmp_path: Path) -> None:
    r = mail.route(
        SmtpSettings(host="h"),
        config_path=None,
        environ={"PK_SMTP_TIMEOUT": "2.5", "PK_SMTP_CAFILE": "/x.pem"},
    )
    assert (r.timeout, r.cafile) == (2.5, "/x.pem")
    assert mail.route(SmtpSettings(host="h"), config_path=None, environ={}).timeout == 30
    with pytest.raises(BadInput, match="PK_SMTP_TIMEOUT"):
        mail.route(SmtpSettings(host="h"), config_path=None, environ={"PK_SMTP_TIMEOUT": "soon"})
    with pytest.raises(BadInput, match="PK_SMTP_CAFILE"):
        mail.tls_context(
            mail.route(
                SmtpSettings(host="h"),
                config_path=None,
                environ={"PK_SMTP_CAFILE": str(tmp_path / "none.pem")},
            )
        )


def test_one_line_strips_every_control_character() -> None:
    """Line breaks and tabs become spaces; any other control character is shown, never sent raw."""
    assert mail.one_line("a\r\nb\tc\x00d\x85e\u2028f  g") == "a b c\u2400d e f g"
    assert mail.one_line("Shop\x1b[2J\x07\u202egnol") == "Shop\u241b[2J\u2407<U+202E>gnol"


# --- the sent-log in the store ------------------------------------------------------------------------


def test_the_sent_log_drives_only_new(db: Database, clock: Clock) -> None:
    old = _add(db, clock, "Boots", "2026-11-20")
    today = _add(db, clock, "Call Ben", "today 16:00", kind="callback")
    with db.session(write=False) as session:
        assert store.last_sent_at(session) is None
        first = store.newly_overdue_report(session, clock=clock)
    assert ([p.id for p in first.overdue], first.due) == ([old], [])
    with db.session() as session:
        store.record_sent(
            session, at=clock.now, recipients=["owner@example.com"], subject="S", overdue=[old], due=[today]
        )
    evening = Clock(now=clock.now + timedelta(hours=8), tz=clock.tz)
    with db.session(write=False) as session:
        assert store.last_sent_at(session) == clock.now
        assert [p.id for p in store.newly_overdue_report(session, clock=evening).overdue] == [today]
        events = store.view(session, old, evening, detail=True).history
    said = words.event_text(events[-1], clock.tz, clock.now)
    assert (events[-1].kind, said) == ("notified", "mailed to owner@example.com as overdue")


# --- the At risk and Ready for pickup sections (issue 14) ---------------------------------------------


@pytest.fixture
def smtp_server() -> Iterator[Server]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1, as ``pk notify``'s tests use."""
    from tests.cli.test_notify import _start

    controller, server = _start()
    yield server
    controller.stop()


def _supplied(db: Database, clock: Clock) -> DueReport:
    """#1 boots due Fri 27 whose supplier S1 ("<Meindl> & Co") now says Mon 30; #2 a tent ready since
    Friday; #3 a call due today."""
    with db.session() as s:
        boots = store.add_promise(
            s, clock=clock, what="Hiking boots", due=parse_when("2026-11-27", clock), customer="Anna Smith"
        )
        tent = store.add_promise(
            s, clock=clock, what="Tent", due=parse_when("2026-11-21", clock), customer="Ben"
        )
        store.add_promise(
            s, clock=clock, what="Call back Cem", due=parse_when("today 16:00", clock), kind=Kind.callback
        )
        store.place_order(
            s,
            clock=clock,
            supplier="<Meindl> & Co",
            what="Boots",
            eta=parse_when("2026-11-30", clock),
            for_ids=[boots],
        )
        store.mark_ready(s, clock=clock, promise_id=tent, at=datetime(2026, 11, 20, 12, 0, tzinfo=clock.tz))
    with db.session(write=False) as session:
        return store.due_report(session, clock=clock)


def test_the_mail_has_the_at_risk_and_ready_sections_in_both_parts(
    db: Database, clock: Clock, smtp_server: Server
) -> None:
    report = _supplied(db, clock)
    assert ([p.id for p in report.at_risk], [p.id for p in report.ready]) == ([1], [2])
    who = mail.envelope("promises@trailhead.example", ["owner@trailhead.example"], shop=SHOP)
    route = mail.route(
        SmtpSettings(host="127.0.0.1", port=smtp_server.port, security="none"), config_path=None, environ={}
    )
    mail.send(mail.build_message(report, who, shop=SHOP, tz=clock.tz), who, route)
    (received,) = smtp_server.received
    message = received.message
    assert message["Subject"] == f"{SHOP}: 0 overdue, 1 at risk, 1 due today"
    text, page = _parts(message)
    flat = " ".join(text.split())
    assert "then those at risk, then those due today, then the pickups waiting for their customer." in flat
    assert (
        text.index("At risk: 1") < text.index("Due today (Sun 22 Nov): 1") < text.index("Ready for pickup: 1")
    )
    assert "S1 from <Meindl> & Co now arrives Mon 30 Nov 2026, too late for the due Fri 27 Nov 2026." in flat
    assert "2 days" in text[text.index("Ready for pickup") :]
    assert "<h2" in page
    assert page.index("At risk: 1") < page.index("Ready for pickup: 1")
    assert "S1 from &lt;Meindl&gt; &amp; Co now arrives Mon 30 Nov 2026" in page
    assert "<Meindl>" not in page
    assert 'class="pk-row-at_risk"' in page
    assert "ready, waiting 2 days" in page
    tags = _Tags()
    tags.feed(page)
    tags.close()
    assert tags.stack == []


def test_only_new_reports_a_risk_once_until_it_changes(db: Database, clock: Clock) -> None:
    _supplied(db, clock)
    owner = "owner@example.com"
    with db.session(write=False) as session:
        first = store.newly_overdue_report(session, clock=clock, recipient=owner)
    assert [p.id for p in first.at_risk] == [1]
    with db.session() as session:
        store.record_sent(
            session, at=clock.now, recipients=[owner], subject="S", overdue=[], due=[], at_risk=first.at_risk
        )
    later = Clock(now=clock.now + timedelta(hours=1), tz=clock.tz)
    with db.session(write=False) as session:
        assert store.newly_overdue_report(session, clock=later, recipient=owner).at_risk == []
        assert [
            p.id for p in store.newly_overdue_report(session, clock=later, recipient="b@x.org").at_risk
        ] == [1]
        said = words.event_text(store.view(session, 1, later, detail=True).history[-1], clock.tz, later.now)
    assert said == f"mailed to {owner} as at risk"
    with db.session() as session:
        store.change_eta(session, clock=later, order_id=1, eta=parse_when("2026-12-02", later))
    with db.session(write=False) as session:
        again = store.newly_overdue_report(session, clock=later, recipient=owner)
    assert [p.id for p in again.at_risk] == [1]  # a new ETA is news again
