"""The bundled saga orchestrator: the default system under test, run as its own process.

Imported as ``fracas.orchestrator`` only: the top-level name ``orchestrator`` belongs to the user's project
(this folder is found under it only when a checkout's root is on ``sys.path``), and one
module loaded under two names would hold two copies of every registry.
"""

from fracas import only_as

only_as(__name__, "fracas.orchestrator", __file__)
