"""What the workload, the nemesis and the checkers share, and nothing else: the history of
operations, the snapshot a verdict is computed from, the saga's step names and the fault
coverage cells.

Jepsen's shape: those three parts meet only here, so this group sits below all of them
(checkers, report, run and search read it; it imports none of them). It imports the fault
catalog only to name a fault's family. The modules are imported one by one
(``fracas.harness.model.history``), so reading the history does not load the catalog.
"""
