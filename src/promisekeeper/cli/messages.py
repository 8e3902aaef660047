"""Messages to customers from the command line: ``pk followup send``, and the ``Outbox`` behind
``pk notice ID --send``, ``pk ready ID --tell`` and ``pk supplier receive ORDER --tell``.

A command plans its messages inside its transaction (``Outbox.add``, or ``tell_ready``): every check that
can refuse (consent, an address, the mail server's settings, the shop's templates) runs there, so a
refusal is exit 2 with nothing written. After the commit ``Outbox.send`` sends each message and records
it (``notice_sent``/``message_sent``) only once the server took it; a message already sent (the same key)
is not sent again; a message that failed is exit 5, after the others were sent and recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer

from promisekeeper.cli import app
from promisekeeper.cli.common import State, state

if TYPE_CHECKING:
    from sqlmodel import Session

    from promisekeeper.lang import Voice
    from promisekeeper.mail import Route
    from promisekeeper.messages import Letter, Outgoing
    from promisekeeper.views import PromiseView
    from promisekeeper.when import Due

followup_app = typer.Typer(
    name="followup", help="Check in with customers after a delivery.", no_args_is_help=True
)
app.add_typer(followup_app)


@dataclass
class Outbox:
    """The messages one command sends: planned inside its transaction, sent after the commit."""

    st: State
    dry_run: bool = False
    planned: list[Outgoing] = field(default_factory=list)
    again: list[tuple[Letter, datetime]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    _route: Route | None = None

    def add(self, session: Session, letter: Letter, *, strict: bool = True) -> None:
        """Plan ``letter`` to its customer. One sent before (its key is in the history) is noted, not
        planned. One that cannot be sent (no consent, no address) is ``BadInput`` when ``strict``, else a
        line on stderr after the others went (``skipped``)."""
        from promisekeeper import messages, store
        from promisekeeper.errors import BadInput

        st = self.st
        when = store.sent_at(session, promise_id=letter.promise_id, key=letter.key)
        if when is not None:
            self.again.append((letter, when))
            return
        who = store.addressee(session, promise_id=letter.promise_id)
        try:
            out = messages.outgoing(letter, who, settings=st.settings, now=st.clock.now)
        except BadInput as exc:
            if strict:
                raise
            self.skipped.append(str(exc))
            return
        if out.mail is not None:
            self.route()
        self.planned.append(out)

    def route(self) -> Route:
        """The way to the SMTP server (``[smtp]``, ``PK_SMTP_*``), checked before anything is sent."""
        from promisekeeper import mail

        if self._route is None:
            s = self.st.settings
            self._route = mail.route(
                s.smtp, config_path=s.config_path, environ=s.smtp_env, need_server=not self.dry_run
            )
        return self._route

    def send(self) -> None:
        """Send what was planned, record each message that went, and say what happened; a dry run prints
        the messages instead and records nothing. ``MailError`` after the others when one failed."""
        from promisekeeper import messages, store, words
        from promisekeeper.errors import MailError

        st = self.st
        tz = st.settings.tz
        for letter, when in self.again:
            who = f" to {letter.customer}" if letter.customer else ""
            st.console.print(
                f"Not sent again: {letter.name} was sent{who} on {words.describe_moment(when, tz)}."
            )
        if self.dry_run:
            for out in self.planned:
                typer.echo(messages.as_text(out), nl=False)
            self._skipped()
            return
        if self.planned:
            st.db.require_writable()  # every message sent is recorded: never send one the book cannot record
        sent: list[Outgoing] = []
        failed: list[str] = []
        for out in self.planned:
            try:
                messages.send(out, self._route)
            except MailError as exc:
                failed.append(str(exc).rstrip("."))
                continue
            sent.append(out)
        if sent:
            with st.session() as session:
                for out in sent:
                    store.record_message(
                        session,
                        clock=st.clock,
                        promise_id=out.letter.promise_id,
                        message=out.letter.message,
                        channel=out.channel.value,
                        message_id=out.message_id,
                        key=out.letter.key,
                        language=out.letter.language,
                    )
        for out in sent:
            how = "by email" if out.mail is not None else "by text message"
            st.console.print(f"Sent {out.letter.name} to {out.to} {how} ({out.letter.language}).")
        self._skipped()
        if failed:
            rest = "; everything else was sent and recorded" if sent else ""
            raise MailError(f"{'; '.join(failed)}{rest}.")

    def _skipped(self) -> None:
        for why in self.skipped:
            self.st.warn(f"Not sent: {why}")


def customer_voice(st: State, language: str | None, message: str | None) -> Voice:
    """The voice a message to a customer of ``language`` is written in (``messages.voice_for``); a
    language without a catalog is said on stderr, once a run."""
    from promisekeeper import messages

    voice = messages.voice_for(language, st.settings, message)
    if voice.fallback_from is not None and voice.fallback_from not in st.told_languages:
        st.told_languages.add(voice.fallback_from)
        st.warn(messages.no_catalog(voice.fallback_from))
    return voice


def shop_voice(st: State) -> Voice:
    """The shop's own language (``[shop] language``): the morning mail's; one without a catalog is said
    on stderr, as a customer's is."""
    return customer_voice(st, st.settings.language, None)


def tell_ready(
    st: State, session: Session, promises: Sequence[PromiseView], *, strict: bool = True
) -> Outbox:
    """Plan the "ready" message to the customer of each promise (``pk ready --tell``, ``pk supplier
    receive --tell``): call it inside the command's transaction, after the promises were marked ready,
    and call ``send()`` on the result after the transaction. ``strict`` (one promise named by the user):
    a customer who cannot be told (no consent, no address) is exit 2 and nothing is written; otherwise
    they are named on stderr and the others are told. A promise made to nobody by name is passed over."""
    from promisekeeper import messages

    outbox = Outbox(st)
    for p in promises:
        if p.customer is None and not strict:
            continue
        voice = customer_voice(st, p.customer_language, "ready")
        letter = messages.ready(p, settings=st.settings, now=st.clock.now, voice=voice)
        outbox.add(session, letter, strict=strict)
    return outbox


def notice_letter(st: State, session: Session, promise_id: int) -> tuple[Letter, PromiseView, Due | None]:
    """The notice about promise ``promise_id`` in its customer's language (``pk notice``, drafted or
    sent), with the promise and the new date it proposes for a risk; ``BadInput`` for a follow-up or a
    promise with nothing to tell."""
    from promisekeeper import messages, rules, store, words
    from promisekeeper.errors import BadInput
    from promisekeeper.views import Kind

    view = store.view(session, promise_id, st.clock, detail=True)
    if view.kind == Kind.followup and view.parent_id is not None:
        raise BadInput(words.followup_has_no_notice(view))
    if not rules.worth_a_notice(view) and not view.at_risk:
        raise BadInput(words.nothing_to_notice(view))
    new_due = store.proposed_due(view, st.clock)
    letter = messages.notice(
        view,
        settings=st.settings,
        now=st.clock.now,
        voice=customer_voice(st, view.customer_language, "notice"),
        remedy=store.latest_remedy(session, promise_id=promise_id),
        new_date=new_due,
    )
    return letter, view, new_due


def send_notice(st: State, promise_id: int) -> None:
    """``pk notice ID --send``: the notice to the customer in their language, by email or text message,
    once for the same facts; recorded as ``notice_sent``."""
    outbox = Outbox(st)
    with st.session(write=False) as session:
        letter, _, _ = notice_letter(st, session, promise_id)
        outbox.add(session, letter)
    outbox.send()


@followup_app.command("send")
def followup_send(
    ctx: typer.Context,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Print the messages instead of sending them; record nothing."),
    ] = False,
) -> None:
    """Send today's follow-up check-ins to the customers who agreed to messages: for cron.

    Each follow-up due today (pk deliver schedules them) becomes a short message asking whether
    everything is as the customer expected, in their language, by email or text message as they agreed.
    Customers who did not agree are left for a call (counted on stderr); a check-in is never sent twice,
    and one whose day has passed is not sent late. Mark a follow-up done when the customer answered
    (pk done ID, or --unhappy).

    Example: pk followup send --dry-run

    Example: pk followup send
    """
    from promisekeeper import messages, store
    from promisekeeper.views import Consent

    st = state(ctx)
    outbox = Outbox(st, dry_run=dry_run)
    unasked = 0
    with st.session(write=False) as session:
        for check_in, parent in store.followups_due(session, clock=st.clock):
            if check_in.customer is None or check_in.customer_consent == Consent.none:
                unasked += check_in.customer is not None
                continue
            voice = customer_voice(st, check_in.customer_language, "followup")
            letter = messages.followup(check_in, parent, settings=st.settings, now=st.clock.now, voice=voice)
            outbox.add(session, letter, strict=False)
    if not outbox.planned and not outbox.again:
        st.console.print("No follow-up to send today.")
    outbox.send()
    if unasked:
        st.warn(
            f"{unasked} follow-up{'s' if unasked != 1 else ''} due today {'are' if unasked != 1 else 'is'} "
            "for customers who did not agree to messages: call them (pk due lists them)."
        )
