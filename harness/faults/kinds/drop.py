"""The connection closes with no answer: with after_commit, the classic lost reply."""

from __future__ import annotations

from fracas.harness.faults.http import MATCH_PARAMS, HttpRuleFault


class Drop(HttpRuleFault):
    kind = "drop"
    action_kind = "drop"
    summary = "close the connection without an answer"
    params_spec = MATCH_PARAMS
