"""Messages to customers: the notice, ready for pickup and the follow-up check-in, in the customer's
language, as a mail (plain text and HTML) or a text message; and the shop's own templates for them.

Nothing here reads the database or prints. The CLI loads the promise and whom it is for, asks here for
the ``Letter`` (``notice``, ``ready``, ``followup``), checks it may be sent (``outgoing``: consent and an
address, else ``BadInput`` naming what is missing), sends it (``send``: ``MailError`` when it did not go)
and only then records it. The words are ``words``' (through the customer's ``lang.Voice``) unless the shop
has a template for the message and language in ``<config dir>/templates``:

- ``<message>.<language>.txt``: the plain text (and the subject, as a first line ``Subject: …``);
- ``<message>.<language>.html``: the HTML part (without one, the HTML part is the text's paragraphs);

``<message>`` is ``notice``, ``ready`` or ``followup``; ``<language>`` the customer's tag (``de-AT``) or
its language alone (``de``). Templates are Jinja2, rendered in a sandbox (no attribute of a Python
object beyond the plain values given, no file, no import), every value HTML-escaped in the HTML part; a
template that does not parse or fails while rendering is ``BadInput`` naming its file and line.
"""

from __future__ import annotations

import hashlib
import html
import json
from dataclasses import dataclass, replace
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from promisekeeper import lang, words
from promisekeeper.errors import BadInput, MailError
from promisekeeper.mail import Envelope, one_line, parse_address, shown
from promisekeeper.rules import moment_data
from promisekeeper.text import visible
from promisekeeper.views import Consent

if TYPE_CHECKING:
    from promisekeeper.config import Settings
    from promisekeeper.lang import Voice
    from promisekeeper.mail import Channel, Route
    from promisekeeper.store import Addressee
    from promisekeeper.views import PromiseView
    from promisekeeper.when import Due

NAMES = {"notice": "notice", "ready": "ready message", "followup": "follow-up check-in"}
"""How the shop's own lines name each message (``Sent the ready message for #12 …``)."""

PHONE_PLACE = "{phone}"


# --- which language --------------------------------------------------------------------------------------


def shop_catalogs(settings: Settings) -> Path | None:
    """A shop's own compiled catalogs, beside its templates: ``<config dir>/locale``."""
    return settings.templates_dir.parent / "locale" if settings.templates_dir is not None else None


def voice_for(language: str | None, settings: Settings, message: str | None = None) -> Voice:
    """The voice a message to a customer of ``language`` (``None``: the shop's) is written in. A
    language without a catalog is English (``Voice.fallback_from`` says which was asked for) unless the
    shop has its own template for ``message`` in it: then its dates and money are that language's."""
    tag = language or settings.language
    own = message is not None and bool(template_files(settings.templates_dir, message, tag))
    return lang.voice(tag, shop_catalogs=shop_catalogs(settings), formats_only=own)


def no_catalog(tag: str) -> str:
    """The note when a customer's language has no catalog (said once per run, on stderr)."""
    return (
        f"There is no catalog for the language {tag}, so messages in it are written in English; "
        "README, 'How a shop adds a language', says how to add one."
    )


# --- the letter ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Letter:
    """One message to one customer about one promise, composed and not yet sent.

    ``promise_id`` is the promise its history records it on (a check-in: the follow-up's own);
    ``key`` names its content: the same key is the same message, which is never sent twice; ``html`` is
    the shop's HTML template's output, or ``None`` (made from ``text``); ``templates`` the shop's files used.
    """

    message: str
    promise_id: int
    customer: str | None
    voice: Voice
    subject: str
    text: str
    html: str | None
    key: str
    templates: tuple[Path, ...] = ()

    @property
    def name(self) -> str:
        return f"the {NAMES[self.message]} for #{self.promise_id}"

    @property
    def language(self) -> str:
        return self.voice.tag


def _digest(facts: Any) -> str:
    return hashlib.sha256(json.dumps(facts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def notice_key(p: PromiseView, remedy: tuple[str, str | None] | None, new_date: Due | None) -> str:
    """What makes a notice the same notice: the promise's terms and what went wrong (status, deviations,
    amendment, unhappiness, remedy, risk). A notice about the same facts is never sent twice; one about
    new facts (delivered late after being overdue, a new ETA, a remedy) is a new notice."""
    risk = p.risk  # moments in UTC (moment_data): the same key on either engine
    facts = {
        "terms": [p.what, p.quantity, str(p.price), moment_data(p.due.moment), p.due.date_only],
        "status": str(p.status),
        "deviations": sorted(str(d.kind) for d in p.outcome.deviations),
        "renegotiated": p.renegotiated,
        "unhappy": p.unhappy,
        "remedy": list(remedy) if remedy else None,
        "risk": [str(risk.kind), risk.order_id, moment_data(risk.eta)] if risk is not None else None,
        "new_date": moment_data(new_date.moment) if new_date is not None else None,
    }
    return f"notice:{p.id}:{_digest(facts)}"


def notice(
    p: PromiseView,
    *,
    settings: Settings,
    now: datetime,
    voice: Voice,
    remedy: tuple[str, str | None] | None = None,
    new_date: Due | None = None,
) -> Letter:
    """The honest notice about a late, changed, deviated or at-risk promise (``words.notice_text``)."""
    tz = settings.tz
    seen = shown(p)
    body = words.notice_text(
        seen, shop=settings.shop_name, tz=tz, now=now, remedy=remedy, new_date=new_date, voice=voice
    )
    extra = {"new_due": voice.due(new_date, tz, now=now) if new_date is not None else ""}
    return _letter("notice", seen, seen, body, notice_key(p, remedy, new_date), settings, now, voice, extra)


def ready(p: PromiseView, *, settings: Settings, now: datetime, voice: Voice) -> Letter:
    """The message that the goods are ready to collect, once per readiness (``pk ready``)."""
    if p.ready_at is None:
        raise BadInput(f"Promise #{p.id} is not marked ready; mark it first: pk ready {p.id}.")
    seen = shown(p)
    body = words.ready_text(seen, shop=settings.shop_name, tz=settings.tz, voice=voice)
    key = f"ready:{p.id}:{moment_data(p.ready_at)}"
    extra = {"ready_at": voice.moment(p.ready_at, settings.tz)}
    return _letter("ready", seen, seen, body, key, settings, now, voice, extra)


def followup(
    check_in: PromiseView, parent: PromiseView, *, settings: Settings, now: datetime, voice: Voice
) -> Letter:
    """The check-in after ``parent`` was delivered, recorded on the follow-up ``check_in``."""
    seen = shown(parent)
    body = words.followup_text(seen, shop=settings.shop_name, tz=settings.tz, voice=voice)
    key = f"followup:{check_in.id}"
    return _letter("followup", shown(check_in), seen, body, key, settings, now, voice, {})


def _letter(
    message: str,
    on: PromiseView,
    about: PromiseView,
    body: str,
    key: str,
    settings: Settings,
    now: datetime,
    voice: Voice,
    extra: dict[str, str],
) -> Letter:
    """The letter in pk's words (``body``), or in the shop's template for it when there is one."""
    shop = one_line(settings.shop_name) or "Our shop"
    subject = words.message_subject(message, about, shop, voice)
    files = template_files(settings.templates_dir, message, voice.tag)
    if not files:
        return Letter(message, on.id, on.customer, voice, subject, body, None, key)
    values = {**template_values(about, settings, now, voice), **extra, "subject": subject, "message": body}
    text, rich = body, None
    for file in files:
        if file.suffix == ".txt":
            text = render_template(file, values, html=False)
            said, rest = _subject_line(text)
            subject, text = (one_line(said) or subject, rest) if said is not None else (subject, text)
        else:
            rich = render_template(file, values, html=True)
    return Letter(message, on.id, on.customer, voice, subject, text, rich, key, tuple(files))


def _subject_line(text: str) -> tuple[str | None, str]:
    """A template's first line ``Subject: …`` and the rest (a blank line after it is dropped)."""
    first, _, rest = text.partition("\n")
    if not first.lower().startswith("subject:"):
        return None, text
    return first.partition(":")[2].strip(), rest.removeprefix("\n")


# --- the shop's templates --------------------------------------------------------------------------------


def template_files(folder: Path | None, message: str, tag: str) -> list[Path]:
    """The shop's templates for ``message`` in language ``tag`` (``de-AT``, else ``de``): its ``.txt``
    and/or ``.html`` of the most specific language that has either."""
    if folder is None or not folder.is_dir():
        return []
    first = tag.split("-")[0]
    for language in dict.fromkeys((tag, first)):
        found = [folder / f"{message}.{language}.{ext}" for ext in ("txt", "html")]
        found = [f for f in found if f.is_file()]
        if found:
            return found
    return []


def template_values(p: PromiseView, settings: Settings, now: datetime, voice: Voice) -> dict[str, Any]:
    """What a template may use: plain text, already in the customer's formats (README, "Messages to
    customers"); text a person typed is shown visibly (``text.visible``), never raw."""
    tz = settings.tz
    price = voice.money(p.price) if p.price is not None else ""
    return {
        "shop": settings.shop_name,
        "customer": p.customer or "",
        "greeting": words.greeting(p.customer, voice),
        "promise": p.id,
        "what": p.what,
        "quantity": voice.number(p.quantity),
        "item": words.voiced_item(p.what, p.quantity, voice),
        "price": price,
        "due": voice.due(p.due, tz, now=now),
        "ordered": voice.day(p.created, tz),
        "deposit": voice.money(p.deposit) if p.deposit is not None else "",
        "balance": voice.money(p.balance) if p.balance is not None else "",
        "language": voice.tag,
    }


def render_template(path: Path, values: dict[str, Any], *, html: bool) -> str:
    """``path`` rendered in Jinja2's sandbox with ``values`` (HTML-escaped when ``html``); an undefined
    name is an error, not an empty string. Any failure is ``BadInput`` naming the file and line."""
    from jinja2 import FileSystemLoader, StrictUndefined, TemplateSyntaxError
    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment(
        loader=FileSystemLoader(path.parent),
        autoescape=html,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    try:
        return env.get_template(path.name).render(values)
    except TemplateSyntaxError as exc:
        raise BadInput(
            _broken(Path(exc.filename or path), exc.lineno, exc.message or "a syntax error")
        ) from exc
    except UnicodeDecodeError as exc:
        raise BadInput(f"The template {path} is not UTF-8 text ({exc.reason}); save it as UTF-8.") from exc
    except OSError as exc:
        raise BadInput(f"The template {path} cannot be read ({exc.strerror or exc}).") from exc
    except Exception as exc:  # the shop's template failed while rendering: undefined, sandbox, any error
        line = _template_line(exc, path)
        raise BadInput(_broken(path, line, str(exc) or type(exc).__name__)) from exc


def _template_line(exc: BaseException, path: Path) -> int | None:
    """The line of ``path`` the rendering failed on (Jinja2 puts the template's lines in the traceback)."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == str(path):
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _broken(path: Path, line: int | None, why: str) -> str:
    where = f"{path}, line {line}" if line else str(path)
    return f"The message template {where} cannot be used: {one_line(why).rstrip('.')}; fix the template."


# --- the message on the wire -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A letter ready to go to its customer by ``channel`` (``email`` or ``sms``): the mail and its
    envelope, or the apprise channel; ``to`` is how the recipient is shown."""

    letter: Letter
    channel: Consent
    to: str
    message_id: str
    mail: EmailMessage | None = None
    who: Envelope | None = None
    sms: Channel | None = None

    @property
    def body(self) -> str:
        """The text as it is sent: the letter, then how to stop further messages."""
        return _with_stop(self.letter, self.channel)


def _with_stop(letter: Letter, channel: Consent) -> str:
    stop = words.stop_text(channel.value, letter.voice)
    return f"{letter.text.rstrip()}\n\n-- \n{stop}\n"


def outgoing(letter: Letter, who: Addressee | None, *, settings: Settings, now: datetime) -> Outgoing:
    """The letter addressed as its customer agreed: a mail, or a text message through ``[messages]
    sms_url``. No customer, no consent, or no address for the channel they agreed to is ``BadInput``
    naming what is missing (and how to record it)."""
    if who is None or who.name is None:
        what = "was made to nobody by name" if who is None else "is for a forgotten customer"
        raise BadInput(f"Promise #{letter.promise_id} {what}; there is nobody to send {letter.name} to.")
    name = visible(who.name)
    if who.consent == Consent.none:
        raise BadInput(
            f"{name} has not agreed to messages (consent none), so {letter.name} was not sent; once they "
            f'agree, record it: pk customer add "{name}" --consent email (or sms).'
        )
    if who.consent == Consent.sms:
        return _text_message(letter, who, name, settings)
    if not who.email:
        raise BadInput(
            f'{name} agreed to messages by email but has no email address; add it: pk customer add "{name}" '
            "--email ADDR."
        )
    return _email(letter, who.email, name, settings, now)


def _email(letter: Letter, email: str, name: str, settings: Settings, now: datetime) -> Outgoing:
    if not settings.smtp.sender:
        raise BadInput(
            "No sender address for messages to customers: set from in the [smtp] section of the config."
        )
    shop = one_line(settings.shop_name) or "Our shop"
    sender = parse_address(settings.smtp.sender, "from in [smtp]")
    sender = Address(display_name=sender.display_name or shop, addr_spec=sender.addr_spec)
    reply = parse_address(settings.messages.reply_to or settings.smtp.sender, "reply_to in [messages]")
    try:
        found = parse_address(email, "The email address")
    except BadInput:
        raise BadInput(
            f"The email address of {name} ({visible(email)}) is not one mail address; correct it: "
            f'pk customer add "{name}" --email ADDR.'
        ) from None
    to = Address(display_name=one_line(name), addr_spec=found.addr_spec)
    message = EmailMessage(policy=policy.SMTP)
    message["Subject"] = one_line(letter.subject)
    message["From"] = sender
    message["To"] = to
    message["Reply-To"] = reply
    message["Date"] = format_datetime(now.astimezone(settings.tz))
    message["Message-ID"] = make_msgid(domain=sender.domain)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: vacation replies need not answer it
    message["List-Unsubscribe"] = f"<mailto:{reply.addr_spec}?subject=stop>"
    text = _with_stop(letter, Consent.email)
    message.set_content(text, subtype="plain", charset="utf-8", cte="8bit")
    message.add_alternative(_html_part(letter), subtype="html", charset="utf-8", cte="8bit")
    message["Content-Language"] = letter.language  # after the parts: set_content drops Content-* headers
    return Outgoing(
        letter=letter,
        channel=Consent.email,
        to=f"{one_line(name)} <{found.addr_spec}>",
        message_id=str(message["Message-ID"]),
        mail=message,
        who=Envelope(sender=sender, recipients=(to,)),
    )


_PARAGRAPH = '<p style="margin:0 0 14px 0;">{}</p>'


def _html_part(letter: Letter) -> str:
    """The shop's HTML template's output with the stop line before ``</body>``, or the text's paragraphs,
    every character escaped."""
    stop = html.escape(words.stop_text(Consent.email.value, letter.voice))
    foot = f'<p style="margin:20px 0 0 0;color:#57606a;font-size:12px;">{stop}</p>'
    if letter.html is not None:
        at = letter.html.lower().rfind("</body>")
        return letter.html[:at] + foot + letter.html[at:] if at >= 0 else letter.html + foot
    paragraphs = "\n".join(
        _PARAGRAPH.format("<br>\n".join(html.escape(line) for line in block.splitlines()))
        for block in letter.text.strip().split("\n\n")
    )
    return (
        f'<!DOCTYPE html>\n<html lang="{html.escape(letter.language)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(letter.subject)}</title>\n</head>\n"
        "<body style=\"margin:0;padding:16px;color:#1f2328;font-family:-apple-system,'Segoe UI',Helvetica,"
        'Arial,sans-serif;font-size:15px;line-height:1.5;">\n'
        f"{paragraphs}\n{foot}\n</body>\n</html>\n"
    )


def _text_message(letter: Letter, who: Addressee, name: str, settings: Settings) -> Outgoing:
    import uuid

    from promisekeeper.mail import channels

    if not who.phone:
        raise BadInput(
            f'{name} agreed to text messages but has no phone number; add it: pk customer add "{name}" '
            "--phone NUMBER."
        )
    url = settings.messages.sms_url
    if not url or PHONE_PLACE not in url:
        raise BadInput(
            f"{name} agreed to text messages, but sms_url in the [messages] section of the config is not "
            "set to an apprise URL with {phone} in it (e.g. twilio://SID:TOKEN@FROM/{phone})."
        )
    number = "".join(ch for ch in who.phone if ch.isdigit())
    number = ("+" if who.phone.strip().startswith("+") else "") + number
    try:
        [channel] = channels([url.replace(PHONE_PLACE, number)])
    except BadInput:
        raise BadInput(
            "sms_url in the [messages] section of the config is not a URL apprise can send to; use e.g. "
            "twilio://SID:TOKEN@FROM/{phone} (https://github.com/caronc/apprise/wiki)."
        ) from None
    return replace(
        Outgoing(letter=letter, channel=Consent.sms, to=channel.name, message_id=f"sms-{uuid.uuid4().hex}"),
        sms=channel,
    )


def send(out: Outgoing, route: Route | None) -> None:
    """Hand the message over: to the SMTP server (``mail.send``) or the apprise channel; ``MailError``
    (one sentence naming the message and the customer) when it did not go."""
    from promisekeeper import mail

    who = one_line(visible(out.letter.customer or ""))
    if out.sms is not None:
        why = mail.send_to_channel(out.sms, out.letter.subject, out.body)
        if why is not None:
            raise MailError(f"Could not text {out.letter.name} to {who} via {out.sms.name}: {why}.")
        return
    assert out.mail is not None
    assert out.who is not None
    if route is None:
        raise BadInput("No mail server: set host in the [smtp] section of the config.")
    mail.send(out.mail, out.who, route, what=f"{out.letter.name} to {who}")


def as_text(out: Outgoing) -> str:
    """How a dry run shows the message: the whole mail, or the text message with its channel."""
    from promisekeeper import mail

    if out.mail is not None:
        return mail.as_text(out.mail)
    return f"--- text message to {out.to} ---\n{out.letter.subject}\n\n{out.body}"
