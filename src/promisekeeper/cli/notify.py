"""``pk notify``: the morning mail that a cron job or systemd timer sends to the owner."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from promisekeeper.cli import app
from promisekeeper.cli.common import State, state

if TYPE_CHECKING:
    from datetime import datetime
    from email.message import EmailMessage

    from sqlmodel import Session

    from promisekeeper.mail import Channel, Envelope
    from promisekeeper.views import DueReport


class Security(StrEnum):
    none = "none"
    starttls = "starttls"
    ssl = "ssl"


@dataclass
class Sending:
    """One message to send: a mail to some addresses, or the plain text to one apprise channel."""

    report: DueReport
    keys: list[str]
    shown: list[str]
    escalation: str | None = None
    since: datetime | None = None
    who: Envelope | None = None
    channel: Channel | None = None
    message: EmailMessage | None = None
    title: str = ""
    text: str = ""
    error: str | None = field(default=None)

    @property
    def anything(self) -> bool:
        r = self.report
        return bool(r.overdue or r.at_risk or r.due_soon or r.due or r.ready)


@app.command("notify")
def notify(
    ctx: typer.Context,
    to: Annotated[
        list[str] | None,
        typer.Option(
            "--to", metavar="ADDR", help="Who gets the report; repeat for several.", show_default=False
        ),
    ] = None,
    sender: Annotated[
        str | None,
        typer.Option("--from", metavar="ADDR", help="The sender address (default: from in \\[smtp])."),
    ] = None,
    subject: Annotated[
        str | None,
        typer.Option(
            "--subject", metavar="TEXT", help="The subject (default: 'SHOP: N overdue, M due today')."
        ),
    ] = None,
    only_if_any: Annotated[
        bool, typer.Option("--only-if-any", help="Send nothing on a day with nothing to report.")
    ] = False,
    only_new: Annotated[
        bool,
        typer.Option(
            "--only-new",
            help="Only what each recipient was not told yet: newly overdue (and newly due soon) promises.",
        ),
    ] = False,
    escalate_to: Annotated[
        list[str] | None,
        typer.Option(
            "--escalate-to",
            metavar="ADDR",
            help="Also mail ADDR the promises overdue longer than escalate_after in \\[policy] (default "
            "1bd), in a message of their own (default: escalate_to in \\[notify]).",
            show_default=False,
        ),
    ] = None,
    url: Annotated[
        list[str] | None,
        typer.Option(
            "--url",
            metavar="URL",
            help="Also send the plain-text report through apprise (ntfy, Telegram, Slack, Matrix, …); "
            "repeat for several (default: urls in \\[notify]).",
            show_default=False,
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Print the MIME message instead of sending it; record nothing; no server or sender needed.",
        ),
    ] = False,
    smtp_host: Annotated[
        str | None,
        typer.Option("--smtp-host", metavar="H", help="The mail server (default: host in \\[smtp])."),
    ] = None,
    smtp_port: Annotated[
        int | None,
        typer.Option(
            "--smtp-port", metavar="P", help="Its port (default: port in \\[smtp], else 25, 587 or 465)."
        ),
    ] = None,
    smtp_user: Annotated[
        str | None,
        typer.Option(
            "--smtp-user", metavar="U", help="Log in as this user; the password comes from PK_SMTP_PASSWORD."
        ),
    ] = None,
    smtp_security: Annotated[
        Security | None,
        typer.Option(
            "--smtp-security", help="none, starttls or ssl (default: security in \\[smtp], else starttls)."
        ),
    ] = None,
) -> None:
    """Mail the morning list (overdue, at risk, due, ready for pickup) as plain text and HTML: for cron.

    The SMTP password is read from PK_SMTP_PASSWORD or the config file, never from the command line.
    Every sent report is recorded per recipient, and each promise in it notes in its history that it
    was told. With --url the same report goes, as plain text, to each apprise channel; a channel that
    fails is exit 5 naming it, after all the others were tried (and recorded).

    Example: pk notify --to owner@example.com --only-if-any

    Example: pk notify --to owner@example.com --dry-run

    Example: pk notify --to jo@example.com --smtp-host mail.example.com --smtp-user shop --only-new

    Example: pk notify --to jo@example.com --escalate-to boss@example.com --only-new

    Example: pk notify --url ntfys://ntfy.sh/trailhead-promises --only-new --only-if-any
    """
    from promisekeeper import mail, store

    st = state(ctx)
    settings, clock = st.settings, st.clock
    to = to or []
    escalate = escalate_to if escalate_to else list(settings.notify.escalate_to)
    urls = url if url else list(settings.notify.urls)
    if not to and not escalate and not urls:
        raise _no_recipient()
    mailing = bool(to or escalate)
    who = (
        mail.envelope(sender or settings.smtp.sender, to, shop=settings.shop_name, need_sender=not dry_run)
        if to
        else None
    )
    boss = (
        mail.envelope(
            sender or settings.smtp.sender,
            escalate,
            shop=settings.shop_name,
            need_sender=not dry_run,
            option="--escalate-to",
        )
        if escalate
        else None
    )
    route = (
        mail.route(
            settings.smtp,
            config_path=settings.config_path,
            environ=settings.smtp_env,
            host=smtp_host,
            port=smtp_port,
            security=smtp_security.value if smtp_security else None,
            user=smtp_user,
            need_server=not dry_run,
        )
        if mailing
        else None
    )
    from promisekeeper.cli.policy import escalate_after as policy_escalate_after
    from promisekeeper.cli.policy import soon_until as policy_soon_until

    soon_until = policy_soon_until(st)
    after = policy_escalate_after(st) if boss is not None else None
    chans = mail.channels(urls) if urls else []
    with st.session(write=False, require=True) as session:  # a missing book never mails an all-clear
        sendings = _reports(session, st, who, chans, only_new=only_new, soon_until=soon_until)
        if boss is not None and after is not None:
            sendings += _escalations(session, st, boss, after, only_new=only_new)
    tz = settings.tz
    from promisekeeper.cli.messages import shop_voice

    voice = shop_voice(st)  # [shop] language: the subject, headings and lines around the tables
    for s in sendings:
        since = s.since
        if s.who is not None:
            s.message = mail.build_message(
                s.report,
                s.who,
                shop=settings.shop_name,
                tz=tz,
                subject=subject if s.escalation is None else None,
                only_new=only_new,
                since=since,
                escalation=s.escalation,
                voice=voice,
            )
            s.title = str(s.message["Subject"])
        else:
            shop = mail.one_line(settings.shop_name) or "Our shop"
            s.title = mail.one_line(subject or "") or mail.default_subject(
                s.report, shop, only_new=only_new, voice=voice
            )
            s.text = mail.plain_report(s.report, tz=tz, only_new=only_new, since=since, voice=voice)
    # An escalation with nothing in it is never sent; the report only with --only-if-any.
    todo = [s for s in sendings if s.anything or (not only_if_any and s.escalation is None)]
    if not todo:
        typer.echo("Nothing to report; no mail sent.")
        return
    if dry_run:
        for s in todo:
            if s.message is not None:
                typer.echo(mail.as_text(s.message), nl=False)
            elif s.channel is not None:
                typer.echo(f"--- to {s.channel.name} ---\n{s.title}\n\n{s.text}", nl=False)
        return
    st.db.require_writable()  # every mail sent is recorded: never send one the book cannot record
    for s in todo:
        s.error = _send(s, route)
    sent = [s for s in todo if s.error is None]
    if sent:
        with st.session() as session:
            for s in sent:
                store.record_sent(
                    session,
                    at=clock.now,
                    recipients=s.shown,
                    subject=s.title,
                    overdue=s.report.overdue if s.escalation is None else [],
                    due=s.report.due,
                    due_soon=s.report.due_soon,
                    escalate=s.report.overdue if s.escalation is not None else [],
                    keys=s.keys,
                    at_risk=s.report.at_risk,
                    ready=s.report.ready,
                )
    for s in sent:
        if s.channel is not None:
            typer.echo(f'Sent "{s.title}" to {s.channel.name}.')
        else:
            assert route is not None
            typer.echo(f'Mailed "{s.title}" to {", ".join(s.shown)} via {route.server}.')
    failed = [s for s in todo if s.error is not None]
    if failed:
        from promisekeeper.errors import MailError

        said = "; ".join(str(s.error).rstrip(".") for s in failed)
        rest = "; everything else was sent and recorded" if sent else ""
        raise MailError(f"{said}{rest}.")


def _no_recipient() -> Exception:
    from promisekeeper.errors import BadInput

    return BadInput(
        "No recipient: give --to ADDR (repeat it for several), --url URL or --escalate-to ADDR, "
        "or set urls or escalate_to in the [notify] section of the config."
    )


def _reports(
    session: Session,
    st: State,
    who: Envelope | None,
    chans: list[Channel],
    *,
    only_new: bool,
    soon_until: datetime | None,
) -> list[Sending]:
    """The morning report for each mail and channel: one for all without ``--only-new``; with it, what
    each recipient was not told yet (recipients told the same things get one message together)."""
    from promisekeeper import store

    clock = st.clock
    soon = soon_until
    out: list[Sending] = []
    mail_keys = [store.recipient_key(a) for a in who.to] if who is not None else []
    if not only_new:
        report = store.due_report(session, clock=clock, soon_until=soon)
        if who is not None:
            out.append(Sending(report, mail_keys, list(who.to), who=who))
        out += [Sending(report, [c.key], [c.name], channel=c) for c in chans]
        return out
    groups: dict[tuple[object, ...], Sending] = {}
    if who is not None:
        for address, key in zip(who.recipients, mail_keys, strict=True):
            report = store.newly_overdue_report(session, clock=clock, recipient=key, soon_until=soon)
            since = store.last_sent_at(session, key)
            content = (
                tuple(p.id for p in report.overdue),
                tuple(p.id for p in report.at_risk),
                tuple(p.id for p in report.due_soon),
                since,
            )
            if content in groups:
                group = groups[content]
                group.keys.append(key)
                group.shown.append(address.addr_spec)
                assert group.who is not None
                group.who = type(group.who)(group.who.sender, (*group.who.recipients, address))
            else:
                groups[content] = Sending(
                    report, [key], [address.addr_spec], since=since, who=type(who)(who.sender, (address,))
                )
    out += list(groups.values())
    for c in chans:
        report = store.newly_overdue_report(session, clock=clock, recipient=c.key, soon_until=soon)
        out.append(Sending(report, [c.key], [c.name], since=store.last_sent_at(session, c.key), channel=c))
    return out


def _escalations(session: Session, st: State, boss: Envelope, after: str, *, only_new: bool) -> list[Sending]:
    """The promises overdue longer than ``after``, for the escalation addresses (with ``--only-new``:
    each address gets each escalation once)."""
    from promisekeeper import store

    if not only_new:
        report = store.escalation_report(session, clock=st.clock, after=after)
        keys = [store.recipient_key(a) for a in boss.to]
        return [Sending(report, keys, list(boss.to), escalation=after, who=boss)]
    groups: dict[tuple[int, ...], Sending] = {}
    for address in boss.recipients:
        key = store.recipient_key(address.addr_spec)
        report = store.escalation_report(session, clock=st.clock, after=after, recipient=key, only_new=True)
        content = tuple(p.id for p in report.overdue)
        if content in groups:
            group = groups[content]
            group.keys.append(key)
            group.shown.append(address.addr_spec)
            assert group.who is not None
            group.who = type(boss)(boss.sender, (*group.who.recipients, address))
        else:
            groups[content] = Sending(
                report, [key], [address.addr_spec], escalation=after, who=type(boss)(boss.sender, (address,))
            )
    return list(groups.values())


def _send(s: Sending, route: object) -> str | None:
    """Send one message; ``None`` when it went, else the one-sentence reason (the others are still tried)."""
    from promisekeeper import mail
    from promisekeeper.errors import MailError

    if s.channel is not None:
        why = mail.send_to_channel(s.channel, s.title, s.text)
        return None if why is None else f"Could not send the report to {s.channel.name}: {why}"
    assert s.message is not None
    assert s.who is not None
    assert isinstance(route, mail.Route)
    try:
        mail.send(s.message, s.who, route)
    except MailError as exc:
        return str(exc)
    return None
