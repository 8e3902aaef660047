"""``pk notify``: the morning mail that a cron job or systemd timer sends to the owner."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from promisekeeper.cli import app
from promisekeeper.cli.common import state


class Security(StrEnum):
    none = "none"
    starttls = "starttls"
    ssl = "ssl"


@app.command("notify")
def notify(
    ctx: typer.Context,
    to: Annotated[
        list[str],
        typer.Option(
            "--to", metavar="ADDR", help="Who gets the report; repeat for several.", show_default=False
        ),
    ],
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
        typer.Option("--only-new", help="Only the promises that became overdue since the last mail."),
    ] = False,
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
    """Mail the morning list (overdue first, then due today) as plain text and HTML: for cron.

    The SMTP password is read from PK_SMTP_PASSWORD or the config file, never from the command line.
    Every sent report is recorded, and each promise in it notes in its history that the owner was told.

    Example: pk notify --to owner@example.com --only-if-any

    Example: pk notify --to owner@example.com --dry-run

    Example: pk notify --to jo@example.com --smtp-host mail.example.com --smtp-user shop --only-new
    """
    from promisekeeper import mail, store

    st = state(ctx)
    settings, clock = st.settings, st.clock
    who = mail.envelope(sender or settings.smtp.sender, to, shop=settings.shop_name, need_sender=not dry_run)
    route = mail.route(
        settings.smtp,
        config_path=settings.config_path,
        environ=settings.smtp_env,
        host=smtp_host,
        port=smtp_port,
        security=smtp_security.value if smtp_security else None,
        user=smtp_user,
        need_server=not dry_run,
    )
    with st.session(write=False, require=True) as session:  # a missing book never mails an all-clear
        report = (
            store.newly_overdue_report(session, clock=clock)
            if only_new
            else store.due_report(session, clock=clock)
        )
        since = store.last_sent_at(session) if only_new else None
    if only_if_any and not (report.overdue or report.due):
        typer.echo("Nothing to report; no mail sent.")
        return
    message = mail.build_message(
        report,
        who,
        shop=settings.shop_name,
        tz=settings.tz,
        subject=subject,
        only_new=only_new,
        since=since,
    )
    if dry_run:
        typer.echo(mail.as_text(message), nl=False)
        return
    mail.send(message, who, route)
    with st.session() as session:
        store.record_sent(
            session,
            at=clock.now,
            recipients=who.to,
            subject=str(message["Subject"]),
            overdue=[p.id for p in report.overdue],
            due=[p.id for p in report.due],
        )
    typer.echo(f'Mailed "{message["Subject"]}" to {", ".join(who.to)} via {route.server}.')
