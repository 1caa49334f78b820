"""Plumbing every layer uses: loopback ports, child processes that cannot outlive
the harness, waiting with a deadline, the Toxiproxy API client, the version."""
