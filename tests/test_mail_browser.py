"""The morning mail's HTML part in a real browser: readable on a phone (390 px) and on a desktop (1200 px).

Headless Chromium renders the HTML part exactly as pk builds it, driven over the DevTools protocol on a
pipe (``--remote-debugging-pipe``: standard library only, no port, no extra package). The viewport is
set with ``Emulation.setDeviceMetricsOverride``, because ``--window-size`` below 500 px is silently
widened to 500 by headless Chromium. A screenshot of each width is kept in the test's tmp folder
(``mail-390.png``, ``mail-1200.png``). Skipped where no Chromium is installed (Debian: ``apt-get install
chromium``).
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import signal
import struct
import time
from pathlib import Path
from typing import Any

import pytest

from promisekeeper import mail, store
from promisekeeper.db import Database
from promisekeeper.money import Money
from promisekeeper.views import DueReport, Kind
from promisekeeper.when import Clock, parse_when

pytestmark = pytest.mark.slow  # starts a browser

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
TIMEOUT = 60.0  # seconds for the whole conversation with the browser; a hang fails the test, never waits
SHOP = "Trailhead Outfitters"

# (what, customer, due, kind, quantity, price in cents, staff), stored as typed; the mail shows what and
# customer as they are (HTML-escaped on the wire): long words, an address, a name with no space at all.
PROMISES = [
    ("Hiking boots size 38", "Anna Smith", "2026-11-20", "delivery", 2, 24000, "Jo"),
    ("Call back about the ski binding order", "Emma Novak", "2026-11-21 16:00", "callback", 1, None, None),
    ("Merino socks", "Farid Haddad", "2026-11-21", "delivery", 4, 6000, "Sam"),
    ("Rain jacket <M> & hood", "Kaito <kaito@example.com>", "today", "delivery", 1, 18000, None),
    (
        "Reply to the email about a group discount for the climbing club's spring trip",
        "Grace Kim",
        "today 12:00",
        "reply",
        1,
        None,
        "Sam",
    ),
    ("Bike service", "Ines Costa-Fernández de la Fuente", "today 17:00", "delivery", 1, 8900, None),
    (
        "Climbing rope 60 m",
        "verylongcustomername.withoutanyspaces@trailhead-outfitters.example",
        "today",
        "delivery",
        1,
        None,
        None,
    ),
]


def _browser() -> str:
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    pytest.skip(f"no headless browser: none of {', '.join(BROWSERS)} is on PATH (apt-get install chromium)")


class DevTools:
    """A headless Chromium spoken to over ``--remote-debugging-pipe`` (fd 3 in, fd 4 out, NUL-separated
    JSON), with one deadline for everything; the browser is killed on any failure."""

    def __init__(self, binary: str, profile: Path, log: Path) -> None:
        to_browser_r, to_browser_w = (_high(fd) for fd in os.pipe())
        from_browser_r, from_browser_w = (_high(fd) for fd in os.pipe())
        args = [
            "--headless",
            "--no-sandbox",  # the sandbox refuses to start as root (CI containers); the page is our own file
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            "--remote-debugging-pipe",
            "about:blank",
        ]
        err = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        null = os.open(os.devnull, os.O_RDWR)
        try:  # posix_spawn moves the pipe ends to exactly fds 3 and 4, without a shell or a preexec_fn
            self.pid = os.posix_spawn(
                binary,
                [binary, *args],
                os.environ,
                file_actions=[
                    (os.POSIX_SPAWN_DUP2, null, 0),
                    (os.POSIX_SPAWN_DUP2, null, 1),
                    (os.POSIX_SPAWN_DUP2, err, 2),
                    (os.POSIX_SPAWN_DUP2, to_browser_r, 3),
                    (os.POSIX_SPAWN_DUP2, from_browser_w, 4),
                ],
            )
        finally:
            for fd in (err, null, to_browser_r, from_browser_w):
                os.close(fd)
        self.out, self.inp = to_browser_w, from_browser_r
        self.buffer = b""
        self.exited = False
        self.next_id = 0
        self.deadline = time.monotonic() + TIMEOUT
        self.log = log

    def __enter__(self) -> DevTools:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if exc[0] is None:
                self.call("Browser.close")
                self._wait(10.0)
        except (AssertionError, OSError):
            pass
        finally:
            if not self._wait(0.0):
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            os.close(self.out)
            os.close(self.inp)

    def _wait(self, seconds: float) -> bool:
        """Whether the browser has exited (and was reaped) within ``seconds``."""
        end = time.monotonic() + seconds
        while not self.exited:
            self.exited = os.waitpid(self.pid, os.WNOHANG)[0] != 0
            if self.exited:
                break
            if time.monotonic() >= end:
                return False
            time.sleep(0.05)
        return True

    def call(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> Any:
        """Send one command and return its result (events that arrive meanwhile are ignored)."""
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.out, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self.next_id:
                assert "error" not in reply, f"{method}: {reply['error']}"
                return reply.get("result", {})

    def _read(self) -> dict[str, Any]:
        while b"\0" not in self.buffer:
            left = self.deadline - time.monotonic()
            ready, _, _ = select.select([self.inp], [], [], max(left, 0))
            if not ready:
                raise AssertionError(f"the browser did not answer within {TIMEOUT:g} s; see {self.log}")
            chunk = os.read(self.inp, 1 << 16)
            if not chunk:
                raise AssertionError(f"the browser quit: {self.log.read_text(errors='replace')[-2000:]}")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\0", 1)
        reply: dict[str, Any] = json.loads(line)
        return reply

    def open(self, url: str, width: int, height: int) -> str:
        """A new tab showing ``url`` in a ``width`` × ``height`` CSS-pixel viewport; its session id."""
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session: str = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
            session,
        )
        self.call("Page.navigate", {"url": url}, session)
        while self.evaluate(session, "document.readyState") != "complete":
            time.sleep(0.05)
        return session

    def evaluate(self, session: str, expression: str) -> Any:
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session)
        assert "exceptionDetails" not in result, result["exceptionDetails"]
        return result["result"].get("value")

    def screenshot(self, session: str, path: Path, width: int, height: int) -> None:
        shot = self.call(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
            },
            session,
        )
        path.write_bytes(base64.b64decode(shot["data"]))


def _high(fd: int) -> int:
    """``fd`` moved to a number of 10 or more, so moving one end to fd 3 or 4 cannot overwrite the other."""
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return moved


# For each text: the boxes of every line it takes (a Range over exactly that text), whether it is shown.
MEASURE = """
(() => {
  const texts = %s;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const nodes = [];
  while (walker.nextNode()) nodes.push(walker.currentNode);
  const found = {};
  for (const text of texts) {
    const node = nodes.find((n) => n.data.includes(text));
    if (!node) { found[text] = null; continue; }
    const range = document.createRange();
    const start = node.data.indexOf(text);
    range.setStart(node, start);
    range.setEnd(node, start + text.length);
    const style = getComputedStyle(node.parentElement);
    const row = node.parentElement.closest('tr');
    found[text] = {
      rects: Array.from(range.getClientRects(), (r) => [r.left, r.top, r.right, r.bottom]),
      shown: style.visibility === 'visible' && style.display !== 'none' && style.color !== 'transparent',
      row: row ? [row.getBoundingClientRect().top, row.getBoundingClientRect().height] : null,
    };
  }
  return {
    innerWidth: window.innerWidth,
    scrollWidth: document.documentElement.scrollWidth,
    bodyScrollWidth: document.body.scrollWidth,
    height: document.documentElement.scrollHeight,
    found: found,
  };
})()
"""


@pytest.fixture
def report(db: Database, clock: Clock) -> DueReport:
    for what, customer, due, kind, quantity, cents, staff in PROMISES:
        with db.session() as session:
            store.add_promise(
                session,
                clock=clock,
                what=what,
                customer=customer,
                due=parse_when(due, clock),
                kind=Kind(kind),
                quantity=quantity,
                price=Money.from_minor(cents, "EUR") if cents else None,
                staff=staff,
            )
    with db.session(write=False) as session:
        return store.due_report(session, clock=clock)


def _page(report: DueReport, clock: Clock, folder: Path) -> Path:
    who = mail.envelope("promises@trailhead.example", ["owner@trailhead.example"], shop=SHOP)
    message = mail.build_message(report, who, shop=SHOP, tz=clock.tz)
    part = message.get_body(("html",))
    assert part is not None
    path = folder / "mail.html"
    path.write_text(str(part.get_content()), encoding="utf-8")
    return path


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


@pytest.mark.parametrize("width", [390, 1200])
def test_the_mail_fits_the_screen_and_shows_every_promise(
    report: DueReport, clock: Clock, tmp_path: Path, width: int
) -> None:
    assert len(report.overdue) + len(report.due) == len(PROMISES)
    page = _page(report, clock, tmp_path)
    texts = [t for what, customer, *_ in PROMISES for t in (what, customer)]
    with DevTools(_browser(), tmp_path / "profile", tmp_path / "chromium.log") as browser:
        session = browser.open(page.as_uri(), width, 800)
        seen = browser.evaluate(session, MEASURE % json.dumps(texts))
        shot = tmp_path / f"mail-{width}.png"
        browser.screenshot(session, shot, width, int(seen["height"]))
    (tmp_path / f"mail-{width}.json").write_text(json.dumps(seen, indent=1))
    assert seen["innerWidth"] == width  # the viewport really is that wide
    assert seen["scrollWidth"] <= seen["innerWidth"], f"scrolls sideways: {seen['scrollWidth']} px wide"
    for text in texts:
        box = seen["found"][text]
        assert box is not None, f"{text!r} is not in the page"
        assert box["shown"], f"{text!r} is hidden"
        assert box["rects"], f"{text!r} takes no room"
        for left, top, right, bottom in box["rects"]:
            assert right > left
            assert bottom > top
            assert left >= 0
            assert right <= width, f"{text!r} runs off the screen ({right:.0f} > {width})"
    for what, customer, *_ in PROMISES:
        first, second = seen["found"][what]["rects"][0], seen["found"][customer]["rects"][0]
        if width < 600:  # a block per promise: what it is on top, the customer below, from the left edge
            assert second[1] >= first[3] - 1, f"{customer!r} is not below {what!r}"
            assert second[0] < width / 4
        else:  # the table: one line per promise, what beside the customer
            assert abs(second[1] - first[1]) < 1, f"{customer!r} is not on the line of {what!r}"
            assert first[2] <= second[0]
    assert _png_size(shot)[0] == width
