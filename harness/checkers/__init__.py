"""fracas checkers: is the end state of a run consistent (contract §5), and if not, why.

``check(snapshot)`` runs every rule found under ``harness/checkers/rules/``.
"""

from fracas.harness.checkers.engine import CheckResult, check
from fracas.harness.checkers.registry import Rule, all_rules, rule
from fracas.harness.checkers.view import CheckConfig, View
from fracas.harness.checkers.violation import Violation
from fracas.harness.model.snapshot import Settle, Snapshot

__all__ = [
    "CheckConfig",
    "CheckResult",
    "Rule",
    "Settle",
    "Snapshot",
    "View",
    "Violation",
    "all_rules",
    "check",
    "rule",
]
