"""Fault coverage is computed from the history and the journals, never from the plan."""

from __future__ import annotations

from fracas.harness.model.coverage import Cell, CoverageMap, entry_hits, step_of
from fracas.harness.model.history import History
from fracas.harness.run.schedule import parse_schedule

RULE = {"kind": "status", "target": "payment", "id": "fracas-s0-status-payment",
        "params": {"status": 503, "method": "POST", "path": "/payments",
                   "phase": "after_commit", "order_id": "ord-0001"}}
KILL = {"kind": "kill", "target": "orchestrator"}
WHEN = {"service": "inventory", "path": "/reservations", "order_id": "ord-0001",
        "phase": "after_commit"}


def _history() -> tuple[History, object]:
    schedule = parse_schedule([
        {"fault": RULE, "at": 0},
        {"fault": KILL, "when": WHEN, "for": 0},
        {"fault": {"kind": "latency", "target": "shipping", "params": {"latency_ms": 5}},
         "at": 0, "for": 1},
    ])
    h = History(t0=100.0, clock=lambda: 100.0)
    sub = h.invoke("submit", "ord-0001")
    sub.ok(status="pending")
    read = h._append("invoke", "status", 99, "ord-0001", None, {}, t=100.5)
    h._append("ok", "status", read.op_id, "ord-0001", None, {"status": "running"}, t=100.6)
    h._append("fault_applied", "fault", 50, None, None,
              {"fault": RULE, "target": "payment", "index": 0}, t=100.1)
    h._append("fault_applied", "fault", 51, None, None,
              {"fault": KILL, "target": "orchestrator", "index": 1,
               "trigger": {"method": "POST", "path": "/reservations",
                           "order_id": "ord-0001", "phase": "after_commit"}}, t=101.0)
    h._append("fault_applied", "fault", 52, None, None,
              {"fault": {"kind": "latency", "target": "shipping"}, "target": "shipping",
               "index": 2}, t=102.0)
    h._append("fault_healed", "fault", 52, None, None, {}, t=103.0)
    h.attach_journals({
        "payment": [
            {"t": 100.7, "method": "POST", "path": "/payments", "order_id": "ord-0001",
             "fault": {"rule_id": "fracas-s0-status-payment", "phase": "after_commit",
                       "kind": "status"}},
            {"t": 100.8, "method": "POST", "path": "/payments", "order_id": "ord-0001",
             "fault": None},
        ],
        "shipping": [{"t": 104.0, "method": "POST", "path": "/shipments",
                      "order_id": "ord-0001", "fault": None}],  # after the heal
    })
    return h, schedule


def test_cells_come_from_what_really_hit() -> None:
    h, schedule = _history()

    class R:  # the two fields run_coverage reads
        history = h
        schedule = None

    R.schedule = schedule
    m = CoverageMap()
    cells = m.add(R)  # type: ignore[arg-type]
    assert cells == {
        Cell("capture", "http", "after_commit", "running"): 1,
        Cell("reserve", "process", "after_commit", "running"): 1,
    }
    assert entry_hits(h, schedule) == {0: 1, 1: 1, 2: 0}  # the latency hit nothing
    data = m.to_json()
    assert data["phases"] == ["before_commit", "after_commit"]
    assert {"capture", "refund", "reserve"} <= set(data["steps"])
    assert data["families"] == ["network", "http", "process", "client", "message"]
    assert {"step": "capture", "family": "http", "phase": "after_commit",
            "state": "running", "hits": 1} in data["cells"]
    assert CoverageMap.from_results([R, R]).cells[Cell("capture", "http", "after_commit",  # type: ignore[list-item]
                                                        "running")] == 2


def test_step_names() -> None:
    assert step_of("payment", "POST", "/payments/pay-0001/refunds") == "refund"
    assert step_of("crm", "GET", "/customers/cus-1") == "customer"
    assert step_of("crm", "POST", "/other") == "other"


def test_a_message_fault_that_acted_on_a_publish_the_broker_never_saw_hit_it() -> None:
    """A publisher killed at its publish: the toxic dropped the event on the wire, so the
    broker's tap has no message of it while the fault held, and the restarted publisher
    sends it after the heal. Under load that came after the heal's record, and a CI run
    called the fault vacuous; what it acted on is its toxic's count, noted as
    ``fault-acted``."""
    crash = {"kind": "message_publish_crash", "target": "orchestrator",
             "params": {"event": "order.completed", "order_id": "ord-0001"}}
    schedule = parse_schedule([{"fault": crash, "at": 0, "for": 15}])
    h = History(t0=100.0, clock=lambda: 100.0)
    h._append("fault_applied", "fault", 50, None, None,
              {"fault": crash, "target": "orchestrator", "index": 0}, t=100.1)
    h._append("fault_healed", "fault", 50, None, None, {}, t=120.0)
    h.attach_messages([{"t": 121.0, "kind": "published", "event": "order.completed",
                        "order_id": "ord-0001"}])  # the restarted publisher's, after the heal
    assert entry_hits(h, schedule) == {0: 0}  # nothing moved while it held, nothing noted
    h.note("fault-acted", index=0)
    assert entry_hits(h, schedule) == {0: 1}
