"""docs/checkers.md's "adding a rule" example really works, and every rule is documented."""

from __future__ import annotations

import re
from pathlib import Path

from checkers_helpers import named, verdict
from synth_ledger import SynthWorld

from fracas.harness.checkers import all_rules
from fracas.harness.checkers.registry import unregister

DOC = Path(__file__).resolve().parents[2] / "docs" / "checkers.md"


def _example() -> str:
    text = DOC.read_text()
    section = text[text.index("## 8. Adding a rule") :]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)  # type: ignore[union-attr]


def test_documented_example_rule_registers_and_fires() -> None:
    ns: dict[str, object] = {}
    exec(compile(_example(), str(DOC), "exec"), ns)  # noqa: S102 - our own docs
    try:
        assert "message-customer" in all_rules()
        w = SynthWorld()
        w.complete("ord-a")
        assert ("message-customer", "ord-a") not in named(verdict(w))
        w.messages[0]["customer_id"] = "cus-0002"
        assert ("message-customer", "ord-a") in named(verdict(w))
    finally:
        unregister("message-customer")


def test_every_rule_is_in_the_docs() -> None:
    text = DOC.read_text()
    for name in all_rules():
        assert f"`{name}`" in text, name
