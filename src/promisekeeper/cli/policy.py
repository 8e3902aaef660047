"""The service levels of ``[policy]`` as the commands use them: each value checked when it is used, so a
typo in the config is named as the config's (exit 2), never as an option the user did not type."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime

    from promisekeeper.cli.common import State


def _checked(st: State, key: str, text: str) -> str:
    from promisekeeper import words
    from promisekeeper.errors import BadInput
    from promisekeeper.when import parse_when

    try:
        parse_when(text, st.clock)
    except BadInput as exc:
        raise BadInput(words.policy_unreadable(key, text, str(exc))) from None
    return text


def policy_due(st: State, kind: str) -> str | None:
    """The ``[policy]`` time for a ``reply`` or ``callback`` (``24bh``), or ``None`` when the config
    sets none: what ``promise add --kind reply|callback`` and ``contact`` use without a due."""
    text = st.settings.policy.due_for(kind)
    return None if text is None else _checked(st, kind, text)


def soon_until(st: State) -> datetime | None:
    """The end of the "due soon" window (``[policy] warn_before``), or ``None`` without one."""
    from promisekeeper.when import warn_until

    text = st.settings.policy.warn_before
    return None if text is None else warn_until(_checked(st, "warn_before", text), st.clock)


def escalate_after(st: State) -> str:
    """``[policy] escalate_after`` (default ``1bd``), checked."""
    return _checked(st, "escalate_after", st.settings.policy.escalate_after)
