"""What shell completion knows of the command line: the command tree, learnt from the Typer app.

``promisekeeper.completion`` answers every Tab without building the app (Typer, Pydantic and Rich's help
machinery would make each Tab three times slower than ``import typer, rich``): it keeps the tree made
here in the user's cache, made again whenever pk's code changes. Each parameter says which values
it completes: its choices, ``ids`` (open promises, with what they are), ``customers``, ``staff`` or
``files``. Also the values from a database server, which only the store can read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: The arguments of ``pk customer …`` that name an existing customer (not ``NEW_NAME`` of a rename).
CUSTOMER_ARGUMENTS = frozenset({"name", "into"})


def command_tree() -> dict[str, Any]:
    """Every command, option and argument of ``pk``, as plain JSON-able data."""
    from typer.main import get_command

    from promisekeeper.cli import app

    return _node(get_command(app), ())


def _node(cmd: Any, path: tuple[str, ...]) -> dict[str, Any]:
    options: list[dict[str, Any]] = []
    arguments: list[dict[str, Any]] = []
    for param in cmd.params:
        if getattr(param, "hidden", False):
            continue
        values = _values(param, path)
        if param.param_type_name == "argument":
            arguments.append({"name": param.name, "nargs": param.nargs, "values": values})
        else:
            options.append(
                {
                    "names": [*param.opts, *param.secondary_opts],
                    "help": " ".join((param.help or "").split()),
                    "flag": bool(param.is_flag),
                    "multiple": bool(param.multiple),
                    "values": values,
                }
            )
    options.append(
        {"names": ["--help"], "help": "Show this message and exit.", "flag": True, "multiple": False}
    )
    commands = {
        name: _node(sub, (*path, name))
        for name, sub in getattr(cmd, "commands", {}).items()
        if not getattr(sub, "hidden", False)
    }
    return {
        "help": cmd.get_short_help_str(limit=80) if path else "",
        "options": options,
        "arguments": arguments,
        "commands": commands,
    }


def _values(param: Any, path: tuple[str, ...]) -> Any:
    """What a parameter's value is completed from (``None``: nothing to offer)."""
    from typer._param_types import choice_as_str

    desc = param.type_descriptor
    if desc.is_choice and desc.choices is not None:
        return {"choices": [choice_as_str(c) for c in desc.choices]}
    name = param.name or ""
    metavar = (param.metavar or "").upper()
    if name == "promise_id":
        return "ids"
    if name == "customer" or (path[:1] == ("customer",) and name in CUSTOMER_ARGUMENTS):
        return "customers"
    if name == "staff":
        return "staff"
    if desc.is_file or "FILE" in metavar or Path in _types(desc.annotation) or name == "db":
        return "files"
    return None


def _types(annotation: Any) -> tuple[Any, ...]:
    return (annotation, *getattr(annotation, "__args__", ()))


def server_values(target: str, kind: str, incomplete: str) -> list[tuple[str, str | None]]:
    """The ids, customers or staff of a book on a database server (through the store), as completions."""
    from promisekeeper import store
    from promisekeeper.cli.common import State

    st = State(db_option=target)
    with st.session(write=False) as session:
        if kind == "ids":
            return [(str(pid), what) for pid, what in store.open_promises(session, prefix=incomplete)]
        if kind == "staff":
            return [(n, None) for n in store.staff_names(session, prefix=incomplete)]
        if incomplete:
            return [(n, None) for n in store.customer_names(session, near=incomplete, limit=100)]
        return [(n, None) for n in store.customer_names(session, limit=50)]
