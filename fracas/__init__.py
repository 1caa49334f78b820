"""fracas: a chaos and failure-injection harness for saga orchestrators.

The one import name an install claims. Its subpackages are the folders at the top
of the repository (``harness``, ``fakes``, ``orchestrator``, ``scenarios``), linked
here, so ``import orchestrator`` in a user's project stays the user's.
"""
