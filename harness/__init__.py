"""fracas: chaos harness."""
