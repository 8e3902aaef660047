"""PRICE grammar and money formatting: exact Decimals, ISO 4217 codes, symbols, and any text."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promisekeeper.errors import BadInput
from promisekeeper.money import (
    Money,
    currency_code,
    currency_digits,
    format_amount,
    format_money,
    parse_price,
)

GOOD = [
    # (text, default currency, amount, currency)
    ("240", "EUR", "240.00", "EUR"),
    ("240.00", "EUR", "240.00", "EUR"),
    ("240.5", "EUR", "240.50", "EUR"),
    ("0", "EUR", "0.00", "EUR"),
    ("0.01", "EUR", "0.01", "EUR"),
    ("007", "EUR", "7.00", "EUR"),
    ("  240  ", "EUR", "240.00", "EUR"),
    ("+240", "EUR", "240.00", "EUR"),
    ("€240", "EUR", "240.00", "EUR"),
    ("€ 240", "USD", "240.00", "EUR"),
    ("240€", "USD", "240.00", "EUR"),
    ("240 €", "EUR", "240.00", "EUR"),
    ("240 EUR", "USD", "240.00", "EUR"),
    ("EUR 240.50", "USD", "240.50", "EUR"),
    ("eur 240.50", "USD", "240.50", "EUR"),
    ("240eur", "USD", "240.00", "EUR"),
    ("€240 EUR", "USD", "240.00", "EUR"),
    ("1,234.50", "EUR", "1234.50", "EUR"),
    ("1,234,567", "EUR", "1234567.00", "EUR"),
    ("€1,234.50", "EUR", "1234.50", "EUR"),
    ("$19.99", "EUR", "19.99", "USD"),
    ("$19.99", "USD", "19.99", "USD"),
    ("US$19.99", "CAD", "19.99", "USD"),
    ("£5", "EUR", "5.00", "GBP"),
    ("5 gbp", "EUR", "5.00", "GBP"),
    ("¥1200", "EUR", "1200", "JPY"),
    ("¥1,200", "EUR", "1200", "JPY"),
    ("1200 JPY", "EUR", "1200", "JPY"),
    ("1200", "JPY", "1200", "JPY"),
    ("BHD 1.250", "EUR", "1.250", "BHD"),
    ("1.25", "BHD", "1.250", "BHD"),
    ("KWD 0.005", "EUR", "0.005", "KWD"),
    ("CHF 12.50", "EUR", "12.50", "CHF"),
    ("xof 1200", "EUR", "1200", "XOF"),
    ("999,999,999,999,999.99", "EUR", "999999999999999.99", "EUR"),
    ("999999999999999", "EUR", "999999999999999.00", "EUR"),
    # `$` means the default currency when that is a dollar written `$` at home.
    ("$5", "CAD", "5.00", "CAD"),
    ("$5", "AUD", "5.00", "AUD"),
    ("$5", "NZD", "5.00", "NZD"),
    ("$5", "SGD", "5.00", "SGD"),
    ("$5", "HKD", "5.00", "HKD"),
    ("$5", "MXN", "5.00", "MXN"),
    ("$5", "EUR", "5.00", "USD"),
    ("$5", "GBP", "5.00", "USD"),
    ("$5 CAD", "EUR", "5.00", "CAD"),
    ("AUD $5", "EUR", "5.00", "AUD"),
    ("$5 USD", "CAD", "5.00", "USD"),
    ("$ 5 $", "CAD", "5.00", "CAD"),
    ("EUR € 5", "USD", "5.00", "EUR"),
    ("CA$5", "EUR", "5.00", "CAD"),
    ("ca$5", "EUR", "5.00", "CAD"),
    ("A$5", "EUR", "5.00", "AUD"),
    ("NZ$5", "EUR", "5.00", "NZD"),
    ("HK$5", "EUR", "5.00", "HKD"),
    ("R$5", "EUR", "5.00", "BRL"),
    ("¥5", "CNY", "5.00", "CNY"),
    ("CN¥5", "EUR", "5.00", "CNY"),
    ("£5", "GIP", "5.00", "GIP"),
    ("₹500", "EUR", "500.00", "INR"),
    ("₩5000", "EUR", "5000", "KRW"),
    ("₪5", "EUR", "5.00", "ILS"),
    ("₽5", "EUR", "5.00", "RUB"),
    ("240 zł", "EUR", "240.00", "PLN"),
    ("5", "eur", "5.00", "EUR"),
]


@pytest.mark.parametrize(("text", "default", "amount", "currency"), GOOD)
def test_prices(text: str, default: str, amount: str, currency: str) -> None:
    money = parse_price(text, default_currency=default)
    assert money == Money(Decimal(amount), currency)
    assert str(money.amount) == amount, "padded to the currency's decimals"
    assert money.currency == currency


BAD = [
    # (text, default currency, part of the message)
    ("1.234", "EUR", '"1.234" has too many decimals: EUR has 2 decimals.'),
    ("240.000", "EUR", "too many decimals"),
    ("5.5", "JPY", '"5.5" has too many decimals: JPY has no decimals.'),
    ("5.5 JPY", "EUR", "JPY has no decimals"),
    ("¥5.5", "EUR", "JPY has no decimals"),
    ("1.2345 BHD", "EUR", "BHD has 3 decimals"),
    ("-5", "EUR", 'A price cannot be negative: "-5"'),
    ("-€5", "EUR", "cannot be negative"),
    ("€-5", "EUR", "cannot be negative"),
    ("−5", "EUR", "cannot be negative"),  # U+2212 MINUS SIGN
    ("nan", "EUR", 'Cannot read "nan" as a price; use e.g. 240, 240.00, €240, 240 EUR, EUR 240.50'),
    ("NaN", "EUR", "Cannot read"),
    ("inf", "EUR", "Cannot read"),
    ("Infinity", "EUR", "Cannot read"),
    ("1e3", "EUR", "Cannot read"),
    ("1E3", "EUR", "Cannot read"),
    ("abc", "EUR", "Cannot read"),
    ("EUR", "EUR", "Cannot read"),
    ("€", "EUR", "Cannot read"),
    ("", "EUR", "No price given"),
    ("   ", "EUR", "No price given"),
    ("240.", "EUR", "Cannot read"),
    (".50", "EUR", "Cannot read"),
    ("1..2", "EUR", "Cannot read"),
    ("1.2.3", "EUR", "Cannot read"),
    ("240 XYZ", "EUR", 'Unknown currency "XYZ"; use an ISO 4217 code such as EUR, USD, GBP or JPY.'),
    ("XXX 5", "EUR", "Unknown currency"),
    ("XAU 5", "EUR", "Unknown currency"),
    ("DEM 5", "EUR", "Unknown currency"),  # historic: no longer accepted as input
    ("5 euros", "EUR", "Unknown currency"),
    ("€5 USD", "EUR", "names two currencies (EUR and USD); give one."),
    ("$5 EUR", "EUR", "names two currencies"),
    ("CA$5 AUD", "EUR", "names two currencies"),
    ("£5 ¥", "EUR", "names two currencies"),
    ("12,34", "EUR", "use a dot for decimals, e.g. 240.50."),
    ("240,50", "EUR", "use a dot for decimals"),
    ("1,23,456", "EUR", "Cannot read"),
    ("1234,567", "EUR", "Cannot read"),
    (",123", "EUR", "Cannot read"),
    ("1,234.5.6", "EUR", "Cannot read"),
    ("1 234", "EUR", "Cannot read"),
    ("1000000000000000", "EUR", "is too large a price; use at most 15 digits"),
    ("9" * 40, "EUR", "too large a price"),
    ("9" * 70, "EUR", "Cannot read"),
    ("€5 EUR USD", "EUR", "names two currencies (EUR and USD)"),
    ("$ CAD 5 AUD", "EUR", "names two currencies (AUD and CAD)"),
    ("£5 $", "EUR", "names two currencies"),
    ("5 @", "EUR", "Cannot read"),
    ("(5)", "EUR", "Cannot read"),
    ("٣", "EUR", "Cannot read"),  # Arabic-Indic digit: digits are ASCII
    ("5", "XYZ", 'Unknown currency "XYZ"'),
]


@pytest.mark.parametrize(("text", "default", "message"), BAD)
def test_bad_prices_say_what_was_wrong_in_one_sentence(text: str, default: str, message: str) -> None:
    with pytest.raises(BadInput) as caught:
        parse_price(text, default_currency=default)
    said = str(caught.value)
    assert message in said
    assert "\n" not in said
    assert said.endswith(".")


@pytest.mark.parametrize(
    ("text", "code"),
    [("EUR", "EUR"), ("eur", "EUR"), (" usd ", "USD"), ("JPY", "JPY"), ("BHD", "BHD"), ("XOF", "XOF")],
)
def test_currency_code_accepts_current_iso_4217_codes(text: str, code: str) -> None:
    assert currency_code(text) == code


@pytest.mark.parametrize("text", ["XYZ", "", "EU", "EURO", "€", "E1R", "XXX", "XTS", "XAU", "DEM", "ÉUR"])
def test_currency_code_refuses_anything_else(text: str) -> None:
    with pytest.raises(BadInput, match="Unknown currency"):
        currency_code(text)


@pytest.mark.parametrize(
    ("code", "digits"),
    [
        ("EUR", 2),
        ("USD", 2),
        ("GBP", 2),
        ("JPY", 0),
        ("KRW", 0),
        ("BHD", 3),
        ("KWD", 3),
        ("jpy", 0),
        ("DEM", 2),
    ],
)
def test_currency_digits(code: str, digits: int) -> None:
    assert currency_digits(code) == digits


def test_currency_digits_of_an_unknown_code_is_bad_input() -> None:
    with pytest.raises(BadInput, match="Unknown currency"):
        currency_digits("XYZ")


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        ("240.00", "EUR", 24000),
        ("240", "EUR", 24000),
        ("0.01", "EUR", 1),
        ("0", "EUR", 0),
        ("1200", "JPY", 1200),
        ("1.250", "BHD", 1250),
        ("-5.25", "EUR", -525),
        ("999999999999999.99", "EUR", 99999999999999999),
    ],
)
def test_minor_units_round_trip(amount: str, currency: str, minor: int) -> None:
    money = Money(Decimal(amount), currency)
    assert money.minor == minor
    assert isinstance(money.minor, int)
    assert Money.from_minor(minor, currency) == money
    assert str(Money.from_minor(minor, currency).amount) == str(money.amount)


def test_money_is_padded_and_upper_cased() -> None:
    money = Money(Decimal("5"), "eur")
    assert (str(money.amount), money.currency) == ("5.00", "EUR")
    assert money == Money(Decimal("5.00"), "EUR")
    assert hash(money) == hash(Money(Decimal("5.00"), "EUR"))


@pytest.mark.parametrize(
    ("amount", "currency", "error"),
    [
        (5.5, "EUR", TypeError),
        (Decimal("NaN"), "EUR", ValueError),
        (Decimal("Infinity"), "EUR", ValueError),
        (Decimal("1.234"), "EUR", ValueError),
        (Decimal("5.5"), "JPY", ValueError),
        (Decimal("1E+40"), "EUR", ValueError),
    ],
)
def test_money_refuses_floats_and_over_precise_amounts(amount: object, currency: str, error: type) -> None:
    with pytest.raises(error):
        Money(amount, currency)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("amount", "currency", "for_people", "plain"),
    [
        ("240", "EUR", "€240.00", "240.00"),
        ("1234.5", "EUR", "€1,234.50", "1234.50"),
        ("19.99", "USD", "$19.99", "19.99"),
        ("5", "GBP", "£5.00", "5.00"),
        ("1200", "JPY", "¥1,200", "1200"),
        ("1.25", "BHD", "BHD 1.250", "1.250"),
        ("1234.5", "BHD", "BHD 1,234.500", "1234.500"),
        ("12.5", "CHF", "CHF 12.50", "12.50"),
        ("5", "CAD", "CA$5.00", "5.00"),
        ("1234567.89", "EUR", "€1,234,567.89", "1234567.89"),
        ("0", "EUR", "€0.00", "0.00"),
        ("-5", "EUR", "-€5.00", "-5.00"),
        ("999999999999999.99", "EUR", "€999,999,999,999,999.99", "999999999999999.99"),
    ],
)
def test_formatting(amount: str, currency: str, for_people: str, plain: str) -> None:
    money = Money(Decimal(amount), currency)
    assert format_money(money) == for_people
    assert format_amount(money) == plain


# --- properties ------------------------------------------------------------------------------

CURRENCIES = st.sampled_from(["EUR", "JPY", "BHD", "USD", "GBP", "CAD", "CHF", "KWD", "XOF", "INR", "CNY"])
PIECES = st.sampled_from(
    [
        "€", "$", "£", "¥", "CA$", "US$", "EUR", "eur", "USD", "JPY", "XYZ", "-", "+", "−", ",", ".", " ",
        "0", "1", "12", "123", "1234", "9999999999999999", "00", "e", "nan", "inf", "(", ")",
    ]
)  # fmt: skip


def amounts(digits: int) -> st.SearchStrategy[Decimal]:
    return st.decimals(
        min_value=0, max_value=Decimal(10**15) - 1, places=digits, allow_nan=False, allow_infinity=False
    )


@settings(max_examples=200, deadline=None)
@given(text=st.text(), default=CURRENCIES)
def test_any_text_is_money_or_bad_input(text: str, default: str) -> None:
    try:
        money = parse_price(text, default_currency=default)
    except BadInput:
        return
    assert money.amount >= 0


@settings(max_examples=300, deadline=None)
@given(pieces=st.lists(PIECES, max_size=6), default=CURRENCIES)
def test_price_like_text_is_money_or_bad_input(pieces: list[str], default: str) -> None:
    try:
        money = parse_price("".join(pieces), default_currency=default)
    except BadInput:
        return
    assert money.amount >= 0
    assert money.minor >= 0


@settings(max_examples=200, deadline=None)
@given(data=st.data(), currency=st.sampled_from(["EUR", "JPY", "BHD"]))
def test_format_amount_reads_back_as_the_same_money(data: st.DataObject, currency: str) -> None:
    amount = data.draw(amounts(currency_digits(currency)))
    money = Money(amount, currency)
    assert parse_price(format_amount(money), default_currency=currency) == money
    assert Money.from_minor(money.minor, currency) == money


@settings(max_examples=200, deadline=None)
@given(data=st.data(), currency=CURRENCIES)
def test_format_money_reads_back_as_the_same_money(data: st.DataObject, currency: str) -> None:
    money = Money(data.draw(amounts(currency_digits(currency))), currency)
    assert parse_price(format_money(money), default_currency=currency) == money
    assert parse_price(format_money(money), default_currency="EUR") == money
