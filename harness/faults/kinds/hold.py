"""Park a request at a phase until the harness releases it (see /_fracas/held).

With after_commit the effect is made and the answer waits, so a scenario can crash the
orchestrator at exactly that moment. Healing removes the rule; requests it already holds
stay held until released (or the fake restarts), because releasing is a scenario decision.
"""

from __future__ import annotations

from fracas.harness.faults.http import MATCH_PARAMS, HttpRuleFault


class Hold(HttpRuleFault):
    kind = "hold"
    action_kind = "hold"
    summary = "park matching requests until POST /_fracas/held/{id}/release"
    params_spec = MATCH_PARAMS
