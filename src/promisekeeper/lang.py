"""How pk speaks a language: its gettext catalog and how it writes a day, money and a length of time.

A ``Voice`` is one language. Its words come from the catalogs (``promisekeeper/locale/<lang>/LC_MESSAGES/
promisekeeper.mo``, or a shop's own in ``<config dir>/locale``), looked up with Babel's ``Translations``;
the English source text is the catalog's key, so English needs none. Its formats come from CLDR through
Babel (``Di., 24. Nov.``, ``240,00 €``, ``2 Tage 3 Stunden``), except English, which keeps pk's own house
style (``Tue 24 Nov``, ``€240.00``) without importing Babel at all: every command pays for this module,
only a message in another language pays for Babel.

A language without a catalog speaks English, with English formats, and says so (``fallback_from``).
``say``/``says`` are the extraction keywords (``pybabel extract -k say -k says:1,2``, see README).
"""

from __future__ import annotations

import gettext
import math
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from promisekeeper.money import Money, format_money

if TYPE_CHECKING:
    from promisekeeper.when import Due

DOMAIN = "promisekeeper"
CATALOGS = Path(__file__).with_name("locale")
"""The catalogs shipped in the package: ``<lang>/LC_MESSAGES/promisekeeper.po`` and its ``.mo``."""

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_UNITS = ("day", "hour", "minute")


@dataclass(frozen=True, slots=True)
class Voice:
    """One language's words and formats. ``tag`` is the BCP 47 tag it speaks (``de-AT``);
    ``fallback_from`` the tag that was asked for when it had no catalog (the voice is then English)."""

    tag: str = "en"
    fallback_from: str | None = None
    translations: gettext.NullTranslations = field(default_factory=gettext.NullTranslations)

    @property
    def english(self) -> bool:
        return self.tag.split("-")[0] == "en"

    @property
    def locale(self) -> str:
        """The tag as Babel names a locale (``de_AT``)."""
        return self.tag.replace("-", "_")

    # --- words ---------------------------------------------------------------------------------------

    def say(self, message: str, /, **values: Any) -> str:
        """The translation of ``message`` with its ``%(name)s`` places filled in."""
        said = self.translations.gettext(message)
        return said % values if values else said

    def says(self, one: str, many: str, n: int, /, **values: Any) -> str:
        """The singular or plural form for ``n`` (the language's own plural rule); ``%(n)s`` is ``n``."""
        return self.translations.ngettext(one, many, n) % {"n": self.number(n), **values}

    # --- formats -------------------------------------------------------------------------------------

    def number(self, n: int) -> str:
        """A count: ``1200`` in English (as pk writes quantities everywhere), ``1.200`` in German."""
        if self.english:
            return str(n)
        from babel.numbers import format_decimal

        return str(format_decimal(n, locale=self.locale))

    def money(self, money: Money) -> str:
        """``€240.00`` (pk's own); ``240,00 €`` (de), ``€ 240,00`` (de-AT)."""
        if self.english:
            return format_money(money)
        from babel.numbers import format_currency

        return str(format_currency(money.amount, money.currency, locale=self.locale))

    def day(self, moment: datetime | date, tz: ZoneInfo | None = None, *, year: bool = False) -> str:
        """``Tue 24 Nov`` / ``Di., 24. Nov.``; ``year``: ``Tue 24 Nov 2026`` / ``Di., 24. Nov. 2026``."""
        local = moment.astimezone(tz) if isinstance(moment, datetime) and tz is not None else moment
        if self.english:
            text = f"{DAY_NAMES[local.weekday()]} {local.day} {MONTH_NAMES[local.month - 1]}"
            return f"{text} {local.year}" if year else text
        from babel.dates import format_skeleton

        day = local.date() if isinstance(local, datetime) else local
        return str(format_skeleton("yMMMEd" if year else "MMMEd", day, locale=self.locale))

    def time(self, moment: datetime, tz: ZoneInfo) -> str:
        """``17:00`` (a 24-hour clock in English too, as everywhere in pk); the locale's short time."""
        local = moment.astimezone(tz)
        if self.english:
            return f"{local:%H:%M}"
        from babel.dates import format_time

        return str(format_time(local.time(), "short", locale=self.locale))

    def moment(self, moment: datetime, tz: ZoneInfo) -> str:
        """A moment with its year, for history and mail: ``Tue 24 Nov 2026 17:00``."""
        return self.say("%(day)s %(time)s", day=self.day(moment, tz, year=True), time=self.time(moment, tz))

    def due(self, due: Due, tz: ZoneInfo, *, now: datetime | None = None) -> str:
        """``Tue 24 Nov (end of day)``, ``Tue 24 Nov 17:00``; the year only when ``now`` is another year's."""
        local = due.moment.astimezone(tz)
        year = now is not None and now.astimezone(tz).year != local.year
        day = self.day(local, year=year)
        if due.date_only:
            return self.say("%(day)s (end of day)", day=day)
        return self.say("%(day)s %(time)s", day=day, time=self.time(local, tz))

    def span(self, seconds: float) -> str:
        """A length of time the way a person says it: ``2 days 3 hours``, ``45 minutes``.

        At most the two largest units (the second only when not zero), truncated to whole minutes; the
        sign is ignored, so a lateness and an earliness read the same."""
        if math.isnan(seconds):
            return self.say("an unknown time")
        if math.isinf(seconds):
            return self.say("forever")
        minutes = int(abs(seconds)) // 60
        if minutes == 0:
            return self.say("less than a minute")
        days, rest = divmod(minutes, 24 * 60)
        hours, mins = divmod(rest, 60)
        parts = [(n, unit) for n, unit in zip((days, hours, mins), _UNITS, strict=True)]
        while parts[0][0] == 0:
            parts.pop(0)
        shown = [parts[0]] + [p for p in parts[1:2] if p[0]]
        return " ".join(self._unit(n, unit) for n, unit in shown)

    def _unit(self, n: int, unit: str) -> str:
        if self.english:
            return f"{n} {unit}{'' if n == 1 else 's'}"
        from babel.units import format_unit

        return str(format_unit(n, f"duration-{unit}", length="long", locale=self.locale))


ENGLISH = Voice()
"""pk's own language: the source text, in its house style."""


def catalog_languages(*folders: Path | None) -> list[str]:
    """The languages with a compiled catalog in ``folders`` (and the package), as tags: ``['de']``."""
    found = {
        mo.parent.parent.name.replace("_", "-")
        for folder in (*folders, CATALOGS)
        if folder is not None and folder.is_dir()
        for mo in folder.glob(f"*/LC_MESSAGES/{DOMAIN}.mo")
    }
    return sorted(found)


def voice(tag: str | None, *, shop_catalogs: Path | None = None, formats_only: bool = False) -> Voice:
    """The voice of language ``tag`` (``de``, ``de-AT``; ``None``: English).

    Its catalog is looked up in ``shop_catalogs`` first (a shop's own language), then in the package,
    for the tag and then its language alone (``de-AT`` uses ``de``). Without one the voice is English
    and ``fallback_from`` names the tag, unless ``formats_only``: a shop's own template in a language pk
    does not speak still gets that language's dates and money (its words are the shop's)."""
    if tag is None or tag.split("-")[0].lower() == "en":
        return ENGLISH if tag in (None, "en") else Voice(tag=tag)
    return _voice(tag, shop_catalogs, formats_only)


@cache
def _voice(tag: str, shop_catalogs: Path | None, formats_only: bool) -> Voice:
    from babel import Locale, UnknownLocaleError

    try:
        Locale.parse(tag.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Voice(fallback_from=tag)  # CLDR knows nothing of it: English words and formats
    translations: gettext.NullTranslations | None = None
    for folder in (shop_catalogs, CATALOGS):
        if folder is not None and folder.is_dir():
            translations = _catalog(folder, tag)
            if translations is not None:
                break
    if translations is None:
        return Voice(tag=tag) if formats_only else Voice(fallback_from=tag)
    return Voice(tag=tag, translations=translations)


def _catalog(folder: Path, tag: str) -> gettext.NullTranslations | None:
    """The compiled catalog for ``tag`` in ``folder``, or ``None`` (gettext tries ``de_AT`` then ``de``)."""
    from babel.support import Translations

    found = Translations.load(str(folder), [tag.replace("-", "_")], DOMAIN)
    return found if isinstance(found, Translations) else None
