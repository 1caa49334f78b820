"""An embedded Toxiproxy-compatible fault proxy (``python -m fracas.harness.toxiproxy``).

It speaks the Toxiproxy 2.12 HTTP API (docs/toxiproxy.md, /work/shared spec) so the
same harness code, ``toxiproxy-python`` and ``toxiproxy-cli`` drive it or the real
server; it exists so fracas needs no Go binary, answers 400 where the real server
crashes, and can repeat a run's randomness from a seed.
"""
