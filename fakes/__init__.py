"""The fake services (CRM, payment, inventory, shipping, notify) and their fault rules.

Imported as ``fracas.fakes`` only: the top-level name ``fakes`` belongs to the user's project
(this folder is found under it only when a checkout's root is on ``sys.path``), and one
module loaded under two names would hold two copies of every registry.
"""

from fracas import only_as

only_as(__name__, "fracas.fakes", __file__)
