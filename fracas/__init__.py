"""fracas: a chaos and failure-injection harness for saga orchestrators.

The one import name an install claims. Its subpackages are the folders at the top
of the repository (``harness``, ``fakes``, ``orchestrator``, ``scenarios``), linked
here, so ``import orchestrator`` in a user's project stays the user's.
"""


def only_as(name: str, expected: str, path: str) -> None:
    """Stop a folder of this package from loading under its bare name: one module under
    two names would hold two copies of every registry (faults, rules, services)."""
    if name != expected:
        raise ImportError(f"this is fracas's {expected.split('.')[-1]} ({path}); "
                          f"import it as {expected}, not {name}")
