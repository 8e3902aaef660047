"""The letters of ``messages``: their keys, the shop's templates, and mail headers that never carry a
customer's raw text (the end-to-end sending is tests/cli/test_messages.py, against real servers)."""

from __future__ import annotations

import email
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from email import policy
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from promisekeeper import lang, messages, rules
from promisekeeper.config import MessageSettings, Settings, SmtpSettings
from promisekeeper.errors import BadInput
from promisekeeper.money import Money
from promisekeeper.store import Addressee
from promisekeeper.views import Consent, Handover, Kind, PromiseView, Terms
from promisekeeper.when import Due

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=BERLIN)


def _promise(*, due_days: int = -2, customer: str | None = "Jörg Müller", **kw: object) -> PromiseView:
    due = NOW + timedelta(days=due_days)
    price = Money(Decimal("240"), "EUR")
    outcome = rules.assess(Terms("Wanderschuhe", 1, price, due), [], now=NOW)
    fields: dict[str, object] = {
        "id": 12,
        "kind": Kind.delivery,
        "customer": customer,
        "what": "Wanderschuhe",
        "quantity": 1,
        "price": price,
        "due": Due(due, False),
        "original_due": None,
        "renegotiated": False,
        "staff": None,
        "tags": (),
        "note": None,
        "parent_id": None,
        "created": NOW - timedelta(days=5),
        "outcome": outcome,
        "remedied": False,
        "unhappy": False,
        "handover": Handover.pickup,
    }
    fields.update(kw)
    return PromiseView(**fields)  # type: ignore[arg-type]


def _settings(tmp_path: Path, **kw: object) -> Settings:
    fields: dict[str, object] = {
        "db": str(tmp_path / "p.db"),
        "shop_name": "Trailhead Outfitters",
        "timezone": "Europe/Berlin",
        "smtp": SmtpSettings(
            host="127.0.0.1", port=2525, security="none", sender="promises@trailhead.example"
        ),
        "templates_dir": tmp_path / "templates",
    }
    fields.update(kw)
    return Settings(**fields)  # type: ignore[arg-type]


def _who(name: str = "Jörg Müller", **kw: object) -> Addressee:
    fields: dict[str, object] = {
        "name": name,
        "email": "joerg@example.de",
        "phone": "+49 170 1234567",
        "language": "de",
        "consent": Consent.email,
    }
    fields.update(kw)
    return Addressee(**fields)  # type: ignore[arg-type]


def _wire(message: EmailMessage) -> EmailMessage:
    parsed = email.message_from_bytes(message.as_bytes(), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_the_key_names_the_facts_not_the_moment(tmp_path: Path) -> None:
    settings, de = _settings(tmp_path), lang.voice("de")
    p = _promise()
    first = messages.notice(p, settings=settings, now=NOW, voice=de)
    later = messages.notice(p, settings=settings, now=NOW + timedelta(hours=5), voice=de)
    assert first.key == later.key  # more overdue is the same news
    assert first.text != later.text  # (though the text says how long)
    fixed = messages.notice(p, settings=settings, now=NOW, voice=de, remedy=("Refunded €20", None))
    assert fixed.key != first.key
    moved = messages.notice(
        replace(p, due=Due(NOW - timedelta(days=1), False)), settings=settings, now=NOW, voice=de
    )
    assert moved.key != first.key
    assert first.key.startswith("notice:12:")


def test_a_customers_name_reaches_a_header_as_one_harmless_line(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    hostile = "Eve\x1b[31m\nBcc: all@example.com"
    p = _promise(customer=hostile)
    letter = messages.notice(p, settings=settings, now=NOW, voice=lang.ENGLISH)
    out = messages.outgoing(letter, _who(hostile), settings=settings, now=NOW)
    assert out.mail is not None
    message = _wire(out.mail)
    assert message["Bcc"] is None
    assert "\x1b" not in str(message["To"])
    assert message["To"].addresses[0].addr_spec == "joerg@example.de"
    assert message["Subject"] == "Trailhead Outfitters: about your order #12"
    assert "\x1b" not in out.mail.as_string()
    assert message["Reply-To"] == "promises@trailhead.example"  # [smtp] from without [messages] reply_to


def test_reply_to_is_the_shops_desk(tmp_path: Path) -> None:
    settings = _settings(tmp_path, messages=MessageSettings(reply_to="Desk <desk@trailhead.example>"))
    letter = messages.ready(_promise(ready_at=NOW), settings=settings, now=NOW, voice=lang.ENGLISH)
    out = messages.outgoing(letter, _who(), settings=settings, now=NOW)
    assert out.mail is not None
    assert _wire(out.mail)["Reply-To"] == "Desk <desk@trailhead.example>"


@pytest.mark.parametrize(
    ("who", "settings", "refusal"),
    [
        (None, {}, "was made to nobody by name"),
        (_who(name=None, email=None), {}, "is for a forgotten customer"),  # type: ignore[arg-type]
        (_who(consent=Consent.none), {}, "has not agreed to messages (consent none)"),
        (_who(email=None), {}, "agreed to messages by email but has no email address"),
        (_who(email="not an address"), {}, "(not an address) is not one mail address"),
        (_who(consent=Consent.sms, phone=None), {}, "agreed to text messages but has no phone number"),
        (_who(consent=Consent.sms), {}, "sms_url in the [messages] section of the config is not set"),
        (
            _who(consent=Consent.sms),
            {"messages": MessageSettings(sms_url="nonsense://{phone}")},
            "is not a URL apprise can send to",
        ),
        (_who(), {"smtp": SmtpSettings(host="127.0.0.1")}, "No sender address for messages to customers"),
    ],
)
def test_what_is_missing_is_named(
    tmp_path: Path, who: Addressee | None, settings: dict[str, object], refusal: str
) -> None:
    config = _settings(tmp_path, **settings)
    letter = messages.notice(_promise(), settings=config, now=NOW, voice=lang.ENGLISH)
    with pytest.raises(BadInput) as caught:
        messages.outgoing(letter, who, settings=config, now=NOW)
    assert refusal in str(caught.value)


def test_a_promise_not_ready_has_no_ready_message(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match=r"Promise #12 is not marked ready; mark it first: pk ready 12\."):
        messages.ready(_promise(), settings=_settings(tmp_path), now=NOW, voice=lang.ENGLISH)


def test_a_template_s_subject_line_and_language_fallback(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "ready.de.txt").write_text(
        "Subject: Abholbereit: Nr. {{ promise }}\n\n{{ greeting }}\n{{ item }} – {{ balance or price }}\n",
        encoding="utf-8",
    )
    p = _promise(ready_at=NOW)
    voice = messages.voice_for("de-CH", settings, "ready")
    assert voice.tag == "de-CH"
    letter = messages.ready(p, settings=settings, now=NOW, voice=voice)
    assert letter.subject == "Abholbereit: Nr. 12"
    assert letter.text == "Guten Tag Jörg Müller,\nWanderschuhe – EUR\u00a0240.00\n"  # Swiss money
    assert letter.templates == (templates / "ready.de.txt",)
    assert letter.html is None
    english = messages.ready(p, settings=settings, now=NOW, voice=lang.ENGLISH)
    assert english.templates == ()  # no ready.en.txt: pk's own words
    assert english.subject == "Trailhead Outfitters: your order #12 is ready"


def test_the_html_part_escapes_what_people_typed(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    p = _promise(what="<script>alert(1)</script>", customer="Ann & <Co>")
    letter = messages.notice(p, settings=settings, now=NOW, voice=lang.ENGLISH)
    out = messages.outgoing(letter, _who("Ann & <Co>"), settings=settings, now=NOW)
    assert out.mail is not None
    html_part = _wire(out.mail).get_body(("html",))
    assert html_part is not None
    rich = str(html_part.get_content())
    assert "<script>" not in rich
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rich
    assert "Dear Ann &amp; &lt;Co&gt;," in rich
