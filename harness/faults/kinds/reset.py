"""A TCP reset from the fake: the client sees ECONNRESET mid-request."""

from __future__ import annotations

from fracas.harness.faults.http import MATCH_PARAMS, HttpRuleFault


class Reset(HttpRuleFault):
    kind = "reset"
    action_kind = "reset"
    summary = "reset the TCP connection (RST)"
    params_spec = MATCH_PARAMS
