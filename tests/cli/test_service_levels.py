"""Service levels end to end (SPEC "Service levels"; docs/reference.md): ``pk contact``, replies and
callbacks due by ``[policy]``, "Due soon" in ``pk due`` and the mail, escalation to a second address
(once, with ``--only-new``), the sent-log per recipient, and ``pk notify --url`` through apprise to a
real HTTP receiver on 127.0.0.1. The flows a shop relies on run through the installed ``pk``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.conftest import Pk, env_in
from tests.cli.test_notify import FROM, TO, Server, smtp  # noqa: F401  (the SMTP server fixture)
from tests.conftest import SQL
from tests.test_apprise import Receiver, dead_port, receiver  # noqa: F401  (the HTTP receiver fixture)

PK = Path(sys.executable).parent / "pk"
BOSS = "boss@trailhead.example"
FRIDAY_EVENING = "2026-11-27T18:30:00+01:00"  # Friday 27 Nov 2026, after closing
POLICY = """\
[shop]
country = "DE"
[policy]
reply = "24bh"
callback = "4bh"
warn_before = "2bh"
escalate_after = "1bd"
"""


def write_config(env: dict[str, str], text: str = POLICY) -> None:
    Path(env["PK_CONFIG"]).write_text(text, encoding="utf-8")


@pytest.fixture
def policy_pk(cli_env: dict[str, str], pk: Pk) -> Pk:
    write_config(cli_env)
    return pk


def installed(env: dict[str, str], *args: str, now: str | None = None) -> subprocess.CompletedProcess[str]:
    """The installed ``pk`` as cron runs it: piped, in ``env`` (``now`` moves the clock)."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("PK_")}
    full.update(env)
    if now is not None:
        full["PK_NOW"] = now
    return subprocess.run(
        [str(PK), *args], capture_output=True, text=True, env=full, timeout=120, check=False
    )


@pytest.fixture
def shop(tmp_path: Path) -> dict[str, str]:
    """The environment of an installed ``pk`` with the policy above and its own SQLite book."""
    if not PK.exists():
        pytest.skip("the pk console script is not installed in this environment")
    env = env_in(tmp_path, str(tmp_path / "p.db"))
    write_config(env)
    return env


def smtp_args(server: Server) -> tuple[str, ...]:
    return (
        "--from",
        FROM,
        "--smtp-host",
        "127.0.0.1",
        "--smtp-port",
        str(server.port),
        "--smtp-security",
        "none",
    )


# --- through the installed pk ------------------------------------------------------------------------


@pytest.mark.slow
def test_a_friday_evening_call_is_promised_a_reply_and_a_callback_by_the_policy(shop: dict[str, str]) -> None:
    called = installed(shop, "contact", "Anna Smith", "--about", "the tent repair", now=FRIDAY_EVENING)
    assert called.returncode == 0, called.stderr
    assert called.stdout == (
        'Logged a phone call from Anna Smith about "the tent repair".\n'
        "Promised #1: the tent repair to Anna Smith, due Wed 2 Dec 17:00\n"
    )
    # 24 opening hours from Friday 18:30: Mon, Tue, Wed 09:00-17:00 (8 h each) end Wednesday 17:00, so
    # the reply is due then; a callback (4bh) is due on the next opening hour plus the rest: Monday 13:00.
    shown = json.loads(installed(shop, "promise", "show", "1", "--json", now=FRIDAY_EVENING).stdout)
    assert (shown["kind"], shown["customer"], shown["what"]) == ("reply", "Anna Smith", "the tent repair")
    assert shown["due"] == "2026-12-02T17:00:00+01:00"
    [contact] = [e for e in shown["history"] if e["event"] == "contact"]
    assert contact["data"]["via"] == "phone"
    assert contact["detail"] == 'a phone call from Anna Smith about "the tent repair"; reply promised as #1'
    callback = installed(
        shop,
        "promise",
        "add",
        "Call back about the bindings",
        "--kind",
        "callback",
        "-c",
        "Ben",
        "--json",
        now=FRIDAY_EVENING,
    )
    assert callback.returncode == 0, callback.stderr
    assert json.loads(callback.stdout)["due"] == "2026-11-30T13:00:00+01:00"
    write_config(shop, '[shop]\ncountry = "DE"\n')
    without = installed(shop, "promise", "add", "Call Ben", "--kind", "callback", now=FRIDAY_EVENING)
    assert without.returncode == 2
    assert "--due" in without.stderr
    assert without.stderr.count("\n") == 1


@pytest.mark.slow
def test_due_soon_in_pk_due(shop: dict[str, str]) -> None:
    now = "2026-11-27T15:30:00+01:00"
    installed(shop, "promise", "add", "Boots", "-d", "2026-11-25", now=now)
    installed(shop, "promise", "add", "Call Emma", "--kind", "callback", "-d", "today 16:30", now=now)
    installed(shop, "promise", "add", "Tent", "-d", "today", now=now)  # 1.5 opening hours left today
    installed(shop, "promise", "add", "Stove", "-d", "2026-11-30 10:00", now=now)  # 2.5 opening hours away
    installed(shop, "promise", "add", "Map", "-d", "2026-11-30 09:30", now=now)  # exactly 2 opening hours
    table = installed(shop, "due", now=now)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0] == "Overdue: 1"
    assert "Due soon: 3" in lines
    soon = lines[lines.index("Due soon: 3") + 2 : lines.index("Due soon: 3") + 5]
    assert [line.split()[0] for line in soon] == ["2", "3", "5"]
    data = json.loads(installed(shop, "due", "--json", now=now).stdout)
    assert [p["what"] for p in data["overdue"]] == ["Boots"]
    assert [p["what"] for p in data["due_soon"]] == ["Call Emma", "Tent", "Map"]
    assert data["due"] == []
    wider = json.loads(installed(shop, "due", "--within", "3d", "--json", now=now).stdout)
    assert [p["what"] for p in wider["due"]] == ["Stove"]


@pytest.mark.slow
def test_escalation_reaches_a_second_recipient_exactly_once(
    shop: dict[str, str],
    smtp: Server,  # noqa: F811
) -> None:
    installed(
        shop, "promise", "add", "Boots", "-c", "Anna", "-d", "2026-11-25", now="2026-11-24T10:00:00+01:00"
    )
    installed(
        shop, "promise", "add", "Jacket", "-c", "Ben", "-d", "2026-11-27", now="2026-11-24T10:00:00+01:00"
    )
    morning = "2026-11-30T08:00:00+01:00"  # Monday: Boots overdue since Wednesday, Jacket since Friday
    args = ("notify", "--to", TO, "--escalate-to", BOSS, *smtp_args(smtp), "--only-new")
    first = installed(shop, *args, now=morning)
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [
        f'Mailed "Our shop: 2 newly overdue" to {TO} via 127.0.0.1:{smtp.port}.',
        f'Mailed "Our shop: 1 overdue more than one working day" to {BOSS} via 127.0.0.1:{smtp.port}.',
    ]
    report, escalation = smtp.received
    assert report.recipients == [TO]
    assert escalation.recipients == [BOSS]
    body = escalation.message.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "Overdue more than one working day: 1" in text
    assert "Boots" in text
    assert "Jacket" not in text
    again = installed(shop, *args, "--only-if-any", now="2026-11-30T12:00:00+01:00")
    assert again.returncode == 0, again.stderr
    assert again.stdout == "Nothing to report; no mail sent.\n"
    # Tuesday: the jacket is now overdue more than a working day too; the boss hears of it, once.
    tuesday = installed(shop, *args, "--only-if-any", now="2026-12-01T08:00:00+01:00")
    assert tuesday.stdout.splitlines() == [
        f'Mailed "Our shop: 1 overdue more than one working day" to {BOSS} via 127.0.0.1:{smtp.port}.'
    ]
    assert [m.recipients for m in smtp.received] == [[TO], [BOSS], [BOSS]]
    last = smtp.received[-1].message.get_body(("plain",))
    assert last is not None
    assert "Jacket" in last.get_content()
    assert "Boots" not in last.get_content()


@pytest.mark.slow
def test_apprise_channels_get_the_report_and_a_dead_one_is_exit_5(
    shop: dict[str, str],
    smtp: Server,  # noqa: F811
    receiver: Receiver,  # noqa: F811
    tmp_path: Path,
) -> None:
    installed(shop, "promise", "add", "Boots", "-c", "Anna", "-d", "2026-11-20")
    dead = f"json://127.0.0.1:{dead_port()}/down"
    result = installed(
        shop, "notify", "--to", TO, *smtp_args(smtp), "--url", dead, "--url", receiver.url("/ntfy")
    )
    assert result.returncode == 5
    assert result.stderr.startswith(f"pk: Could not send the report to json://127.0.0.1:{dead.split(':')[2]}")
    assert result.stderr.endswith("; everything else was sent and recorded.\n")
    assert result.stderr.count("\n") == 1
    assert result.stdout.splitlines() == [
        f'Mailed "Our shop: 1 overdue, 0 due today" to {TO} via 127.0.0.1:{smtp.port}.',
        f'Sent "Our shop: 1 overdue, 0 due today" to json://127.0.0.1:{receiver.port}/ntfy.',
    ]
    [(path, body)] = receiver.posts
    assert path == "/ntfy"
    assert body["title"] == "Our shop: 1 overdue, 0 due today"
    assert "Overdue: 1" in body["message"]
    assert "Boots" in body["message"]
    assert len(smtp.received) == 1
    # The working channels were recorded, the dead one not: --only-new tells only the dead one again.
    sql = SQL(shop["PK_DB"])
    told = {r[0] for r in sql.rows("SELECT recipient FROM sent_to")}
    assert TO in told
    assert len(told) == 2
    retry = installed(
        shop, "notify", "--url", dead, "--url", receiver.url("/ntfy"), "--only-new", "--only-if-any"
    )
    assert retry.returncode == 5
    assert len(receiver.posts) == 1


# --- in-process ----------------------------------------------------------------------------------------


def test_only_new_is_per_recipient(policy_pk: Pk, smtp: Server) -> None:  # noqa: F811
    pk = policy_pk
    pk("promise", "add", "Boots", "-d", "2026-11-20")
    first = pk("notify", "--to", TO, *smtp_args(smtp), "--only-new")
    assert first.exit_code == 0, first.stderr
    both = pk("notify", "--to", TO, "--to", BOSS, *smtp_args(smtp), "--only-new")
    assert both.exit_code == 0, both.stderr
    # The owner was told already; the second address hears of the boots for the first time.
    assert [m.recipients for m in smtp.received] == [[TO], [TO], [BOSS]]
    owner, newcomer = smtp.received[1:]
    assert owner.message["Subject"] == "Our shop: 0 newly overdue"
    assert newcomer.message["Subject"] == "Our shop: 1 newly overdue"


def test_due_soon_is_in_the_mail(policy_pk: Pk) -> None:
    now = "2026-11-27T15:30:00+01:00"
    policy_pk("promise", "add", "Call Emma", "--kind", "callback", "-d", "today 16:30", now=now)
    policy_pk("promise", "add", "Tent", "-d", "2026-12-01", now=now)
    result = policy_pk("notify", "--to", TO, "--dry-run", now=now)
    assert result.exit_code == 0, result.stderr
    assert "Subject: Our shop: 0 overdue, 1 due soon, 0 due today" in result.stdout
    assert "Due soon: 1" in result.stdout
    assert 'class="pk-row-due_soon"' in result.stdout


def test_a_reply_without_a_policy_or_reply_by_is_bad_input_and_writes_nothing(pk: Pk, db_sql: SQL) -> None:
    pk("customer", "add", "Anna")
    result = pk("contact", "Anna", "--about", "the repair")
    assert result.exit_code == 2
    assert "--reply-by" in result.stderr
    assert "[policy]" in result.stderr
    assert result.stderr.count("\n") == 1
    assert db_sql.rows("SELECT count(*) FROM event WHERE kind = 'contact'") == [(0,)]


def test_contact_with_reply_by_and_with_no_reply(pk: Pk, db_sql: SQL) -> None:
    made = pk(
        "contact", "Ben", "--via", "email", "--about", "invoice", "--reply-by", "tomorrow 12:00", "--json"
    )
    assert made.exit_code == 0, made.stderr
    reply = json.loads(made.stdout)
    assert (reply["kind"], reply["due"]) == ("reply", "2026-11-23T12:00:00+01:00")
    quiet = pk("contact", "Ben", "--via", "visit", "--about", "opening hours", "--no-reply", "--json")
    assert (quiet.exit_code, quiet.stdout) == (0, "null\n")
    assert db_sql.rows("SELECT count(*) FROM promise") == [(1,)]
    kinds = db_sql.rows("SELECT kind FROM event WHERE kind = 'contact' ORDER BY id")
    assert kinds == [("contact",), ("contact",)]
    both = pk("contact", "Ben", "--about", "x", "--no-reply", "--reply-by", "tomorrow")
    assert both.exit_code == 2
    assert pk("contact", "Ben", "--about", "x", "--via", "pigeon", "--no-reply").exit_code == 2


def test_contact_starts_a_book(pk: Pk, cli_env: dict[str, str]) -> None:
    result = pk("contact", "Anna", "--about", "hello", "--no-reply")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == 'Logged a phone call from Anna about "hello"; no reply promised.\n'
    assert pk("customer", "list", "--json").stdout.count('"Anna"') == 1


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ('[policy]\nreply = "soon"\n', "policy.reply = 'soon' in the config file cannot be used"),
        ('[shop.hours]\nmon = "9-5"\n', "[shop.hours]"),
        ("[notify]\nurls = 3\n", "notify.urls"),
    ],
)
def test_a_bad_service_level_setting_is_one_sentence(
    pk: Pk, cli_env: dict[str, str], config: str, message: str
) -> None:
    write_config(cli_env, config)
    result = pk("contact", "Anna", "--about", "the repair")
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stderr.count("\n") == 1


def test_urls_and_escalate_to_come_from_the_config(
    pk: Pk,
    cli_env: dict[str, str],
    receiver: Receiver,  # noqa: F811
) -> None:
    write_config(cli_env, f'[notify]\nurls = ["{receiver.url("/cfg")}"]\n')
    pk("promise", "add", "Boots", "-d", "2026-11-20")
    result = pk("notify")
    assert result.exit_code == 0, result.stderr
    assert [path for path, _ in receiver.posts] == ["/cfg"]


def test_notify_needs_somebody_to_tell(pk: Pk) -> None:
    result = pk("notify", "--from", FROM, "--dry-run")
    assert result.exit_code == 2
    assert "No recipient" in result.stderr


def test_a_bad_url_is_exit_2_before_anything_is_sent(pk: Pk, smtp: Server, db_sql: SQL) -> None:  # noqa: F811
    pk("promise", "add", "Boots", "-d", "2026-11-20")
    result = pk("notify", "--to", TO, *smtp_args(smtp), "--url", "nonsense://x")
    assert result.exit_code == 2
    assert "not a URL apprise can send to" in result.stderr
    assert smtp.received == []
    assert db_sql.rows("SELECT count(*) FROM sent_report") == [(0,)]
