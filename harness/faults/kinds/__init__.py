"""One module per fault kind; every module here is imported by ``harness.faults``."""
