"""The harness: it starts the topology, drives orders and faults, and checks the ledgers.

Imported as ``fracas.harness`` only: the top-level name ``harness`` belongs to the user's project
(this folder is found under it only when a checkout's root is on ``sys.path``), and one
module loaded under two names would hold two copies of every registry.
"""

from fracas import only_as

only_as(__name__, "fracas.harness", __file__)
