"""The catalogs and formats of ``lang``: every message a customer reads has its German translation, the
compiled catalog is its source's, and days, money and lengths of time are written the customer's way."""

from __future__ import annotations

import gettext
import io
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from promisekeeper import lang, words
from promisekeeper.money import Money
from promisekeeper.when import Due

BERLIN = ZoneInfo("Europe/Berlin")
PACKAGE = Path(lang.__file__).parent
KEYWORDS = {"say": None, "says": (1, 2)}  # the README's pybabel extract -k say -k says:1,2
LANGUAGES = ["de"]


def _source_messages() -> set[str]:
    """Every msgid in the package's code, found as ``pybabel extract`` finds it."""
    found = set()
    for _, _, message, _, _ in extract_from_dir(str(PACKAGE), keywords=KEYWORDS):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def _catalog(language: str) -> Catalog:
    with (PACKAGE / "locale" / language / "LC_MESSAGES" / "promisekeeper.po").open("rb") as fh:
        return read_po(fh)


def test_the_package_ships_exactly_the_catalogs_it_speaks() -> None:
    assert lang.catalog_languages() == LANGUAGES


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_has_a_translation(language: str) -> None:
    source = _source_messages()
    assert len(source) > 40  # the extraction found the customer messages (not an empty match)
    catalog = _catalog(language)
    untranslated = []
    for msgid in sorted(source):
        entry = catalog.get(msgid)
        strings = entry.string if entry is not None else ""
        forms = strings if isinstance(strings, tuple) else (strings,)
        if entry is None or entry.fuzzy or not all(forms):
            untranslated.append(msgid)
    assert untranslated == []
    stale = sorted(str(m.id[0] if isinstance(m.id, tuple) else m.id) for m in catalog if m.id)
    assert set(stale) == source  # no translation of a message the code no longer says (pybabel update)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_translations_keep_every_placeholder(language: str) -> None:
    problems = [(m.id, errors) for m, errors in _catalog(language).check() if errors]
    assert problems == []


def test_the_template_is_the_code_s() -> None:
    with (PACKAGE / "locale" / "promisekeeper.pot").open("rb") as fh:
        template = read_po(fh)
    assert {m.id[0] if isinstance(m.id, tuple) else m.id for m in template if m.id} == _source_messages()


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalog_is_its_source(language: str) -> None:
    """The shipped .mo says what its .po says (pybabel compile was run after the last edit)."""
    folder = PACKAGE / "locale" / language / "LC_MESSAGES"
    compiled = io.BytesIO()
    write_mo(compiled, _catalog(language))
    compiled.seek(0)
    expected = gettext.GNUTranslations(compiled)
    with (folder / "promisekeeper.mo").open("rb") as fh:
        shipped = gettext.GNUTranslations(fh)
    assert shipped._catalog == expected._catalog  # type: ignore[attr-defined]


# --- the voices -----------------------------------------------------------------------------------


def test_german_days_money_and_spans() -> None:
    de = lang.voice("de")
    tue = datetime(2026, 11, 24, 17, 0, tzinfo=BERLIN)
    assert de.day(tue, BERLIN) == "Di., 24. Nov."
    assert de.day(date(2026, 11, 24), year=True) == "Di., 24. Nov. 2026"
    assert de.due(Due(tue, date_only=False), BERLIN) == "Di., 24. Nov., 17:00 Uhr"
    assert de.due(Due(tue, date_only=True), BERLIN) == "Di., 24. Nov."
    assert de.due(Due(tue, date_only=True), BERLIN, now=datetime(2025, 1, 1, tzinfo=BERLIN)) == (
        "Di., 24. Nov. 2026"
    )
    assert de.money(Money(Decimal("240"), "EUR")) == "240,00\u00a0€"
    assert de.money(Money(Decimal("1234.5"), "USD")) == "1.234,50\u00a0$"
    assert de.number(1200) == "1.200"
    assert de.span(2 * 86400 + 3 * 3600) == "2 Tage 3 Stunden"
    assert de.span(3600 + 60) == "1 Stunde 1 Minute"
    assert de.say("Hello,") == "Guten Tag,"
    assert lang.voice("de-AT").money(Money(Decimal("240"), "EUR")) == "€\u00a0240,00"
    assert lang.voice("de-AT").say("Hello,") == "Guten Tag,"  # the German catalog serves de-AT


@pytest.mark.parametrize(
    "seconds",
    [0, 59, 60, 3600, 86400 + 60, 2 * 86400 + 3 * 3600 + 7, 400 * 86400, float("nan"), float("inf")],
)
def test_english_is_pks_own_house_style(seconds: float) -> None:
    en = lang.ENGLISH
    moment = datetime(2026, 11, 24, 17, 5, tzinfo=BERLIN)
    assert en.day(moment, BERLIN) == "Tue 24 Nov"
    assert en.moment(moment, BERLIN) == words.describe_moment(moment, BERLIN) == "Tue 24 Nov 2026 17:05"
    assert en.due(Due(moment, True), BERLIN) == "Tue 24 Nov (end of day)"
    assert en.money(Money(Decimal("240"), "EUR")) == "€240.00"
    assert en.span(seconds) == words.describe_span(seconds)
    assert lang.voice(None) is lang.voice("en") is en


def test_plurals_follow_the_language() -> None:
    de = lang.voice("de")
    one = "We can deliver it to you by %(day)s."
    many = "We can deliver them to you by %(day)s."
    assert lang.ENGLISH.says(one, many, 1, day="Tue") == "We can deliver it to you by Tue."
    assert lang.ENGLISH.says(one, many, 2, day="Tue") == "We can deliver them to you by Tue."
    assert de.says(one, many, 2, day="Di.") == "Wir können Ihnen die Ware bis Di. liefern."


@pytest.mark.parametrize("tag", ["fr", "pt-BR", "xx-Nowhere"])
def test_a_language_without_a_catalog_speaks_english(tag: str) -> None:
    voice = lang.voice(tag)
    assert voice.fallback_from == tag
    assert voice.english
    assert voice.say("Hello,") == "Hello,"
    assert voice.money(Money(Decimal("240"), "EUR")) == "€240.00"


def test_a_shop_template_in_a_language_without_a_catalog_gets_its_formats() -> None:
    voice = lang.voice("fr", formats_only=True)
    assert voice.fallback_from is None
    assert voice.day(date(2026, 11, 24)) == "mar. 24 nov."
    assert voice.say("Hello,") == "Hello,"  # the words are the shop's template's, pk's stay English


def test_a_shops_own_catalog_is_found_first(tmp_path: Path) -> None:
    """A shop adds a language with pybabel init/compile into <config dir>/locale (README)."""
    catalog = Catalog(locale="nl", domain="promisekeeper")
    catalog.add("Hello,", "Goedendag,")
    folder = tmp_path / "locale" / "nl" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with (folder / "promisekeeper.mo").open("wb") as fh:
        write_mo(fh, catalog)
    voice = lang.voice("nl", shop_catalogs=tmp_path / "locale")
    assert voice.fallback_from is None
    assert voice.say("Hello,") == "Goedendag,"
    assert voice.say("Thank you for your custom.") == "Thank you for your custom."  # not translated yet
    assert voice.day(date(2026, 11, 24)) == "di 24 nov"
    assert lang.catalog_languages(tmp_path / "locale") == ["de", "nl"]


def test_the_morning_mails_words_in_german() -> None:
    de = lang.voice("de")
    at = datetime(2026, 11, 22, 7, 30, tzinfo=BERLIN)
    assert words.report_subject("Laden", 3, 2, 5, at_risk=1, voice=de) == (
        "Laden: 3 überfällig, 1 gefährdet, 2 bald fällig, 5 heute fällig"
    )
    assert (
        words.report_subject("Shop", 3, 2, 5, at_risk=1)
        == "Shop: 3 overdue, 1 at risk, 2 due soon, 5 due today"
    )
    assert words.escalation_title(2, "1bd", de) == "Mehr als einen Werktag überfällig: 2"
    assert words.escalation_title(2, "8bh") == "Overdue more than 8 business hours: 2"
    assert words.report_intro(at, BERLIN, only_new=True, since=None, soon=True, risk=True) == (
        "As of Sun 22 Nov 2026 07:30 (Europe/Berlin): the overdue promises (no report has been mailed "
        "before), and the promises at risk or due soon that were not yet reported."
    )
    assert words.report_intro(at, BERLIN, only_new=False, since=None, soon=True, ready=True, voice=de) == (
        "Stand So., 22. Nov. 2026, 07:30 Uhr (Europe/Berlin): zuerst die überfälligen Zusagen "
        "(die am längsten überfälligen zuerst), dann die bald fälligen, dann die heute fälligen, dann die "
        "Abholungen, die auf ihre Kunden warten."
    )
