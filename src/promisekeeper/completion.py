"""pk's entry point, and shell completion answered without building the command line.

A Tab runs ``pk`` with ``_PK_COMPLETE`` set. Answering it through Typer would import Typer's command
machinery, Pydantic and every command module: three times ``import typer, rich``. Here a Tab costs a
Python start, one JSON file and, for ids and names, one read-only look into the SQLite file with the
standard library's ``sqlite3`` (no SQLAlchemy). The command tree comes from ``cli.complete``, kept in the
user's cache dir and made again whenever pk's code changes (the first Tab after an upgrade is slower).

Both protocols are answered: Click's (``_PK_COMPLETE=bash_complete|zsh_complete|fish_complete`` with
``COMP_WORDS``/``COMP_CWORD``, and ``bash_source`` etc. for the scripts) and Typer's, which
``pk --install-completion`` installs (``complete_bash|complete_zsh|complete_fish``). Anything else
(PowerShell, ``source_bash``) goes to Typer.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

Item = tuple[str, str | None, str]  # value, help, Click's type ("plain", "file")

#: At most this many names or ids are offered for one Tab.
LIMIT = 200


def main() -> None:
    """The ``pk`` console script: a Tab, ``--version`` and a ``--help`` seen before are answered here;
    everything else goes to the command line."""
    if os.environ.get("_PK_COMPLETE"):
        code = answer(os.environ)
        if code is not None:
            sys.stdout.flush()
            sys.exit(code)
    args = sys.argv[1:]
    if args == ["--version"]:
        from promisekeeper import __version__

        sys.stdout.write(f"pk {__version__}\n")
        sys.exit(0)
    kept = help_cache(args, os.environ)
    if kept is not None and kept.answer():
        sys.exit(0)
    from promisekeeper.cli import main as cli_main

    cli_main(kept)


def answer(environ: Mapping[str, str]) -> int | None:
    """Answer the completion request in ``environ``; ``None`` when it is one for Typer to answer."""
    instruction = environ.get("_PK_COMPLETE", "")
    shell, _, action = instruction.partition("_")
    if action == "source" and shell in SCRIPTS:
        sys.stdout.write(SCRIPTS[shell] % {"func": "_pk_completion", "var": "_PK_COMPLETE", "prog": "pk"})
        return 0
    if action == "complete" and shell in ("bash", "zsh", "fish"):
        words = split_arg_string(environ.get("COMP_WORDS", ""))
        if shell == "fish":
            incomplete = environ.get("COMP_CWORD", "")
            incomplete = split_arg_string(incomplete)[0] if incomplete else ""
            args = words[1:]
            if incomplete and args and args[-1] == incomplete:
                args.pop()
        else:
            cword = _int(environ.get("COMP_CWORD", ""), len(words))
            args = words[1:cword]
            incomplete = words[cword] if cword < len(words) else ""
        items = complete(args, incomplete, environ)
        sys.stdout.write("\n".join(_click_format(shell, item) for item in items))
        return 0
    typer_shell = action if shell == "complete" else ""
    if typer_shell in ("bash", "zsh", "fish"):
        return _typer_answer(typer_shell, environ)
    return None


def _int(text: str, default: int) -> int:
    return int(text) if text.strip().isdigit() else default


def _typer_answer(shell: str, environ: Mapping[str, str]) -> int:
    """The protocol of the scripts ``pk --install-completion`` writes (Typer's)."""
    if shell == "bash":
        words = split_arg_string(environ.get("COMP_WORDS", ""))
        cword = _int(environ.get("COMP_CWORD", ""), len(words))
        args, incomplete = words[1:cword], (words[cword] if cword < len(words) else "")
    else:
        line = environ.get("_TYPER_COMPLETE_ARGS", "")
        args = split_arg_string(line)[1:]
        incomplete = args.pop() if args and not line.endswith(" ") else ""
    items = [i for i in complete(args, incomplete, environ) if i[2] == "plain"]
    if shell == "bash":
        sys.stdout.write("\n".join(value for value, _, _ in items))
        return 0
    if shell == "zsh":
        if not items:
            sys.stdout.write("_files")
            return 0
        shown = "\n".join(
            f'"{_zsh_escape(v)}":"{_zsh_escape(h)}"' if h else f'"{_zsh_escape(v)}"' for v, h, _ in items
        )
        sys.stdout.write(f"_arguments '*: :(({shown}))'")
        return 0
    action = environ.get("_TYPER_COMPLETE_FISH_ACTION", "")
    if action == "is-args":
        return 0 if items else 1
    if action == "get-args":
        sys.stdout.write("\n".join(f"{v}\t{' '.join(h.split())}" if h else v for v, h, _ in items))
    return 0


def _zsh_escape(s: str) -> str:
    return (
        s.replace('"', '""').replace("'", "''").replace("$", "\\$").replace("`", "\\`").replace(":", r"\\:")
    )


def _click_format(shell: str, item: Item) -> str:
    value, help_, kind = item
    if shell == "bash":
        return f"{kind},{value}"
    if shell == "zsh":
        shown = " ".join(help_.split()) if help_ else "_"
        return f"{kind}\n{value.replace(':', chr(92) + ':') if shown != '_' else value}\n{shown}"
    return f"{kind},{value}\t{' '.join(help_.split())}" if help_ else f"{kind},{value}"


def split_arg_string(string: str) -> list[str]:
    """The words of a command line as the shell would split them; an unfinished quote ends the last."""
    import shlex

    lex = shlex.shlex(string, posix=True)
    lex.whitespace_split = True
    lex.commenters = ""
    out: list[str] = []
    try:
        out.extend(lex)
    except ValueError:
        out.append(lex.token)
    return out


# --- what to offer ---------------------------------------------------------------------------------


class Place:
    """Where the cursor is in the command line: the command, the options given, what is being typed."""

    def __init__(self, node: dict[str, Any]) -> None:
        self.node = node
        self.used: set[str] = set()
        self.positional = 0
        self.pending: dict[str, Any] | None = None  # an option whose value is being typed
        self.db: str | None = None


def complete(args: Sequence[str], incomplete: str, environ: Mapping[str, str]) -> list[Item]:
    """The completions for ``incomplete`` after ``args`` (the words after ``pk``)."""
    place = locate(load_tree(environ), args)
    if place.pending is None and incomplete.startswith("-") and "=" in incomplete:
        name, _, incomplete = incomplete.partition("=")
        place.pending = _option(place.node, name)
        if place.pending is None:
            return []
    if place.pending is not None:
        return values(place.pending.get("values"), incomplete, place, environ)
    if incomplete.startswith("-"):
        return [
            (name, opt["help"] or None, "plain")
            for opt in place.node["options"]
            if opt["multiple"] or opt["names"][0] not in place.used
            for name in opt["names"]
            if name.startswith(incomplete)
        ]
    if place.node["commands"] and place.positional == 0:
        return [
            (name, sub["help"] or None, "plain")
            for name, sub in place.node["commands"].items()
            if name.startswith(incomplete)
        ]
    arguments = place.node["arguments"]
    if not arguments:
        return []
    index = place.positional
    arg = arguments[min(index, len(arguments) - 1)]
    if index >= len(arguments) and arg["nargs"] != -1:
        return []
    return values(arg.get("values"), incomplete, place, environ)


def locate(tree: dict[str, Any], args: Sequence[str]) -> Place:
    """Walk the words typed so far through the command tree."""
    place = Place(tree)
    only_arguments = False
    for word in args:
        if place.pending is not None:
            if place.pending["names"][0] == "--db" and place.node is tree:
                place.db = word
            place.pending = None
            continue
        if word == "--" and not only_arguments:
            only_arguments = True
            continue
        if word.startswith("-") and len(word) > 1 and not only_arguments:
            name, eq, value = word.partition("=")
            opt = _option(place.node, name)
            if opt is None:
                continue
            place.used.add(opt["names"][0])
            if not opt["flag"]:
                if eq:
                    if name == "--db" and place.node is tree:
                        place.db = value
                else:
                    place.pending = opt
            continue
        if place.node["commands"] and place.positional == 0 and word in place.node["commands"]:
            place.node = place.node["commands"][word]
            place.used = set()
            continue
        place.positional += 1
    return place


def _option(node: dict[str, Any], name: str) -> dict[str, Any] | None:
    for opt in node["options"]:
        if name in opt["names"]:
            return dict(opt)
    return None


def values(spec: Any, incomplete: str, place: Place, environ: Mapping[str, str]) -> list[Item]:
    """The values of one option or argument that start with ``incomplete``."""
    if spec is None:
        return []
    if spec == "files":
        return [(incomplete, None, "file")]
    if isinstance(spec, dict):
        low = incomplete.lower()
        return [(c, None, "plain") for c in spec["choices"] if c.lower().startswith(low)]
    from promisekeeper.text import visible

    return [
        (visible(v), visible(h) if h else None, "plain")
        for v, h in book_values(spec, incomplete, place.db, environ)
    ]


# --- the command tree, kept in the cache ----------------------------------------------------------


def load_tree(environ: Mapping[str, str]) -> dict[str, Any]:
    """The command tree: from the cache when pk's code has not changed since it was made, else made now."""
    import json

    import promisekeeper

    package = Path(promisekeeper.__file__).parent
    cache = _cache_dir(environ) / f"completion-{_fingerprint(package, promisekeeper.__version__)}.json"
    try:
        tree: dict[str, Any] = json.loads(cache.read_text(encoding="utf-8"))
        return tree
    except (OSError, ValueError):
        pass
    from promisekeeper.cli.complete import command_tree

    tree = command_tree()
    _keep(cache, json.dumps(tree))
    return tree


def _cache_dir(environ: Mapping[str, str]) -> Path:
    base = environ.get("XDG_CACHE_HOME")
    if base and os.path.isabs(base):
        return Path(base) / "promisekeeper"
    from platformdirs import user_cache_path

    return user_cache_path("promisekeeper", appauthor=False)


def _fingerprint(package: Path, version: str) -> str:
    """Changes whenever a module of pk changes (its size or time), so the tree is never stale."""
    import hashlib

    digest = hashlib.sha1(version.encode(), usedforsecurity=False)
    for folder, dirs, files in os.walk(package):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                st = os.stat(os.path.join(folder, name))
                digest.update(f"{folder}/{name}:{st.st_mtime_ns}:{st.st_size};".encode())
    return digest.hexdigest()[:16]


def _keep(cache: Path, text: str, kind: str = "completion-*.json") -> None:
    """Write the tree for the next Tab (or a help, ``kind``) atomically, and drop those of earlier versions
    of pk's code; a cache that cannot be written only costs speed."""
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        temporary = cache.with_name(f".{cache.name}.{os.getpid()}")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, cache)
        current = cache.name.split("-")[1]  # the fingerprint of this code
        for old in cache.parent.glob(kind):
            other_code = old.name.split("-")[1] != current
            if old != cache and (other_code or kind.startswith("completion")):
                old.unlink(missing_ok=True)
    except OSError:
        pass


# --- --help, kept in the cache --------------------------------------------------------------------

# What the help's layout depends on besides pk's code: the variables Rich and Typer read.
_HELP_ENVIRON = (
    *("COLUMNS", "LINES", "TERM", "COLORTERM", "NO_COLOR", "FORCE_COLOR", "PY_COLORS", "TTY_COMPATIBLE"),
    *("TTY_INTERACTIVE", "JUPYTER_COLUMNS", "JUPYTER_LINES", "TERMINAL_WIDTH", "GITHUB_ACTIONS"),
    *("_TYPER_FORCE_DISABLE_TERMINAL", "TYPER_USE_RICH", "XDG_CONFIG_HOME", "XDG_DATA_HOME"),
)


class HelpCache:
    """The help of ``pk [COMMAND…] --help`` as pk printed it before, in this terminal, for this code.

    Rich help imports Rich's Markdown, Syntax and Traceback machinery and every command's parameters:
    three times ``import typer, rich``. The text it printed is kept in the user's cache under a key of
    pk's code (``_fingerprint``), Typer's and Rich's, the words asked, and everything the layout depends
    on (width, colour, the variables Rich and Typer read); the next time it is printed from there.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def answer(self) -> bool:
        """Print the kept help; ``False`` when there is none yet."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except (OSError, ValueError):
            return False
        sys.stdout.write(text)
        sys.stdout.flush()
        return True

    def keep(self, text: str) -> None:
        _keep(self.path, text, "help-*.txt")


def help_cache(args: Sequence[str], environ: Mapping[str, str]) -> HelpCache | None:
    """Where the help that ``args`` ask for is kept; ``None`` when they ask for something else."""
    words = args[:-1]
    if not args or args[-1] != "--help" or len(args) > 4 or not all(_is_word(w) for w in words):
        return None
    import hashlib
    import json

    import promisekeeper

    try:
        tty = sys.stdout.isatty()
        size = next((tuple(os.get_terminal_size(fd)) for fd in (1, 0, 2) if _sized(fd)), None)
        encoding = sys.stdout.encoding
    except (AttributeError, ValueError, OSError):
        return None
    layout = [
        args,
        os.path.basename(sys.argv[0]),
        tty,
        size,
        encoding,
        {k: v for k, v in environ.items() if k in _HELP_ENVIRON or k.startswith("PK_")},
        [_stamp(name) for name in ("typer", "rich", "click")],
    ]
    key = hashlib.sha1(json.dumps(layout).encode(), usedforsecurity=False).hexdigest()[:16]
    code = _fingerprint(Path(promisekeeper.__file__).parent, promisekeeper.__version__)
    return HelpCache(_cache_dir(environ) / f"help-{code}-{key}.txt")


def _is_word(text: str) -> bool:
    """A command's name as pk spells them: lower-case letters and hyphens."""
    return text[:1].isalpha() and text.replace("-", "").isalpha() and text.isascii() and text.islower()


def _sized(fd: int) -> bool:
    try:
        os.get_terminal_size(fd)
    except OSError:
        return False
    return True


def _stamp(module: str) -> str:
    """Where a library is and when it was installed (a new version prints another help)."""
    from importlib.util import find_spec

    spec = find_spec(module)
    origin = spec.origin if spec is not None else None
    if origin is None:
        return module
    return f"{origin}:{os.stat(origin).st_mtime_ns}"


# --- ids and names from the book ------------------------------------------------------------------


def book_values(
    kind: str, incomplete: str, db_option: str | None, environ: Mapping[str, str]
) -> list[tuple[str, str | None]]:
    """Open promise ids (with what they are), customer or staff names starting with ``incomplete``.

    A SQLite book is read directly, read-only; a missing or unreadable book offers nothing (a Tab never
    creates, changes or complains). A book on a server is read through the store.
    """
    try:
        target = _target(db_option, environ)
    except Exception:  # an unreadable config file: no values, no message in the middle of a Tab
        return []
    path = _sqlite_path(target)
    if path is None:
        try:
            from promisekeeper.cli.complete import server_values

            return server_values(target, kind, incomplete)
        except Exception:  # the server is away: nothing to offer
            return []
    import sqlite3
    from urllib.parse import quote

    if not path.is_file():
        return []
    try:
        conn = sqlite3.connect(f"file:{quote(str(path.absolute()))}?mode=ro", uri=True, timeout=0.5)
    except sqlite3.Error:
        return []
    try:
        if kind == "ids":
            return _ids(conn, incomplete)
        if kind == "staff":
            return [(n, None) for n in _staff(conn, incomplete)]
        return [(n, None) for n in _customers(conn, incomplete)]
    except sqlite3.Error:
        return []
    finally:
        conn.close()


def _target(db_option: str | None, environ: Mapping[str, str]) -> str:
    """The book ``pk`` would open: ``--db``, ``PK_DB``, the config file's ``[database] url``, the default."""
    if db_option:
        return db_option
    if environ.get("PK_DB"):
        return environ["PK_DB"]
    import tomllib

    from promisekeeper.config import config_file, default_db_path

    try:
        with config_file(environ).open("rb") as fh:
            url = tomllib.load(fh).get("database", {}).get("url")
    except FileNotFoundError:
        url = None
    return url if isinstance(url, str) and url else str(default_db_path())


def _sqlite_path(target: str) -> Path | None:
    if "://" not in target:
        return Path(target).expanduser()
    scheme, _, rest = target.partition("://")
    if scheme.split("+")[0] != "sqlite" or not rest.startswith("/") or rest in ("/", "/:memory:"):
        return None
    return Path(rest[1:].split("?")[0]).expanduser()


def _ids(conn: Any, incomplete: str) -> list[tuple[str, str | None]]:
    digits = incomplete.removeprefix("#")
    if digits and not digits.isdigit():
        return []
    rows = conn.execute(
        "SELECT id, what FROM promise WHERE state = 'active' AND CAST(id AS TEXT) LIKE ? "
        "ORDER BY due, id LIMIT ?",
        (f"{digits}%", LIMIT),
    )
    return [(str(pid), what) for pid, what in rows]


def _staff(conn: Any, incomplete: str) -> list[str]:
    """Each staff name once, found by skipping through the staff index (not reading every promise)."""
    names: list[str] = []
    last = ""
    while len(names) < LIMIT:
        (name,) = conn.execute("SELECT min(staff) FROM promise WHERE staff > ?", (last,)).fetchone()
        if name is None:
            break
        last = name
        if name.casefold().startswith(incomplete.casefold()):
            names.append(name)
    return sorted(set(names), key=str.casefold)


def _customers(conn: Any, incomplete: str) -> list[str]:
    """Names starting with ``incomplete`` (any case), through the index of names; with nothing typed
    yet, the customers of the latest promises."""
    if not incomplete.strip():
        rows = conn.execute(
            "SELECT c.name FROM customer c JOIN (SELECT customer_id, max(id) AS latest FROM "
            "(SELECT id, customer_id FROM promise ORDER BY id DESC LIMIT 1000) GROUP BY customer_id) r "
            "ON c.id = r.customer_id WHERE c.name IS NOT NULL ORDER BY r.latest DESC LIMIT 50"
        )
        return [name for (name,) in rows]
    key = " ".join(incomplete.split()).casefold()
    if incomplete[-1:].isspace():
        key += " "
    rows = conn.execute(
        "SELECT name FROM customer WHERE name_key >= ? AND name_key < ? AND name IS NOT NULL "
        "ORDER BY name_key LIMIT ?",
        (key, key + "\U0010ffff", LIMIT),
    )
    return [name for (name,) in rows]


SCRIPTS = {
    "bash": """\
%(func)s() {
    local IFS=$'\\n'
    local response
    response=$(env COMP_WORDS="${COMP_WORDS[*]}" COMP_CWORD=$COMP_CWORD %(var)s=bash_complete $1)
    for completion in $response; do
        IFS=',' read type value <<< "$completion"
        if [[ $type == 'dir' ]]; then
            COMPREPLY=()
            compopt -o dirnames
        elif [[ $type == 'file' ]]; then
            COMPREPLY=()
            compopt -o default
        elif [[ $type == 'plain' ]]; then
            COMPREPLY+=($value)
        fi
    done
    return 0
}

complete -o nosort -F %(func)s %(prog)s
""",
    "zsh": """\
#compdef %(prog)s

%(func)s() {
    local -a completions
    local -a completions_with_descriptions
    local -a response
    (( ! $+commands[%(prog)s] )) && return 1
    response=("${(@f)$(env COMP_WORDS="${words[*]}" COMP_CWORD=$((CURRENT-1)) \\
        %(var)s=zsh_complete %(prog)s)}")
    for type key descr in ${response}; do
        if [[ "$type" == "plain" ]]; then
            if [[ "$descr" == "_" ]]; then
                completions+=("$key")
            else
                completions_with_descriptions+=("$key":"$descr")
            fi
        elif [[ "$type" == "dir" ]]; then
            _path_files -/
        elif [[ "$type" == "file" ]]; then
            _path_files -f
        fi
    done
    if [ -n "$completions_with_descriptions" ]; then
        _describe -V unsorted completions_with_descriptions -U
    fi
    if [ -n "$completions" ]; then
        compadd -U -V unsorted -a completions
    fi
}

if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
    %(func)s "$@"
else
    compdef %(func)s %(prog)s
fi
""",
    "fish": """\
function %(func)s
    set -l response (env %(var)s=fish_complete COMP_WORDS=(commandline -cp) \\
        COMP_CWORD=(commandline -t) %(prog)s)
    for completion in $response
        set -l metadata (string split -m 1 "," $completion)
        if test $metadata[1] = "dir"
            __fish_complete_directories $metadata[2]
        else if test $metadata[1] = "file"
            __fish_complete_path $metadata[2]
        else if test $metadata[1] = "plain"
            echo $metadata[2]
        end
    end
end

complete --no-files --command %(prog)s --arguments "(%(func)s)"
""",
}
