"""Settings: the config file (``PK_CONFIG`` or the user config dir) and ``PK_*`` variables, typed.

Precedence for every value: command-line option (applied by the CLI) > environment > config file > default.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from promisekeeper.errors import BadInput

if TYPE_CHECKING:
    from promisekeeper.when import OpeningHours

APP = "promisekeeper"
DATE_ORDERS = ("DMY", "MDY", "YMD")
SECURITIES = ("none", "starttls", "ssl")
HANDOVERS = ("pickup", "delivery")


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    host: str | None = None
    port: int | None = None
    security: str = "starttls"
    user: str | None = None
    password: str | None = None
    sender: str | None = None
    timeout: float = 30.0
    cafile: str | None = None


@dataclass(frozen=True, slots=True)
class Policy:
    """``[policy]``: the service levels, as DURATION texts read when used (``24bh``, ``4h``, ``1bd``).

    ``reply``/``callback``: by when such a promise is due when no due is given; ``warn_before``: a
    promise due within it is "due soon"; ``escalate_after``: overdue longer than this goes to the
    escalation address. ``None``: not set (no policy due; no "due soon" section)."""

    reply: str | None = None
    callback: str | None = None
    warn_before: str | None = None
    escalate_after: str = "1bd"

    def due_for(self, kind: str) -> str | None:
        """The policy's time for a promise of ``kind`` (``reply`` or ``callback``), or ``None``."""
        return self.reply if kind == "reply" else self.callback if kind == "callback" else None


@dataclass(frozen=True, slots=True)
class NotifySettings:
    """``[notify]``: who else ``pk notify`` tells: the escalation addresses and apprise URLs."""

    escalate_to: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SupplySettings:
    """``[supply]``: when a supplier's order puts a promise at risk, as DURATION texts (``1bd``, ``3bd``).

    ``margin``: an order's ETA later than the promise's due less this is a risk; ``no_eta_warn``: an
    order with no ETA this close to the due is a risk."""

    margin: str = "1bd"
    no_eta_warn: str = "3bd"


@dataclass(frozen=True, slots=True)
class MessageSettings:
    """``[messages]``: how customer messages go out beside ``[smtp]``.

    ``sms_url``: the apprise URL template for customers who consented to ``sms`` (``{phone}`` is
    replaced by the customer's number); ``reply_to``: the shop's address customers answer to
    (default: ``[smtp] from``)."""

    sms_url: str | None = None
    reply_to: str | None = None


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a run reads from its surroundings, read once: no other module looks at the environment."""

    db: str
    shop_name: str = "Our shop"
    timezone: str = "UTC"
    currency: str = "EUR"
    country: str | None = None
    date_order: str = "DMY"
    followup_after: tuple[str, ...] = ("2bd", "30d")
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    config_path: Path | None = None
    busy_timeout_ms: int = 15_000
    pinned_now: datetime | None = None  # PK_NOW: the clock pinned for tests and for replaying a morning
    smtp_env: Mapping[str, str] = field(default_factory=dict)  # PK_SMTP_PASSWORD, _CAFILE, _TIMEOUT
    hours: OpeningHours | None = None  # [shop.hours]; None: Mon-Fri 09:00-17:00
    policy: Policy = field(default_factory=Policy)
    notify: NotifySettings = field(default_factory=NotifySettings)
    handover: str = "pickup"  # [shop] handover: how goods reach the customer unless a promise says
    language: str = "en"  # [shop] language (BCP 47): the morning mail's, and a new customer's default
    supply: SupplySettings = field(default_factory=SupplySettings)
    messages: MessageSettings = field(default_factory=MessageSettings)
    templates_dir: Path | None = None  # <config dir>/templates: the shop's message templates

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def user_data_dir() -> Path:
    from platformdirs import user_data_path

    return user_data_path(APP, appauthor=False)


def default_db_path() -> Path:
    return user_data_dir() / "promises.db"


def demo_db_path() -> Path:
    """The demo's own database: never the user's real one."""
    return user_data_dir() / "demo.db"


def config_file(environ: Mapping[str, str]) -> Path:
    explicit = environ.get("PK_CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    from platformdirs import user_config_path

    return user_config_path(APP, appauthor=False) / "config.toml"


def system_timezone() -> str:
    """The system's IANA zone name (never a fixed offset); UTC when the system has none."""
    try:
        from tzlocal import get_localzone_name

        name = get_localzone_name()
    except Exception:  # tzlocal raises several kinds when /etc/localtime is odd; UTC is the safe answer
        return "UTC"
    return name or "UTC"


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(
            f"The config file {path} is not valid TOML ({exc}); fix it or point PK_CONFIG elsewhere."
        ) from exc
    except OSError as exc:
        raise BadInput(f"Cannot read the config file {path} ({exc.strerror}).") from exc


def _section(data: dict[str, Any], name: str, path: Path) -> dict[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise BadInput(f"The config file {path} has [{name}] as a value; it must be a table.")
    return value


def _text(section: dict[str, Any], key: str, where: str) -> str | None:
    value = section.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadInput(f"{where}.{key} in the config file must be a string, not {value!r}.")
    return value


def check_timezone(name: str, source: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise BadInput(
            f"{source} names an unknown time zone {name!r}; use an IANA name like Europe/Berlin."
        ) from exc
    return name


def debug_enabled(environ: Mapping[str, str] | None = None) -> bool:
    """``PK_DEBUG=1``: show tracebacks. Read before the settings, whose loading may itself fail."""
    return (os.environ if environ is None else environ).get("PK_DEBUG") == "1"


def busy_timeout(environ: Mapping[str, str]) -> int:
    """How long a command waits for another's write lock: 15 s, or ``PK_BUSY_TIMEOUT_MS`` milliseconds."""
    raw = environ.get("PK_BUSY_TIMEOUT_MS", "").strip()
    if not raw:
        return 15_000
    if not raw.isdigit() or len(raw) > 9:
        raise BadInput(f"PK_BUSY_TIMEOUT_MS={raw!r} must be a number of milliseconds, e.g. 15000.")
    return int(raw)


def load_settings(environ: Mapping[str, str] | None = None, *, db: str | None = None) -> Settings:
    """Read the config file and environment into ``Settings``; ``db`` is the ``--db`` option, if given."""
    env = os.environ if environ is None else environ
    from promisekeeper.when import pinned_clock

    pinned = pinned_clock(env.get("PK_NOW"))
    busy = busy_timeout(env)
    path = config_file(env)
    data = _read_toml(path)
    shop = _section(data, "shop", path)
    follow = _section(data, "followup", path)
    smtp = _section(data, "smtp", path)
    database = _section(data, "database", path)
    policy = _section(data, "policy", path)
    notify = _section(data, "notify", path)
    supply = _section(data, "supply", path)
    messages = _section(data, "messages", path)

    db_value = db or env.get("PK_DB") or _text(database, "url", "database") or str(default_db_path())

    if env.get("PK_TZ"):
        timezone = check_timezone(env["PK_TZ"], "PK_TZ")
    elif _text(shop, "timezone", "shop"):
        timezone = check_timezone(str(shop["timezone"]), f"The config file {path}")
    else:
        timezone = system_timezone()

    from promisekeeper.money import currency_code

    currency = currency_code(_text(shop, "currency", "shop") or "EUR")
    date_order = (_text(shop, "date_order", "shop") or "DMY").upper()
    if date_order not in DATE_ORDERS:
        raise BadInput(f"shop.date_order in the config file must be one of {', '.join(DATE_ORDERS)}.")
    country = _text(shop, "country", "shop")

    after = follow.get("after", ["2bd", "30d"])
    if not isinstance(after, list) or not all(isinstance(a, str) for a in after):
        raise BadInput('followup.after in the config file must be a list of durations, e.g. ["2bd", "30d"].')

    handover = (_text(shop, "handover", "shop") or "pickup").lower()
    if handover not in HANDOVERS:
        raise BadInput(f"shop.handover in the config file must be one of {', '.join(HANDOVERS)}.")
    language = check_language(_text(shop, "language", "shop") or "en", "shop.language in the config file")

    port = smtp.get("port")
    if port is not None and not isinstance(port, int):
        raise BadInput(f"smtp.port in the config file must be a whole number, not {port!r}.")
    timeout = smtp.get("timeout", 30)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout <= 600:
        raise BadInput(
            f"smtp.timeout in the config file must be a number of seconds up to 600, not {timeout!r}"
        )
    security = (_text(smtp, "security", "smtp") or "starttls").lower()
    if security not in SECURITIES:
        raise BadInput(f"smtp.security in the config file must be one of {', '.join(SECURITIES)}.")

    return Settings(
        db=db_value,
        shop_name=_text(shop, "name", "shop") or "Our shop",
        timezone=timezone,
        currency=currency,
        country=country.upper() if country else None,
        date_order=date_order,
        followup_after=tuple(after),
        smtp=SmtpSettings(
            host=_text(smtp, "host", "smtp"),
            port=port,
            security=security,
            user=_text(smtp, "user", "smtp"),
            password=_text(smtp, "password", "smtp"),
            sender=_text(smtp, "from", "smtp"),
            timeout=float(timeout),
            cafile=_text(smtp, "cafile", "smtp"),
        ),
        config_path=path if data else None,
        busy_timeout_ms=busy,
        pinned_now=pinned,
        smtp_env={k: v for k, v in env.items() if k.startswith("PK_SMTP_")},
        hours=_hours(shop, path),
        policy=Policy(
            reply=_text(policy, "reply", "policy"),
            callback=_text(policy, "callback", "policy"),
            warn_before=_text(policy, "warn_before", "policy"),
            escalate_after=_text(policy, "escalate_after", "policy") or "1bd",
        ),
        notify=NotifySettings(
            escalate_to=_texts(notify, "escalate_to", "notify"), urls=_texts(notify, "urls", "notify")
        ),
        handover=handover,
        language=language,
        supply=SupplySettings(
            margin=_text(supply, "margin", "supply") or "1bd",
            no_eta_warn=_text(supply, "no_eta_warn", "supply") or "3bd",
        ),
        messages=MessageSettings(
            sms_url=_text(messages, "sms_url", "messages"), reply_to=_text(messages, "reply_to", "messages")
        ),
        templates_dir=path.parent / "templates",
    )


_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")


def check_language(tag: str, source: str) -> str:
    """A BCP 47 language tag as typed (``de``, ``de-AT``, ``pt_BR``), normalised to ``de-AT``; the
    shape only: a language without a catalog speaks English (``messages`` says so)."""
    tag = tag.strip()
    if not _LANGUAGE.match(tag):
        raise BadInput(f"{source} {tag!r} is not a language tag; use one like en, de or de-AT.")
    first, *rest = re.split(r"[-_]", tag)
    return "-".join([first.lower(), *(r.upper() if len(r) == 2 else r for r in rest)])


def _hours(shop: dict[str, Any], path: Path) -> OpeningHours | None:
    """``[shop.hours]``, or ``None`` when the file names none (the default hours)."""
    if "hours" not in shop:
        return None
    table = shop["hours"]
    if not isinstance(table, dict):
        raise BadInput(f"The config file {path} has shop.hours as a value; it must be a table [shop.hours].")
    from promisekeeper.when import parse_hours

    return parse_hours(table, f"[shop.hours] in the config file {path}:")


def _texts(section: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    """A string or a list of strings (``escalate_to = "boss@example.com"`` or ``urls = ["ntfy://…"]``)."""
    value = section.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise BadInput(f"{where}.{key} in the config file must be a string or a list of strings.")
    return tuple(v.strip() for v in value)
