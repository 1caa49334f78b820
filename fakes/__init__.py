"""The fake services (CRM, payment, inventory, shipping, notify) and their fault rules.

Imported as ``fracas.fakes`` only: the top-level name ``fakes`` belongs to the user's project
(this folder is found under it only when a checkout's root is on ``sys.path``), and one
module loaded under two names would hold two copies of every registry.
"""

if __name__ != "fracas.fakes":
    raise ImportError(
        f"this is fracas's fakes ({__file__}); import it as fracas.fakes, not {__name__}"
    )
