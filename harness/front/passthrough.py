"""Which of ``fracas run``'s arguments are pytest's.

A pytest user types ``fracas run -k x -x --maxfail 2 mine/`` and expects it to work:
whatever ``fracas run`` does not know goes to pytest. Telling ``2`` (the value of
``--maxfail``) from a PATH needs to know which options take a value, and only pytest
knows that for its plugins' options, so this asks pytest's own parser, with the
installed plugins and the ``-p`` ones loaded. A conftest.py's options are not known
before collection: those go after ``--``, which hands everything after it to pytest.
"""

from __future__ import annotations

import argparse
import difflib
import os
from collections.abc import Sequence


class UnknownOption(ValueError):
    """An option neither fracas run nor pytest knows; the message may say "Did you mean"."""


def split(argv: Sequence[str], ours: argparse.ArgumentParser) -> tuple[list[str], list[str]]:
    """(ours, pytest's), each in the order given; everything after ``--`` is pytest's."""
    argv = list(argv)
    after: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, after = argv[:cut], argv[cut + 1 :]
    mine, theirs = _split(argv, ours._option_string_actions, None)
    return mine, theirs + after


def _split(
    argv: list[str],
    ours: dict[str, argparse.Action],
    pytest_actions: dict[str, argparse.Action] | None,
) -> tuple[list[str], list[str]]:
    mine: list[str] = []
    theirs: list[str] = []
    i = 0
    while i < len(argv):
        token = argv[i]
        if not token.startswith("-") or token == "-":
            mine.append(token)  # a PATH
            i += 1
            continue
        action, attached = _lookup(token, ours)
        target = mine
        if action is None:
            if pytest_actions is None:
                pytest_actions = pytest_option_actions(argv)
            action, attached = _lookup(token, pytest_actions)
            if action is None:
                raise UnknownOption(_unknown(token, [*ours, *pytest_actions]))
            target = theirs
        taken = 0 if attached else _values(action, argv[i + 1 :])
        target.extend(argv[i : i + 1 + taken])
        i += 1 + taken
    return mine, theirs


def _lookup(token: str, actions: dict[str, argparse.Action]) -> tuple[argparse.Action | None, bool]:
    """The action a token names, and whether its value is attached (``--a=1``, ``-n4``)."""
    if token in actions:
        return actions[token], False
    if token.startswith("--") and "=" in token:
        return actions.get(token.split("=", 1)[0]), True
    if not token.startswith("--") and token[:2] in actions:
        # -xvs (flags run together) or -n4 / -pno:randomly (a value run on)
        return actions[token[:2]], True
    return None, False


def _values(action: argparse.Action, rest: list[str]) -> int:
    """How many of the following words the option takes, as argparse would count them."""
    nargs = action.nargs
    if nargs == 0:
        return 0
    if nargs is None:
        return 1
    if isinstance(nargs, int):
        return nargs
    words = 0
    while words < len(rest) and not rest[words].startswith("-"):
        words += 1
        if nargs == "?":
            break
    return words


def _unknown(token: str, known: list[str]) -> str:
    name = token.split("=", 1)[0]
    close = difflib.get_close_matches(name, [k for k in known if k.startswith("--")], n=1,
                                      cutoff=0.75)  # fmt: skip
    hint = f". Did you mean {close[0]}?" if close else ""
    return (
        f"unrecognized arguments: {token} (neither fracas run nor pytest knows it; an "
        f"option from a conftest.py goes after --){hint}"
    )


def pytest_option_actions(argv: Sequence[str]) -> dict[str, argparse.Action]:
    """Every option pytest would accept, by spelling: its own, its installed plugins' and
    the ``-p NAME`` ones in ``argv``. Costs a plugin load, so only for unknown options."""
    from _pytest.config import get_config

    args = [str(a) for a in argv]
    config = get_config(args)
    manager = config.pluginmanager
    manager.consider_preparse(args, exclude_only=False)
    if not os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        manager.load_setuptools_entrypoints("pytest11")
    parser = config._parser
    # pytest 9 names its argparse parser optparser; pytest 8 builds it on demand.
    optparser = getattr(parser, "optparser", None) or parser._getparser()  # type: ignore[attr-defined]
    return dict(optparser._option_string_actions)
