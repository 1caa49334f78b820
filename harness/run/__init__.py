"""One chaos run: the topology, the workload and the nemesis, meeting in a history
(as in Jepsen), and the files a run leaves (replays, coverage)."""
