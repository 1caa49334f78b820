"""What the package should hold, from the top-level folders (a unique module name: tests/
has no packages)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = ("harness", "fakes", "orchestrator", "scenarios")


def expected_modules(root: Path = ROOT) -> set[str]:
    """``fracas`` and every .py file of the top-level folders, named under ``fracas.``."""
    out = {"fracas"}
    for folder in FOLDERS:
        for path in (root / folder).rglob("*.py"):
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out.add(".".join(("fracas", *parts)))
    return out
