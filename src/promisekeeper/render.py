"""The only module that formats: a renderer chosen once from ``--format`` (table, json, csv) prints what
the store returned.

Renderers take plain data (``PromiseView``, ``DueReport``, …) and a ``Console``; nothing here touches
the database, and every sentence comes from ``words``. JSON keys are the reference's (docs/reference.md)
and stable.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table
from rich.text import Text

from promisekeeper import words
from promisekeeper.money import Money, format_amount, format_money
from promisekeeper.rules import rate
from promisekeeper.views import (
    CUSTOMER_FIELDS,
    FIGURE_FIELDS,
    PROMISE_FIELDS,
    CustomerView,
    DueReport,
    Figures,
    Format,
    Kind,
    PromiseView,
    StatsReport,
    Status,
)
from promisekeeper.when import Due, end_of_day

STYLE = {"overdue": "red", "due": "yellow", "kept": "green", "deviated": "magenta", "cancelled": "dim"}
FIELDS = PROMISE_FIELDS


def iso(moment: datetime | None, tz: ZoneInfo) -> str | None:
    return moment.astimezone(tz).isoformat() if moment is not None else None


def amount(money: Money | None) -> str | None:
    return format_amount(money) if money is not None else None


def promise_dict(
    p: PromiseView, tz: ZoneInfo, *, detail: bool = False, now: datetime | None = None
) -> dict[str, Any]:
    """A promise in the reference's JSON shape; ``detail`` adds ``deliveries`` and ``history``."""
    out: dict[str, Any] = {
        "id": p.id,
        "kind": str(p.kind),
        "customer": p.customer,
        "what": p.what,
        "quantity": p.quantity,
        "price": amount(p.price),
        "currency": p.price.currency if p.price else None,
        "due": iso(p.due.moment, tz),
        "date_only": p.due.date_only,
        "original_due": iso(p.original_due.moment, tz) if p.original_due else None,
        "renegotiated": p.renegotiated,
        "status": str(p.status),
        "deviations": [str(k) for k in p.outcome.deviation_kinds],
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
        shown = now or p.created
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
        out["history"] = [
            {
                "at": iso(e.at, tz),
                "event": e.kind,
                "detail": words.event_text(e, tz, shown, customer=p.customer),
                "data": e.data,
            }
            for e in p.history
        ]
    return out


def customer_dict(c: CustomerView, tz: ZoneInfo, *, history: bool = False) -> dict[str, Any]:
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


def figures_dict(f: Figures) -> dict[str, Any]:
    return {name: getattr(f, name) for name in FIGURE_FIELDS}


def csv_cell(value: Any) -> Any:
    """A value as a CSV cell: lists joined with ``;``, booleans as ``true``/``false``, nothing as empty."""
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else value


class Renderer(Protocol):
    """What every printing command hands its result to; one is chosen per run from ``--format``."""

    def promise(self, verb: str, p: PromiseView) -> None: ...
    def promises(self, promises: Sequence[PromiseView], *, empty: str) -> None: ...
    def detail(self, p: PromiseView) -> None: ...
    def due(self, report: DueReport) -> None: ...
    def customers(self, customers: Sequence[CustomerView]) -> None: ...
    def customer(self, c: CustomerView) -> None: ...
    def stats(self, report: StatsReport) -> None: ...


class JsonRenderer:
    def __init__(self, console: Console, tz: ZoneInfo, now: datetime) -> None:
        self.console, self.tz, self.now = console, tz, now

    def _write(self, data: Any) -> None:
        self.console.file.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")

    def promise(self, verb: str, p: PromiseView) -> None:
        self._write(promise_dict(p, self.tz, detail=bool(p.history), now=self.now))

    def promises(self, promises: Sequence[PromiseView], *, empty: str) -> None:
        self._write([promise_dict(p, self.tz) for p in promises])

    def detail(self, p: PromiseView) -> None:
        self._write(promise_dict(p, self.tz, detail=True, now=self.now))

    def due(self, report: DueReport) -> None:
        self._write(
            {
                "as_of": iso(report.as_of, self.tz),
                "overdue": [promise_dict(p, self.tz) for p in report.overdue],
                "due": [promise_dict(p, self.tz) for p in report.due],
            }
        )

    def customers(self, customers: Sequence[CustomerView]) -> None:
        self._write([customer_dict(c, self.tz) for c in customers])

    def customer(self, c: CustomerView) -> None:
        self._write(customer_dict(c, self.tz, history=True))

    def stats(self, report: StatsReport) -> None:
        period = {"since": iso(report.since, self.tz), "until": iso(report.until, self.tz), "by": report.by}
        self._write(
            {
                "period": period,
                **figures_dict(report.total),
                "by": [{"key": f.key, **figures_dict(f)} for f in report.rows],
            }
        )


class CsvRenderer:
    def __init__(self, console: Console, tz: ZoneInfo, now: datetime) -> None:
        self.console, self.tz, self.now = console, tz, now

    def _write(self, rows: Sequence[dict[str, Any]], fields: Sequence[str] = FIELDS) -> None:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(fields), extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: csv_cell(v) for k, v in row.items()})
        self.console.file.write(buf.getvalue())

    def promise(self, verb: str, p: PromiseView) -> None:
        self._write([promise_dict(p, self.tz)])

    def promises(self, promises: Sequence[PromiseView], *, empty: str) -> None:
        self._write([promise_dict(p, self.tz) for p in promises])

    def detail(self, p: PromiseView) -> None:
        self.promise("show", p)

    def due(self, report: DueReport) -> None:
        self.promises([*report.overdue, *report.due], empty="")

    def customers(self, customers: Sequence[CustomerView]) -> None:
        self._write([customer_dict(c, self.tz) for c in customers], CUSTOMER_FIELDS)

    def customer(self, c: CustomerView) -> None:
        self.promises(c.history, empty="")

    def stats(self, report: StatsReport) -> None:
        rows = [
            {"key": "total", **figures_dict(report.total)},
            *({"key": f.key, **figures_dict(f)} for f in report.rows),
        ]
        self._write(rows, ("key", *FIGURE_FIELDS))


def row_style(p: PromiseView, now: datetime, tz: ZoneInfo) -> str:
    if p.status == Status.open:
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
        table.add_row(
            str(p.id),
            words.due_cell(p.due, tz, now),
            words.when_words(p, now) + (f" {words.RENEGOTIATED_MARK}" if p.renegotiated else ""),
            p.customer or "",
            Text(words.what_cell(p)),
            format_money(p.price) if p.price else "",
            p.staff or "",
            style=row_style(p, now, tz),
        )
    return table


def _local(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%a %d %b %Y %H:%M")


def bar(value: float | None, width: int = 8) -> Text:
    """A kept-rate bar for the terminal: filled share in green, the rest dim."""
    if value is None:
        return Text("")
    filled = round(value * width)
    return Text("█" * filled, style="green") + Text("░" * (width - filled), style="dim")


class TableRenderer:
    """For people: Rich tables, one-line confirmations and a sentence where there is nothing to show."""

    def __init__(self, console: Console, tz: ZoneInfo, now: datetime) -> None:
        self.console, self.tz, self.now = console, tz, now

    def promise(self, verb: str, p: PromiseView) -> None:
        self.console.print(
            Text(words.confirmation(verb, p, self.tz, self.now), style=row_style(p, self.now, self.tz))
        )

    def promises(self, promises: Sequence[PromiseView], *, empty: str) -> None:
        if not promises:
            self.console.print(empty)
        else:
            self.console.print(promise_table(promises, self.tz, self.now))

    def detail(self, p: PromiseView) -> None:
        """``promise show``: the terms, the verdict, every delivery and the whole history."""
        tz, now = self.tz, self.now
        head = Table.grid(padding=(0, 2))
        head.add_column(style="bold")
        head.add_column(overflow="fold")
        head.add_row("Promise", f"#{p.id} ({p.kind})")
        head.add_row(
            "Status",
            Text(p.status + (" (renegotiated)" if p.renegotiated else ""), style=row_style(p, now, tz)),
        )
        head.add_row("What", words.item(p.what, p.quantity))
        if p.customer:
            head.add_row("Customer", p.customer)
        if p.price:
            head.add_row("Price", format_money(p.price))
        head.add_row("Due", words.describe_due(p.due, tz, now=now))
        if p.original_due:
            head.add_row("Originally due", words.describe_due(p.original_due, tz, now=now))
        if p.outcome.deviations or p.outcome.fulfilled_at:
            head.add_row("Verdict", words.verdict(p))
        elif p.status == Status.overdue:
            head.add_row("Verdict", words.when_words(p, now))
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
        self.console.print(head)
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
            self.console.print(table)
        history = Table(title="History", title_justify="left")
        history.add_column("At", no_wrap=True)
        history.add_column("Event", no_wrap=True)
        history.add_column("Detail", overflow="fold")
        for e in p.history:
            history.add_row(_local(e.at, tz), e.kind, words.event_text(e, tz, now, customer=p.customer))
        self.console.print(history)

    def due(self, report: DueReport) -> None:
        """The morning list: overdue first, then due in the window; one line when there is nothing."""
        tz = self.tz
        until = Due(report.until, report.until == end_of_day(report.until.astimezone(tz).date(), tz))
        if not report.overdue and not report.due:
            self.console.print(words.nothing_due(until, tz, report.as_of))
            return
        if report.overdue:
            title = words.overdue_title(len(report.overdue))
            self.console.print(promise_table(report.overdue, tz, report.as_of, title=title))
        if report.due:
            title = words.due_title(until, tz, report.as_of, len(report.due))
            self.console.print(promise_table(report.due, tz, report.as_of, title=title))

    def customers(self, customers: Sequence[CustomerView]) -> None:
        rows = [customer_dict(c, self.tz) for c in customers]
        if not rows:
            self.console.print(
                "No customers yet; they are created by pk promise add -c NAME or pk customer add NAME."
            )
            return
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
                words.percent(r["kept_rate"]),
            )
        self.console.print(table)

    def customer(self, c: CustomerView) -> None:
        """A customer's contact details, track record and every promise made to them."""
        from promisekeeper.rules import figures

        head = Table.grid(padding=(0, 2))
        head.add_column(style="bold")
        head.add_column(overflow="fold")
        head.add_row("Customer", c.name or "")
        for label, value in (("Email", c.email), ("Phone", c.phone), ("Note", c.note)):
            if value:
                head.add_row(label, value)
        head.add_row("Track record", words.track_record(figures(c.name, c.tally)))
        self.console.print(head)
        if c.history:
            self.console.print(promise_table(c.history, self.tz, self.now, title="Promises"))

    def stats(self, report: StatsReport) -> None:
        t = report.total
        if not t.promises:
            self.console.print(words.no_stats(report.since, self.tz))
            return
        count, rest = words.stats_summary(t, report.since, self.tz)
        self.console.print(Text(count, style="bold") + Text(rest))
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
                Text(f"{words.percent(f.kept_rate):>4} ") + bar(f.kept_rate),
                words.percent(f.on_time_rate),
                words.percent(f.in_full_rate),
                words.percent(f.at_price_rate),
                str(f.overdue),
                words.short_span(f.avg_late_seconds) if f.avg_late_seconds else "",
                style="bold" if f is report.total else "",
            )
        self.console.print(table)


_RENDERERS: dict[Format, type[JsonRenderer | CsvRenderer | TableRenderer]] = {
    Format.json: JsonRenderer,
    Format.csv: CsvRenderer,
    Format.table: TableRenderer,
}


def renderer(fmt: Format, console: Console, tz: ZoneInfo, now: datetime) -> Renderer:
    """The renderer for ``--format``, chosen once for the run."""
    return _RENDERERS[fmt](console, tz, now)


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


__all__ = ["Kind", "Renderer", "renderer"]
