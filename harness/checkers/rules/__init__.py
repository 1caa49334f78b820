"""One module per checker rule; every module here is imported by ``registry.discover``."""
