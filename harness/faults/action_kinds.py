"""The HTTP fault kinds nobody writes: one per action of the fakes, built from what the
action declares.

An HTTP fault action is one file in ``fracas.fakes.actions``; its settings are data
(``contract.Setting``), so the harness can offer it as a fault kind of the same name on
its own: the action's settings, then ``MATCH_PARAMS``, as the kind's params; the action's
summary as the kind's; and the rule's ``action`` made from the params. The kinds are
built when the catalog is read, from the fakes' registry as it is then, so an action
registered later (a test's, a user's) is a kind from then on. A registered kind with the
same name (a file in ``kinds/``) wins, for an action that needs behaviour on the harness's
side too.
"""

from __future__ import annotations

import functools
import sys
from typing import Any, ClassVar

from fracas.fakes.actions import REGISTRY as ACTIONS
from fracas.fakes.actions import Action
from fracas.fakes.contract import Setting
from fracas.harness.faults.base import Param, add_made_kinds
from fracas.harness.faults.http import MATCH_PARAMS, HttpRuleFault


class ActionFault(HttpRuleFault):
    """A rule whose action carries the declared settings that are set."""

    settings: ClassVar[tuple[Setting, ...]] = ()

    def action(self) -> dict[str, Any]:
        given = {s.name: self.params[s.name] for s in self.settings}
        return {"kind": self.action_kind, **{k: v for k, v in given.items() if v is not None}}


@functools.cache  # one class per action object, so a kind is the same class on every read
def kind_of(action: Action) -> type[ActionFault]:
    """The fault kind for ``action``, named after it and defined (for messages) where it is."""
    cls = type(action)
    namespace: dict[str, Any] = {
        "kind": action.kind,
        "action_kind": action.kind,
        "summary": action.summary,
        "settings": action.settings,
        "params_spec": (*(Param.of(s) for s in action.settings), *MATCH_PARAMS),
        "__module__": cls.__module__,
        "__qualname__": cls.__qualname__,
        "__doc__": sys.modules[cls.__module__].__doc__,  # the action file says why
    }
    return type(cls.__name__, (ActionFault,), namespace)


def action_kinds() -> dict[str, type[ActionFault]]:
    """A fault kind for every HTTP fault action the fakes have registered."""
    return {name: kind_of(action) for name, action in ACTIONS.items()}


add_made_kinds(action_kinds)
