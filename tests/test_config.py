"""Settings: precedence of option > environment > config file > default, and one-sentence config errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from promisekeeper.config import default_db_path, load_settings
from promisekeeper.errors import BadInput


def env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"PK_CONFIG": str(tmp_path / "config.toml"), "XDG_DATA_HOME": str(tmp_path / "data"), **extra}


def write(tmp_path: Path, text: str) -> None:
    (tmp_path / "config.toml").write_text(text, encoding="utf-8")


def test_defaults_without_a_config_file(tmp_path: Path) -> None:
    s = load_settings(env(tmp_path, PK_TZ="Europe/Berlin"))
    assert s.db == str(default_db_path())
    assert s.db.endswith(str(Path("promisekeeper") / "promises.db"))
    assert (s.currency, s.date_order, s.country, s.followup_after) == ("EUR", "DMY", None, ("2bd", "30d"))
    assert s.timezone == "Europe/Berlin"
    assert s.config_path is None


def test_database_precedence_option_env_file(tmp_path: Path) -> None:
    write(tmp_path, '[database]\nurl = "/srv/file.db"\n')
    assert load_settings(env(tmp_path)).db == "/srv/file.db"
    assert load_settings(env(tmp_path, PK_DB="/srv/env.db")).db == "/srv/env.db"
    assert load_settings(env(tmp_path, PK_DB="/srv/env.db"), db="/srv/opt.db").db == "/srv/opt.db"


def test_shop_settings_and_pk_tz_override(tmp_path: Path) -> None:
    write(
        tmp_path,
        '[shop]\nname = "Trailhead"\ntimezone = "America/New_York"\ncurrency = "usd"\ncountry = "us"\n'
        'date_order = "mdy"\n[followup]\nafter = []\n[smtp]\nhost = "mail.example.com"\nport = 465\n'
        'security = "SSL"\nuser = "shop"\nfrom = "p@example.com"\n'
        'cafile = "/etc/ssl/mail.pem"\ntimeout = 5\n',
    )
    s = load_settings(env(tmp_path))
    assert (s.shop_name, s.timezone, s.currency, s.country, s.date_order) == (
        "Trailhead",
        "America/New_York",
        "USD",
        "US",
        "MDY",
    )
    assert s.followup_after == ()
    assert (s.smtp.host, s.smtp.port, s.smtp.security, s.smtp.user, s.smtp.sender) == (
        "mail.example.com",
        465,
        "ssl",
        "shop",
        "p@example.com",
    )
    assert (s.smtp.cafile, s.smtp.timeout) == ("/etc/ssl/mail.pem", 5.0)
    assert s.config_path == tmp_path / "config.toml"
    assert load_settings(env(tmp_path, PK_TZ="Asia/Tokyo")).timezone == "Asia/Tokyo"


@pytest.mark.parametrize(
    ("text", "extra", "message"),
    [
        ("[shop\nname = 1", {}, "not valid TOML"),
        ('[shop]\ntimezone = "Mars/Olympus"\n', {}, "unknown time zone"),
        ("", {"PK_TZ": "+01:00"}, "unknown time zone"),
        ('[shop]\ncurrency = "XYZ"\n', {}, "XYZ"),
        ('[shop]\ndate_order = "DDMM"\n', {}, "date_order"),
        ('[followup]\nafter = "2d"\n', {}, "followup.after"),
        ('[smtp]\nport = "587"\n', {}, "smtp.port"),
        ('[smtp]\nsecurity = "tls"\n', {}, "smtp.security"),
        ("[smtp]\ntimeout = 0\n", {}, "smtp.timeout"),
        ('shop = "x"\n', {}, "[shop]"),
        ("[shop]\nname = 3\n", {}, "shop.name"),
    ],
)
def test_config_errors_are_one_sentence_bad_input(
    tmp_path: Path, text: str, extra: dict[str, str], message: str
) -> None:
    write(tmp_path, text)
    with pytest.raises(BadInput) as err:
        load_settings(env(tmp_path, **extra))
    assert message in str(err.value)
    assert "\n" not in str(err.value)
