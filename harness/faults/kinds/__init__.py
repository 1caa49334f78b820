"""One module per fault kind; every module here is imported by ``fracas.harness.faults``."""
