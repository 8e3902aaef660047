"""The morning mail: builds the multipart message (plain text + HTML) from the due report and sends it.

Nothing here reads the database or prints. The CLI reads the report, hands it here, and records the
report as sent only after ``send`` returned: a mail that failed is never logged as told. Text that
customers or staff typed goes into the message body only, with any control character shown visibly
(``text.visible``) and HTML-escaped; headers carry the shop's name, the counts and the addresses, each
reduced to one line. The HTML part is a table (inline styles) that a ``<style>`` media query turns
into one stacked block per promise below 600 px, for the owner reading it on a phone.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import datetime
from email import errors as email_errors
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from promisekeeper import words
from promisekeeper.errors import BadInput, MailError
from promisekeeper.lang import ENGLISH, Voice
from promisekeeper.money import format_money
from promisekeeper.text import visible
from promisekeeper.when import Due, end_of_day
from promisekeeper.words import due_cell, what_cell, when_words

if TYPE_CHECKING:
    import smtplib
    import ssl

    from promisekeeper.config import SmtpSettings
    from promisekeeper.views import DueReport, PromiseView

DEFAULT_PORTS = {"none": 25, "starttls": 587, "ssl": 465}
PASSWORD_ENV = "PK_SMTP_PASSWORD"
CAFILE_ENV = "PK_SMTP_CAFILE"
TIMEOUT_ENV = "PK_SMTP_TIMEOUT"

# Row colours of the HTML part: a light background for clients that show it, a strong left edge and a
# coloured status word for those that drop backgrounds (some dark modes).
_TONES = {
    "overdue": ("#fdecea", "#b42318"),
    "at_risk": ("#fce7f3", "#9d174d"),
    "due_soon": ("#fff1e0", "#b54708"),
    "due": ("#fff6d6", "#8a5a00"),
    "ready": ("#e0f2fe", "#075985"),
}

# Below 600 px (a phone) every row of the tables becomes a block: what the promise is first (bold), then
# the customer, then due, status, price and staff side by side as far as they fit, with the promise's
# number at the right. Clients that ignore style sheets keep the wide table of inline styles.
_NARROW = (
    """
@media only screen and (max-width: 600px) {
  table.pk-list, table.pk-list tbody, table.pk-list tr, table.pk-list td {
    display: block !important; width: auto !important; }
  table.pk-list thead { display: none !important; }
  table.pk-list tr { margin: 0 0 8px 0 !important; padding: 8px 10px !important; }
  table.pk-list tr.pk-row-overdue { border-left: 4px solid OVERDUE !important; }
  table.pk-list tr.pk-row-due_soon { border-left: 4px solid SOON !important; }
  table.pk-list tr.pk-row-due { border-left: 4px solid DUE !important; }
  table.pk-list tr.pk-row-at_risk { border-left: 4px solid RISK !important; }
  table.pk-list tr.pk-row-ready { border-left: 4px solid READY !important; }
  table.pk-list td { border: 0 !important; padding: 0 !important; text-align: left !important;
    white-space: normal !important; overflow-wrap: anywhere !important; word-break: break-word !important; }
  table.pk-list td.pk-id { float: right !important; margin: 0 0 0 8px !important; color: #57606a !important; }
  table.pk-list td.pk-what { font-weight: bold !important; font-size: 15px !important; }
  table.pk-list span.pk-risk { font-weight: normal !important; font-size: 13px !important; }
  table.pk-list td.pk-due, table.pk-list td.pk-status, table.pk-list td.pk-price, table.pk-list td.pk-staff {
    display: inline-block !important; margin: 2px 12px 0 0 !important; }
  table.pk-list td:empty { display: none !important; }
  table.pk-list span.pk-label { display: inline !important; }
  body { padding: 12px !important; }
}
""".replace("OVERDUE", _TONES["overdue"][1])
    .replace("SOON", _TONES["due_soon"][1])
    .replace("DUE", _TONES["due"][1])
    .replace("RISK", _TONES["at_risk"][1])
    .replace("READY", _TONES["ready"][1])
)

_COLUMNS = ("#", "What", "Customer", "Due", "Status", "Price", "Staff")


def one_line(text: str) -> str:
    """Text safe for a mail header: line breaks and tabs become single spaces, any other control
    character or bidi override is shown visibly (``text.visible``: ESC as ``␛``), never sent raw."""
    spaced = "".join(" " if ch.isspace() else ch for ch in text)
    cleaned = "".join(ch if ch.isprintable() else " " for ch in visible(spaced))
    return " ".join(cleaned.split())


# --- who: addresses ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Envelope:
    """The sender and recipients, parsed once: used for the headers and the SMTP envelope alike.

    ``sender`` is None only for a dry run without one (nothing is sent, so nobody sends it)."""

    sender: Address | None
    recipients: tuple[Address, ...]

    @property
    def to(self) -> list[str]:
        return [a.addr_spec for a in self.recipients]


def parse_address(text: str, option: str) -> Address:
    """One mail address (``owner@example.com`` or ``Jo Owner <owner@example.com>``), or ``BadInput``."""
    hint = f"give one address per {option}, e.g. owner@example.com or 'Jo Owner <owner@example.com>'"
    if "\r" in text or "\n" in text:
        raise BadInput(f"The address given to {option} contains a line break; {hint}.")
    try:
        header = policy.SMTP.header_factory("To", text.strip())
        addresses = header.addresses
    except (email_errors.MessageError, ValueError, IndexError, TypeError):
        addresses = ()
        header = None
    if header is None or header.defects or len(addresses) != 1:
        raise BadInput(f"{option} {text!r} is not one mail address; {hint}.")
    address = addresses[0]
    if not address.username or not address.domain or not address.addr_spec.isascii():
        raise BadInput(
            f"{option} {text!r} is not a complete ASCII mail address; {hint} (an international domain "
            "in its xn-- form)."
        )
    return Address(display_name=one_line(address.display_name), addr_spec=address.addr_spec)


NO_SENDER = "No sender address: give --from ADDR or set from in the [smtp] section of the config."


def envelope(
    sender: str | None,
    recipients: Sequence[str],
    *,
    shop: str,
    need_sender: bool = True,
    option: str = "--to",
) -> Envelope:
    """The From and To of the mail; a sender without a name is shown under the shop's name.

    ``need_sender=False`` (a dry run) accepts no sender: the printed message then has no From.
    ``option`` names where the recipients came from, in a refusal (``--to``, ``--escalate-to``).
    """
    if not sender and need_sender:
        raise BadInput(NO_SENDER)
    if not recipients:
        raise BadInput("No recipient: give --to ADDR (repeat it for several).")
    source = parse_address(sender, "--from") if sender else None
    if source is not None and not source.display_name:
        source = Address(display_name=one_line(shop), addr_spec=source.addr_spec)
    to: dict[str, Address] = {}
    for text in recipients:
        address = parse_address(text, option)
        to.setdefault(address.addr_spec.lower(), address)
    return Envelope(sender=source, recipients=tuple(to.values()))


# --- what: the message -------------------------------------------------------------------------------


def default_subject(
    report: DueReport,
    shop: str,
    *,
    only_new: bool = False,
    escalation: str | None = None,
    voice: Voice = ENGLISH,
) -> str:
    """``Trailhead Outfitters: 3 overdue, 5 due today`` (only the counts; never a customer's words);
    ``… 2 due soon`` with a "due soon" section; an escalation says how long they are overdue."""
    if escalation is not None:
        return words.escalation_subject(shop, len(report.overdue), escalation, voice)
    return words.report_subject(
        shop,
        len(report.overdue),
        len(report.due_soon),
        len(report.due),
        only_new=only_new,
        at_risk=len(report.at_risk),
        voice=voice,
    )


def _intro(
    report: DueReport,
    tz: ZoneInfo,
    *,
    only_new: bool,
    since: datetime | None,
    escalation: str | None = None,
    voice: Voice = ENGLISH,
) -> str:
    if escalation is not None:
        return words.escalation_intro(report.as_of, tz, escalation, voice)
    return words.report_intro(
        report.as_of,
        tz,
        only_new=only_new,
        since=since,
        soon=bool(report.due_soon),
        risk=bool(report.at_risk),
        ready=bool(report.ready),
        voice=voice,
    )


def _until(report: DueReport, tz: ZoneInfo) -> Due:
    """The end of the report's window as ``pk due`` shows it (a whole day when it ends with one)."""
    return Due(report.until, report.until == end_of_day(report.until.astimezone(tz).date(), tz))


def _nothing(report: DueReport, tz: ZoneInfo, *, only_new: bool, voice: Voice = ENGLISH) -> str:
    return words.mail_nothing(_until(report, tz), tz, report.as_of, only_new=only_new, voice=voice)


def shown(p: PromiseView) -> PromiseView:
    """The promise with every text a person typed made harmless to show (``text.visible``)."""
    return replace(
        p,
        what=visible(p.what),
        customer=visible(p.customer) if p.customer is not None else None,
        staff=visible(p.staff) if p.staff is not None else None,
        note=visible(p.note, keep_lines=True) if p.note is not None else None,
        tags=tuple(visible(t) for t in p.tags),
    )


def shown_report(report: DueReport) -> DueReport:
    """The report with every promise :func:`shown`: what both parts of the mail are made from."""
    return replace(
        report,
        overdue=[shown(p) for p in report.overdue],
        due_soon=[shown(p) for p in report.due_soon],
        due=[shown(p) for p in report.due],
        at_risk=[shown(p) for p in report.at_risk],
        ready=[shown(p) for p in report.ready],
    )


@dataclass(frozen=True, slots=True)
class Section:
    name: str  # overdue | at_risk | due_soon | due | ready: the row colour and the table's columns
    title: str
    promises: Sequence[PromiseView]


def sections(
    report: DueReport,
    tz: ZoneInfo,
    *,
    only_new: bool = False,
    escalation: str | None = None,
    voice: Voice = ENGLISH,
) -> list[Section]:
    """The report's non-empty sections in order, titled as ``pk due`` titles them, in both parts."""
    out = []
    if report.overdue:
        title = (
            words.overdue_title(len(report.overdue), only_new=only_new, voice=voice)
            if escalation is None
            else words.escalation_title(len(report.overdue), escalation, voice)
        )
        out.append(Section("overdue", title, report.overdue))
    if report.at_risk:
        out.append(Section("at_risk", words.at_risk_title(len(report.at_risk), voice), report.at_risk))
    if report.due_soon:
        out.append(Section("due_soon", words.due_soon_title(len(report.due_soon), voice), report.due_soon))
    if report.due:
        title = words.due_title(_until(report, tz), tz, report.as_of, len(report.due), voice)
        out.append(Section("due", title, report.due))
    if report.ready:
        out.append(Section("ready", words.ready_title(len(report.ready), voice), report.ready))
    return out


def _html_rows(promises: Sequence[PromiseView], section: str, report: DueReport, tz: ZoneInfo) -> str:
    background, accent = _TONES[section]
    cell = "padding:6px 8px;border-bottom:1px solid #e5e7eb;"
    wraps = "overflow-wrap:anywhere;word-break:break-word;"
    label = '<span class="pk-label" style="display:none;mso-hide:all;">{}: </span>'
    rows = []
    for p in promises:
        status = when_words(p, report.as_of) + (" (renegotiated)" if p.renegotiated else "")
        if section == "ready" and p.ready_at is not None:
            status = f"ready, waiting {words.days_waiting(p.ready_at, report.as_of, tz)}"
        cells = [  # (class, text, style, label shown on a phone)
            ("id", f"#{p.id}", f"border-left:4px solid {accent};white-space:nowrap;", None),
            ("what", what_cell(p), wraps, None),
            ("customer", p.customer or "", wraps, None),
            ("due", due_cell(p.due, tz, report.as_of), "white-space:nowrap;", None),
            ("status", status, f"color:{accent};font-weight:bold;white-space:nowrap;", None),
            ("price", format_money(p.price) if p.price else "", "text-align:right;white-space:nowrap;", None),
            ("staff", p.staff or "", wraps, "Staff"),
        ]
        tds = "\n".join(
            f'<td class="pk-{name}" style="{cell}{style}">'
            f"{label.format(tag) if tag and text else ''}{html.escape(text)}"
            f"{_risk_line(p, tz) if name == 'what' else ''}</td>"
            for name, text, style, tag in cells
        )
        style = f"background-color:{background};vertical-align:top;"
        rows.append(f'<tr class="pk-row-{section}" style="{style}">\n{tds}\n</tr>')
    return "\n".join(rows)


def _risk_line(p: PromiseView, tz: ZoneInfo) -> str:
    """Under the What of an at-risk promise, why it is at risk (``words.risk_text``), escaped."""
    if p.risk is None:
        return ""
    said = html.escape(visible(words.risk_text(p.risk, tz)))
    return f'<br><span class="pk-risk" style="font-weight:normal;font-size:13px;color:#57606a;">{said}</span>'


def _html_table(
    title: str, promises: Sequence[PromiseView], section: str, report: DueReport, tz: ZoneInfo
) -> str:
    accent = _TONES[section][1]
    head_cell = "padding:6px 8px;border-bottom:2px solid #9ca3af;"
    heads = "\n".join(
        f'<th style="{head_cell}text-align:{"right" if name == "Price" else "left"};">{name}</th>'
        for name in _COLUMNS
    )
    return (
        f'<h2 style="font-size:16px;margin:20px 0 6px 0;color:{accent};">{html.escape(title)}</h2>\n'
        '<table class="pk-list" cellpadding="0" cellspacing="0" border="0" '
        'style="border-collapse:collapse;width:100%;max-width:960px;font-size:14px;">\n'
        f"<thead><tr>\n{heads}\n</tr></thead>\n"
        f"<tbody>\n{_html_rows(promises, section, report, tz)}\n</tbody>\n</table>"
    )


def _footer_html(voice: Voice = ENGLISH) -> str:
    """``words.mail_footer`` with its `commands` as ``<code>``."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(words.mail_footer(voice), quote=False))


def html_body(
    report: DueReport,
    *,
    shop: str,
    subject: str,
    tz: ZoneInfo,
    only_new: bool,
    since: datetime | None,
    escalation: str | None = None,
    voice: Voice = ENGLISH,
) -> str:
    """The HTML part: one table per section in inline styles (what clients that drop style sheets
    show), and a media query that stacks each promise into a block on a narrow screen."""
    parts = [
        _html_table(section.title, section.promises, section.name, report, tz)
        for section in sections(report, tz, only_new=only_new, escalation=escalation, voice=voice)
    ]
    if not parts:
        nothing = html.escape(_nothing(report, tz, only_new=only_new, voice=voice))
        parts.append(f'<p style="margin:16px 0;">{nothing}</p>')
    body = "\n".join(parts)
    intro = html.escape(
        _intro(report, tz, only_new=only_new, since=since, escalation=escalation, voice=voice)
    )
    return (
        f'<!DOCTYPE html>\n<html lang="{html.escape(voice.tag)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(subject)}</title>\n<style>{_NARROW}</style>\n</head>\n"
        '<body style="margin:0;padding:16px;background-color:#ffffff;color:#1f2328;'
        "font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;font-size:14px;line-height:1.4;"
        '-webkit-text-size-adjust:100%;">\n'
        f'<h1 style="font-size:18px;margin:0 0 4px 0;">{html.escape(shop)}</h1>\n'
        f'<p style="margin:0;color:#57606a;">{intro}</p>\n'
        f"{body}\n"
        f'<p style="margin:20px 0 0 0;color:#57606a;font-size:12px;">{_footer_html(voice)}</p>\n'
        "</body>\n</html>\n"
    )


def text_body(
    report: DueReport,
    table: str,
    *,
    tz: ZoneInfo,
    only_new: bool,
    since: datetime | None,
    escalation: str | None = None,
    voice: Voice = ENGLISH,
) -> str:
    """The plain-text part: a line of context, then ``table`` (``pk due``'s table, rendered plain)."""
    intro = _intro(report, tz, only_new=only_new, since=since, escalation=escalation, voice=voice)
    anything = report.overdue or report.at_risk or report.due_soon or report.due or report.ready
    main = table.rstrip() if anything else _nothing(report, tz, only_new=only_new, voice=voice)
    return f"{intro}\n\n{main}\n\n-- \n{words.mail_footer(voice)}\n"


def build_message(
    report: DueReport,
    who: Envelope,
    *,
    shop: str,
    tz: ZoneInfo,
    subject: str | None = None,
    only_new: bool = False,
    since: datetime | None = None,
    escalation: str | None = None,
    voice: Voice = ENGLISH,
) -> EmailMessage:
    """The multipart/alternative message: ``pk due``'s tables as plain text, and an HTML table.

    Bodies are UTF-8 in 8 bits, readable as they stand (``--dry-run``); ``send`` re-encodes them as
    quoted-printable for a server without 8BITMIME. The Date header is the report's moment
    (``PK_NOW`` replays a morning exactly). Every text a person typed is shown visibly (``shown``).
    ``escalation`` (how long, in words: "one working day") makes it the escalation message: the
    promises overdue longer than that, under a subject and heading of their own. ``voice``: the shop's
    language (``[shop] language``) for the subject, the headings and the lines around the tables.
    """
    shop = one_line(shop) or "Our shop"
    title = one_line(subject or "") or default_subject(
        report, shop, only_new=only_new, escalation=escalation, voice=voice
    )
    text = plain_report(report, tz=tz, only_new=only_new, since=since, escalation=escalation, voice=voice)
    report = shown_report(report)
    message = EmailMessage(policy=policy.SMTP)
    message["Subject"] = title
    if who.sender is not None:
        message["From"] = who.sender
    message["To"] = who.recipients
    message["Date"] = format_datetime(report.as_of.astimezone(tz))
    domain = (who.sender or who.recipients[0]).domain
    message["Message-ID"] = make_msgid(domain=domain)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation auto-replies to a robot
    message.set_content(text, subtype="plain", charset="utf-8", cte="8bit")
    message.add_alternative(
        html_body(
            report,
            shop=shop,
            subject=title,
            tz=tz,
            only_new=only_new,
            since=since,
            escalation=escalation,
            voice=voice,
        ),
        subtype="html",
        charset="utf-8",
        cte="8bit",
    )
    return message


def plain_report(
    report: DueReport,
    *,
    tz: ZoneInfo,
    only_new: bool = False,
    since: datetime | None = None,
    escalation: str | None = None,
    voice: Voice = ENGLISH,
) -> str:
    """The report as plain text (the mail's text part, and what an apprise channel is sent)."""
    from promisekeeper.render import plain_grids, section_grid

    report = shown_report(report)
    parts = sections(report, tz, only_new=only_new, escalation=escalation, voice=voice)
    table = plain_grids([section_grid(s.name, s.title, s.promises, tz, report.as_of) for s in parts])
    return text_body(report, table, tz=tz, only_new=only_new, since=since, escalation=escalation, voice=voice)


def seven_bit(message: EmailMessage) -> EmailMessage:
    """A copy with every text part quoted-printable: for a server that does not announce 8BITMIME."""
    import copy

    clean = copy.deepcopy(message)
    for part in clean.iter_parts():
        assert isinstance(part, EmailMessage)
        part.set_content(
            part.get_content(), subtype=part.get_content_subtype(), charset="utf-8", cte="quoted-printable"
        )
    return clean


def as_text(message: EmailMessage) -> str:
    """The message as it goes on the wire to an 8BITMIME server, with the local line ends (``--dry-run``)."""
    return message.as_bytes(policy=policy.SMTP.clone(linesep="\n")).decode("utf-8")


# --- how: the route to the server ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Route:
    """Where and how to hand the mail over; ``host`` is None only for a dry run."""

    host: str | None
    port: int
    security: str
    user: str | None
    password: str | None
    timeout: float
    cafile: str | None

    @property
    def server(self) -> str:
        return f"{self.host}:{self.port}"


def refuse_readable_password(smtp: SmtpSettings, config_path: Path | None) -> None:
    """A password in a config file that others can read is refused, whether or not it would be used."""
    if smtp.password is None or config_path is None or os.name == "nt":
        return
    try:
        mode = config_path.stat().st_mode & 0o777
    except OSError:
        return
    if mode & 0o044:
        raise BadInput(
            f"The config file {config_path} holds the SMTP password but others can read it (mode {mode:o}); "
            f"run chmod 600 {config_path}, or remove the password and set {PASSWORD_ENV} instead."
        )


def route(
    smtp: SmtpSettings,
    *,
    config_path: Path | None,
    environ: Mapping[str, str],
    host: str | None = None,
    port: int | None = None,
    security: str | None = None,
    user: str | None = None,
    need_server: bool = True,
) -> Route:
    """The route from the options, else the environment, else ``[smtp]``; the password never from options."""
    refuse_readable_password(smtp, config_path)
    where = f"the [smtp] section of {config_path}" if config_path else "the [smtp] section of the config file"
    host = (host or smtp.host or "").strip() or None
    if need_server and host is None:
        raise BadInput(f"No mail server: give --smtp-host HOST or set host in {where}.")
    security = security or smtp.security
    port = port if port is not None else smtp.port if smtp.port is not None else DEFAULT_PORTS[security]
    if not 0 < port < 65536:
        raise BadInput(f"The SMTP port {port} is not a port number; use e.g. 587 (STARTTLS) or 465 (SSL).")
    user = (user or smtp.user or "").strip() or None
    password = environ.get(PASSWORD_ENV) or smtp.password
    if need_server and user is not None and not password:
        raise BadInput(
            f"The SMTP user {user} has no password; set {PASSWORD_ENV}, or password in {where} "
            "(a file only you can read)."
        )
    return Route(
        host=host,
        port=port,
        security=security,
        user=user,
        password=password,
        timeout=_timeout(environ, smtp.timeout),
        cafile=environ.get(CAFILE_ENV) or smtp.cafile or None,
    )


def _timeout(environ: Mapping[str, str], default: float) -> float:
    text = environ.get(TIMEOUT_ENV)
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 600:
        raise BadInput(f"{TIMEOUT_ENV} must be a number of seconds between 0 and 600, not {text!r}.")
    return value


def tls_context(route: Route) -> ssl.SSLContext:
    """The system's trusted CAs, or only ``PK_SMTP_CAFILE`` when set; verification is never turned off."""
    import ssl

    try:
        return ssl.create_default_context(cafile=route.cafile)
    except (OSError, ssl.SSLError) as exc:
        raise BadInput(
            f"{CAFILE_ENV} names {route.cafile}, which is not a readable PEM certificate file ({exc})."
        ) from exc


# --- sending ---------------------------------------------------------------------------------------------


def send(message: EmailMessage, who: Envelope, route: Route, *, what: str = "the report") -> None:
    """Hand the message to the server, all recipients or none; any failure is one ``MailError`` sentence
    (``Could not mail <what> via host:port: …``).

    Every recipient is checked (RCPT) before the message is sent (DATA): when the server refuses one,
    the transaction is reset and nobody gets the mail, so a failed run can simply be repeated.
    """
    import smtplib
    import socket
    import ssl

    if route.host is None:
        raise BadInput(
            "No mail server: give --smtp-host HOST or set host in the [smtp] section of the config."
        )
    if who.sender is None:
        raise BadInput(NO_SENDER)
    context = tls_context(route) if route.security != "none" else None
    fail = f"Could not mail {what} via {route.server}"
    try:
        client: smtplib.SMTP
        if route.security == "ssl":
            client = smtplib.SMTP_SSL(route.host, route.port, timeout=route.timeout, context=context)
        else:
            client = smtplib.SMTP(route.host, route.port, timeout=route.timeout)
        with client:
            client.ehlo_or_helo_if_needed()
            if route.security == "starttls":
                if not client.has_extn("starttls"):
                    raise MailError(
                        f"{fail}: the server does not offer STARTTLS; use --smtp-security ssl (port 465) "
                        "or, on a trusted local network only, none."
                    )
                client.starttls(context=context)
                client.ehlo()
            if route.user is not None:
                if not client.has_extn("auth"):
                    raise MailError(f"{fail}: the server offers no login (AUTH) for user {route.user}.")
                client.login(route.user, route.password or "")
            _transfer(client, message, who)
    except MailError:
        raise
    except smtplib.SMTPAuthenticationError as exc:
        raise MailError(
            f"{fail}: the server refused the login of user {route.user} ({_reply(exc)})."
        ) from exc
    except smtplib.SMTPRecipientsRefused as exc:
        refused = "; ".join(f"{addr} ({_said(code, text)})" for addr, (code, text) in exc.recipients.items())
        raise MailError(f"{fail}: the server refused the recipient {refused}; nobody was sent it.") from exc
    except smtplib.SMTPSenderRefused as exc:
        raise MailError(f"{fail}: the server refused the sender {exc.sender} ({_reply(exc)}).") from exc
    except smtplib.SMTPDataError as exc:
        raise MailError(f"{fail}: the server rejected the message ({_reply(exc)}).") from exc
    except smtplib.SMTPServerDisconnected as exc:
        if isinstance(exc.__context__, TimeoutError):  # smtplib turns a read timeout into a disconnect
            raise MailError(f"{fail}: the server did not answer within {route.timeout:g} s.") from exc
        raise MailError(f"{fail}: the server closed the connection ({exc or 'without a word'}).") from exc
    except smtplib.SMTPResponseException as exc:
        raise MailError(f"{fail}: the server answered {_reply(exc)}.") from exc
    except smtplib.SMTPException as exc:
        raise MailError(f"{fail}: {one_line(str(exc)).rstrip('.')}.") from exc
    except ssl.SSLCertVerificationError as exc:
        raise MailError(
            f"{fail}: its TLS certificate could not be verified ({exc.verify_message}); if it is signed by "
            f"your own CA, set {CAFILE_ENV} to that CA's PEM file."
        ) from exc
    except ssl.SSLError as exc:
        raise MailError(
            f"{fail}: the TLS handshake failed ({exc.reason or exc}); check --smtp-security and --smtp-port."
        ) from exc
    except ConnectionRefusedError as exc:
        raise MailError(
            f"{fail}: the connection was refused (is a mail server listening on that port?)."
        ) from exc
    except socket.gaierror as exc:
        raise MailError(f"{fail}: the host name {route.host} was not found ({exc.strerror}).") from exc
    except TimeoutError as exc:
        raise MailError(f"{fail}: the server did not answer within {route.timeout:g} s.") from exc
    except OSError as exc:
        raise MailError(f"{fail}: {exc.strerror or exc}.") from exc


def _transfer(client: smtplib.SMTP, message: EmailMessage, who: Envelope) -> None:
    import smtplib

    assert who.sender is not None  # send() refuses a message without one
    sender = who.sender.addr_spec
    eight_bit = client.has_extn("8bitmime")
    code, text = client.mail(sender, ["BODY=8BITMIME"] if eight_bit else [])
    if code != 250:
        _reset(client)
        raise smtplib.SMTPSenderRefused(code, text, sender)
    refused: dict[str, tuple[int, bytes]] = {}
    for recipient in who.to:
        code, text = client.rcpt(recipient)
        if code not in (250, 251):
            refused[recipient] = (code, text)
    if refused:
        _reset(client)
        raise smtplib.SMTPRecipientsRefused(refused)
    code, text = client.data((message if eight_bit else seven_bit(message)).as_bytes())
    if code != 250:
        raise smtplib.SMTPDataError(code, text)


def _reset(client: smtplib.SMTP) -> None:
    import smtplib

    with suppress(smtplib.SMTPException, OSError):
        client.rset()


def _said(code: int, text: bytes | str) -> str:
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return one_line(f"{code} {words}")


def _reply(exc: smtplib.SMTPResponseException) -> str:
    return _said(exc.smtp_code, exc.smtp_error)


# --- other channels: apprise ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Channel:
    """One apprise URL (``ntfys://ntfy.sh/shop-promises``, ``tgram://…``, ``json://host/path``).

    ``name`` is how it is shown (apprise's privacy form: tokens and passwords masked, no options);
    ``key`` is how the sent-log knows it (a digest: the book never keeps a token)."""

    url: str
    name: str
    key: str


def channel_key(url: str) -> str:
    import hashlib

    return "url:" + hashlib.sha256(url.strip().encode("utf-8")).hexdigest()[:24]


def channels(urls: Sequence[str]) -> list[Channel]:
    """The apprise URLs, each checked before anything is sent: one apprise cannot read is ``BadInput``.

    apprise is imported here, only when a URL is given: it costs a third of a second."""
    import apprise

    out: list[Channel] = []
    for url in dict.fromkeys(u.strip() for u in urls):
        if "\r" in url or "\n" in url or not url.isprintable():
            raise BadInput("A --url contains a line break or control character; give one URL per --url.")
        found = apprise.Apprise(asset=apprise.AppriseAsset(plugin_paths=[]))
        scheme = url.partition("://")[0] if "://" in url else url[:12]
        if not found.add(url) or len(found) != 1:
            raise BadInput(
                f"The --url starting {one_line(scheme)!r}:// is not a URL apprise can send to; use e.g. "
                "ntfys://ntfy.sh/TOPIC, mailto://user:pass@example.com or json://host/path "
                "(https://github.com/caronc/apprise/wiki)."
            )
        name = found[0].url(privacy=True).partition("?")[0]  # type: ignore[no-untyped-call]  # apprise is untyped
        out.append(Channel(url=url, name=one_line(name), key=channel_key(url)))
    return out


def send_to_channel(channel: Channel, title: str, body: str) -> str | None:
    """Send the plain-text report through apprise; ``None`` when it went, else why not (one line)."""
    import logging

    import apprise

    sender = apprise.Apprise(asset=apprise.AppriseAsset(plugin_paths=[]))
    sender.add(channel.url)
    capture = apprise.LogCapture(level=logging.WARNING, fmt="%(message)s")  # type: ignore[no-untyped-call]
    with capture as log:
        try:
            sent = bool(sender.notify(body=body, title=title, body_format=apprise.NotifyFormat.TEXT))
        except Exception as exc:  # a plugin's own failure: this channel failed, the others are still tried
            return one_line(f"{type(exc).__name__}: {exc}")
        said = log.getvalue() if hasattr(log, "getvalue") else ""
    if sent:
        return None
    lines = [line for line in str(said).splitlines() if line.strip()]
    return one_line(lines[0]).rstrip(".") if lines else "it was not accepted"
