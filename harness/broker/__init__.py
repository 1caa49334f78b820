"""The message broker of a choreographed saga: a NATS server with JetStream.

``server`` starts, checks and stops one like a fake (its store in the run's state dir,
loopback only); ``settings`` holds the stream's and consumers' settings a choreography
declares; ``link`` is the harness's own connection to it (direct, never through the fault
proxy), which creates the stream and consumers, places orders and reads the broker's
accounting. nats-py and the server binary come with ``fracas[choreography]``.
"""
