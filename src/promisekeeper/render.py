"""The only module that formats: Rich tables, JSON, CSV and the one-line confirmations and verdicts.

Functions take plain data (``PromiseView``, ``DueReport``) and a ``Console``; nothing here touches
the database. JSON keys are SPEC.md's and stable.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table
from rich.text import Text

from promisekeeper.formats import Format
from promisekeeper.money import Money, format_amount, format_money
from promisekeeper.rules import terms_text, verdict_text
from promisekeeper.when import Due, describe_due, describe_span, end_of_day

if TYPE_CHECKING:
    from promisekeeper.report import Figures, StatsReport
    from promisekeeper.store import CustomerView, DueReport, PromiseView


STYLE = {"overdue": "red", "due": "yellow", "kept": "green", "deviated": "magenta", "cancelled": "dim"}

FIELDS = (
    "id",
    "kind",
    "customer",
    "what",
    "quantity",
    "price",
    "currency",
    "due",
    "date_only",
    "original_due",
    "renegotiated",
    "status",
    "deviations",
    "delivered_quantity",
    "charged",
    "fulfilled_at",
    "late_by_seconds",
    "staff",
    "tags",
    "note",
    "parent_id",
    "remedied",
    "created",
)


def iso(moment: datetime | None, tz: ZoneInfo) -> str | None:
    return moment.astimezone(tz).isoformat() if moment is not None else None


def amount(money: Money | None) -> str | None:
    return format_amount(money) if money is not None else None


def promise_dict(p: PromiseView, tz: ZoneInfo, *, detail: bool = False) -> dict[str, Any]:
    """A promise in SPEC.md's JSON shape; ``detail`` adds ``deliveries`` and ``history``."""
    out: dict[str, Any] = {
        "id": p.id,
        "kind": p.kind,
        "customer": p.customer,
        "what": p.what,
        "quantity": p.quantity,
        "price": amount(p.price),
        "currency": p.price.currency if p.price else None,
        "due": iso(p.due.moment, tz),
        "date_only": p.due.date_only,
        "original_due": iso(p.original_due.moment, tz) if p.original_due else None,
        "renegotiated": p.renegotiated,
        "status": p.status,
        "deviations": list(p.outcome.deviation_kinds),
        "delivered_quantity": p.outcome.delivered_quantity,
        "charged": amount(p.outcome.charged),
        "fulfilled_at": iso(p.outcome.fulfilled_at, tz),
        "late_by_seconds": p.outcome.late_by_seconds,
        "staff": p.staff,
        "tags": list(p.tags),
        "note": p.note,
        "parent_id": p.parent_id,
        "remedied": p.remedied,
        "created": iso(p.created, tz),
    }
    if detail:
        out["deliveries"] = [
            {
                "at": iso(d.at, tz),
                "what": d.what,
                "quantity": d.quantity,
                "price": amount(d.price),
                "currency": d.price.currency if d.price else None,
                "note": d.note,
            }
            for d in p.deliveries
        ]
        out["history"] = [{"at": iso(e.at, tz), "event": e.event, "detail": e.detail} for e in p.history]
    return out


def write_json(console: Console, data: Any) -> None:
    console.file.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def write_csv(console: Console, rows: Sequence[dict[str, Any]], fields: Sequence[str] = FIELDS) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(fields), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})
    console.file.write(buf.getvalue())


def _cell(value: Any) -> Any:
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else value


# --- people-facing text ----------------------------------------------------------------------------


def terms(p: PromiseView, tz: ZoneInfo, now: datetime) -> str:
    return terms_text(p.what, p.quantity, p.price, p.due, tz, now, customer=p.customer)


def verdict(p: PromiseView) -> str:
    if p.status in ("open", "overdue"):
        owed = p.quantity - p.outcome.delivered_quantity
        got = p.outcome.delivered_quantity
        return f"partial: {got} of {p.quantity} delivered, {owed} still owed ({p.status})"
    return verdict_text(p.outcome)


def confirmation(verb: str, p: PromiseView, tz: ZoneInfo, now: datetime) -> str:
    """The one-line table output of a single-promise command."""
    if verb == "add":
        return f"Promised #{p.id}: {terms(p, tz, now)}"
    if verb in ("deliver", "done"):
        what = "Delivered" if verb == "deliver" else "Done"
        return f"{what} #{p.id}: {verdict(p)}"
    if verb == "amend":
        return f"Amended #{p.id}: {terms(p, tz, now)} (renegotiated)"
    if verb == "cancel":
        return f"Cancelled #{p.id}: {terms(p, tz, now)}"
    if verb == "remedy":
        return f"Remedy recorded for #{p.id} ({verdict(p)})"
    return f"#{p.id}: {terms(p, tz, now)} [{p.status}]"


def short_span(seconds: float) -> str:
    """A compact length for table cells: ``2d 3h``, ``8h 27m``, ``45m``."""
    minutes = int(abs(seconds)) // 60
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {mins}m" if mins else f"{hours}h"
    return f"{mins}m"


def when_words(p: PromiseView, now: datetime) -> str:
    """The status cell: ``overdue 2d 3h``, ``in 5h``, ``kept``, ``deviated: late, price``."""
    if p.status == "overdue":
        late = short_span((now - p.due.moment).total_seconds())
        return f"overdue {late}" + (", remedied" if p.remedied else "")
    if p.status == "open":
        return f"in {short_span((p.due.moment - now).total_seconds())}"
    fixed = ", remedied" if p.remedied else ""
    if p.status == "deviated":
        return "deviated: " + ", ".join(p.outcome.deviation_kinds) + fixed
    return p.status + fixed


def due_cell(due: Due, tz: ZoneInfo, now: datetime) -> str:
    """A date-only due shows as the day alone (it ends with the day); a moment with its time."""
    text = describe_due(due, tz, now=now)
    return text.removesuffix(" (end of day)")


def row_style(p: PromiseView, now: datetime, tz: ZoneInfo) -> str:
    if p.status == "open":
        return STYLE["due"] if p.due.moment.astimezone(tz).date() == now.astimezone(tz).date() else ""
    return STYLE.get(p.status, "")


def promise_table(
    promises: Sequence[PromiseView], tz: ZoneInfo, now: datetime, title: str | None = None
) -> Table:
    table = Table(
        title=title,
        title_justify="left",
        title_style="bold",
        box=None,
        pad_edge=False,
        expand=True,
        header_style="bold underline",
    )
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("Due", no_wrap=True)
    table.add_column("Status", overflow="fold", max_width=16)
    table.add_column("Customer", overflow="fold", ratio=1, min_width=10)
    table.add_column("What", overflow="fold", ratio=2, min_width=14)
    table.add_column("Price", justify="right", no_wrap=True)
    table.add_column("Staff", overflow="fold")
    for p in promises:
        kind = "" if p.kind == "delivery" else f"({p.kind}) "
        qty = f"{p.quantity} × " if p.quantity != 1 else ""
        delivered = (
            f" [{p.outcome.delivered_quantity} delivered]"
            if 0 < p.outcome.delivered_quantity < p.quantity
            else ""
        )
        table.add_row(
            str(p.id),
            due_cell(p.due, tz, now),
            when_words(p, now) + (" ↻" if p.renegotiated else ""),
            p.customer or "",
            Text(f"{kind}{qty}{p.what}{delivered}"),
            format_money(p.price) if p.price else "",
            p.staff or "",
            style=row_style(p, now, tz),
        )
    return table


def show_promises(
    console: Console, fmt: Format, promises: Sequence[PromiseView], tz: ZoneInfo, now: datetime, *, empty: str
) -> None:
    if fmt is Format.json:
        write_json(console, [promise_dict(p, tz) for p in promises])
    elif fmt is Format.csv:
        write_csv(console, [promise_dict(p, tz) for p in promises])
    elif not promises:
        console.print(empty)
    else:
        console.print(promise_table(promises, tz, now))


def show_one(console: Console, fmt: Format, verb: str, p: PromiseView, tz: ZoneInfo, now: datetime) -> None:
    """A single promise after a change: one line for people, the whole promise for programs."""
    if fmt is Format.json:
        write_json(console, promise_dict(p, tz, detail=bool(p.history)))
    elif fmt is Format.csv:
        write_csv(console, [promise_dict(p, tz)])
    else:
        console.print(Text(confirmation(verb, p, tz, now), style=row_style(p, now, tz)))


def show_detail(console: Console, fmt: Format, p: PromiseView, tz: ZoneInfo, now: datetime) -> None:
    """``promise show``: the terms, the verdict, every delivery and the whole history."""
    if fmt is not Format.table:
        show_one(console, fmt, "show", p, tz, now)
        return
    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold")
    head.add_column(overflow="fold")
    head.add_row("Promise", f"#{p.id} ({p.kind})")
    head.add_row(
        "Status", Text(p.status + (" (renegotiated)" if p.renegotiated else ""), style=row_style(p, now, tz))
    )
    head.add_row("What", f"{p.quantity} × {p.what}" if p.quantity != 1 else p.what)
    if p.customer:
        head.add_row("Customer", p.customer)
    if p.price:
        head.add_row("Price", format_money(p.price))
    head.add_row("Due", describe_due(p.due, tz, now=now))
    if p.original_due:
        head.add_row("Originally due", describe_due(p.original_due, tz, now=now))
    if p.outcome.deviations or p.outcome.fulfilled_at:
        head.add_row("Verdict", verdict(p))
    elif p.status == "overdue":
        head.add_row("Verdict", when_words(p, now))
    if p.staff:
        head.add_row("Staff", p.staff)
    if p.tags:
        head.add_row("Tags", ", ".join(p.tags))
    if p.note:
        head.add_row("Note", p.note)
    if p.parent_id:
        head.add_row("Follows up", f"#{p.parent_id}")
    if p.remedied:
        head.add_row("Remedied", "yes")
    console.print(head)
    if p.deliveries:
        table = Table(title="Deliveries", title_justify="left")
        for name in ("At", "What", "Qty", "Charged", "Note"):
            table.add_column(name, overflow="fold")
        for d in p.deliveries:
            table.add_row(
                _local(d.at, tz),
                d.what,
                str(d.quantity),
                format_money(d.price) if d.price else "",
                d.note or "",
            )
        console.print(table)
    history = Table(title="History", title_justify="left")
    history.add_column("At", no_wrap=True)
    history.add_column("Event", no_wrap=True)
    history.add_column("Detail", overflow="fold")
    for e in p.history:
        history.add_row(_local(e.at, tz), e.event, e.detail or "")
    console.print(history)


def _local(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%a %d %b %Y %H:%M")


def show_due(console: Console, fmt: Format, report: DueReport, tz: ZoneInfo) -> None:
    """The morning list: overdue first, then due in the window; one line when there is nothing."""
    if fmt is Format.json:
        write_json(
            console,
            {
                "as_of": iso(report.as_of, tz),
                "overdue": [promise_dict(p, tz) for p in report.overdue],
                "due": [promise_dict(p, tz) for p in report.due],
            },
        )
        return
    if fmt is Format.csv:
        write_csv(console, [promise_dict(p, tz) for p in [*report.overdue, *report.due]])
        return
    until = describe_due(
        Due(report.until, report.until == end_of_day(report.until.astimezone(tz).date(), tz)),
        tz,
        now=report.as_of,
    )
    if not report.overdue and not report.due:
        console.print(f"Nothing overdue and nothing due until {until}.")
        return
    if report.overdue:
        console.print(
            promise_table(report.overdue, tz, report.as_of, title=f"Overdue: {len(report.overdue)}")
        )
    if report.due:
        console.print(
            promise_table(report.due, tz, report.as_of, title=f"Due until {until}: {len(report.due)}")
        )


# --- customers -------------------------------------------------------------------------------------

CUSTOMER_FIELDS = (
    "name",
    "email",
    "phone",
    "note",
    "promises",
    "kept",
    "deviated",
    "overdue",
    "open",
    "cancelled",
    "kept_rate",
)


def customer_dict(c: CustomerView, tz: ZoneInfo, *, history: bool = False) -> dict[str, Any]:
    from promisekeeper.report import rate

    t = c.tally
    out: dict[str, Any] = {
        "name": c.name,
        "email": c.email,
        "phone": c.phone,
        "note": c.note,
        "promises": t.promises,
        "kept": t.kept,
        "deviated": t.deviated,
        "overdue": t.overdue,
        "open": t.open,
        "cancelled": t.cancelled,
        "kept_rate": rate(t.kept, t.fulfilled),
    }
    if history:
        out["history"] = [promise_dict(p, tz) for p in c.history]
    return out


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def show_customers(console: Console, fmt: Format, customers: Sequence[CustomerView], tz: ZoneInfo) -> None:
    rows = [customer_dict(c, tz) for c in customers]
    if fmt is Format.json:
        write_json(console, rows)
    elif fmt is Format.csv:
        write_csv(console, rows, CUSTOMER_FIELDS)
    elif not rows:
        console.print("No customers yet; they are created by pk promise add -c NAME or pk customer add NAME.")
    else:
        table = Table(box=None, pad_edge=False, header_style="bold underline")
        for name, justify in (
            ("Customer", "left"),
            ("Email", "left"),
            ("Phone", "left"),
            ("Promises", "right"),
            ("Kept", "right"),
            ("Deviated", "right"),
            ("Overdue", "right"),
            ("Open", "right"),
            ("Kept rate", "right"),
        ):
            table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
        for r in rows:
            table.add_row(
                r["name"],
                r["email"] or "",
                r["phone"] or "",
                str(r["promises"]),
                str(r["kept"]),
                str(r["deviated"]),
                str(r["overdue"]),
                str(r["open"]),
                percent(r["kept_rate"]),
            )
        console.print(table)


def show_customer(console: Console, fmt: Format, c: CustomerView, tz: ZoneInfo, now: datetime) -> None:
    """A customer's contact details, track record and every promise made to them."""
    if fmt is Format.json:
        write_json(console, customer_dict(c, tz, history=True))
        return
    if fmt is Format.csv:
        write_csv(console, [promise_dict(p, tz) for p in c.history])
        return
    data = customer_dict(c, tz)
    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold")
    head.add_column(overflow="fold")
    head.add_row("Customer", c.name or "")
    for label, key in (("Email", "email"), ("Phone", "phone"), ("Note", "note")):
        if data[key]:
            head.add_row(label, data[key])
    head.add_row(
        "Track record",
        f"{plural(data['promises'], 'promise')}: {data['kept']} kept, {data['deviated']} deviated, "
        f"{data['overdue']} overdue, "
        f"{data['open']} open, {data['cancelled']} cancelled; kept rate {percent(data['kept_rate'])}",
    )
    console.print(head)
    if c.history:
        console.print(promise_table(c.history, tz, now, title="Promises"))


# --- stats -----------------------------------------------------------------------------------------

FIGURE_FIELDS = (
    "promises",
    "fulfilled",
    "kept",
    "deviated",
    "overdue",
    "open",
    "cancelled",
    "renegotiated",
    "kept_rate",
    "on_time_rate",
    "in_full_rate",
    "at_price_rate",
    "avg_late_seconds",
)


def figures_dict(f: Figures) -> dict[str, Any]:
    return {name: getattr(f, name) for name in FIGURE_FIELDS}


def bar(value: float | None, width: int = 8) -> Text:
    """A kept-rate bar for the terminal: filled share in green, the rest dim."""
    if value is None:
        return Text("")
    filled = round(value * width)
    return Text("█" * filled, style="green") + Text("░" * (width - filled), style="dim")


def show_stats(console: Console, fmt: Format, report: StatsReport, tz: ZoneInfo) -> None:
    period = {"since": iso(report.since, tz), "until": iso(report.until, tz), "by": report.by}
    if fmt is Format.json:
        write_json(
            console,
            {
                "period": period,
                **figures_dict(report.total),
                "by": [{"key": f.key, **figures_dict(f)} for f in report.rows],
            },
        )
        return
    rows = [
        {"key": "total", **figures_dict(report.total)},
        *({"key": f.key, **figures_dict(f)} for f in report.rows),
    ]
    if fmt is Format.csv:
        write_csv(console, rows, ("key", *FIGURE_FIELDS))
        return
    t = report.total
    since = f"since {report.since.astimezone(tz):%a %d %b %Y}" if report.since else "all time"
    if not t.promises:
        console.print(f"No promises settled or due {since}.")
        return
    late = f"; late ones by {describe_span(t.avg_late_seconds)} on average" if t.avg_late_seconds else ""
    console.print(
        Text(plural(t.promises, "promise"), style="bold")
        + Text(
            f" ({since}): {t.fulfilled} fulfilled — {t.kept} kept, {t.deviated} deviated; "
            f"{t.overdue} overdue, {t.cancelled} cancelled, {t.renegotiated} renegotiated{late}."
        )
    )
    table = Table(box=None, pad_edge=False, header_style="bold underline", padding=(0, 1, 0, 1))
    table.add_column((report.by or "period").capitalize(), overflow="fold", min_width=8)
    table.add_column("Promises", justify="right", no_wrap=True)
    table.add_column("Kept", no_wrap=True)
    for name in ("On time", "In full", "At price", "Overdue", "Avg late"):
        table.add_column(name, justify="right", no_wrap=True)
    for f in [report.total, *report.rows]:
        table.add_row(
            f.key if f.key is not None else "all",
            str(f.promises),
            Text(f"{percent(f.kept_rate):>4} ") + bar(f.kept_rate),
            percent(f.on_time_rate),
            percent(f.in_full_rate),
            percent(f.at_price_rate),
            str(f.overdue),
            short_span(f.avg_late_seconds) if f.avg_late_seconds else "",
            style="bold" if f is report.total else "",
        )
    console.print(table)


def plain_tables(sections: Sequence[tuple[str, Sequence[PromiseView]]], tz: ZoneInfo, now: datetime) -> str:
    """``pk due``'s tables as plain text 100 columns wide (for mail): long text wrapped, no escape codes."""
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=100,
        color_system=None,
        force_terminal=False,
        no_color=True,
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=False,
    )
    for title, promises in sections:
        console.print(promise_table(promises, tz, now, title=title))
        console.print()
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n"
