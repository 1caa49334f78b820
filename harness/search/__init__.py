"""Property-based search: Hypothesis strategies that aim faults at live work, the
stateful machine, the settings profiles, the planted-bug runner."""
