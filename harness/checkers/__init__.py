"""fracas checkers: is the end state of a run consistent (contract §5), and if not, why.

``check(snapshot)`` runs every rule found under ``harness/checkers/rules/``.
"""

from harness.checkers.engine import CheckResult, check
from harness.checkers.registry import Rule, all_rules, rule
from harness.checkers.snapshot import Settle, Snapshot
from harness.checkers.view import CheckConfig, View
from harness.checkers.violation import Violation

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
