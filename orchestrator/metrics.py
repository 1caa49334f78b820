"""Prometheus text exposition without a client library.

The orchestrator needs four families (orders by status, step latency, retries,
compensations) and one process; a dependency for that would be heavier than this file.
Counters live in memory and restart at zero after a crash, as Prometheus expects;
the order gauge is read from the store at scrape time so it is always the truth.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

BUCKETS: tuple[float, ...] = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
)  # fmt: skip


class _Histogram:
    __slots__ = ("counts", "sum", "count")

    def __init__(self) -> None:
        self.counts = [0] * len(BUCKETS)
        self.sum = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        self.sum += value
        self.count += 1
        for i, bound in enumerate(BUCKETS):
            if value <= bound:
                self.counts[i] += 1
                break


class Metrics:
    def __init__(self) -> None:
        self.step_latency: dict[tuple[str, str], _Histogram] = defaultdict(_Histogram)
        self.retries: dict[tuple[str, str, str], int] = defaultdict(int)
        self.compensations: dict[tuple[str, str], int] = defaultdict(int)
        self.transitions: dict[tuple[str], int] = defaultdict(int)
        self.resumed = 0

    def step(self, step: str, outcome: str, seconds: float) -> None:
        self.step_latency[(step, outcome)].observe(seconds)

    def retry(self, service: str, step: str, reason: str) -> None:
        self.retries[(service, step, reason)] += 1

    def compensation(self, step: str, outcome: str) -> None:
        self.compensations[(step, outcome)] += 1

    def terminal(self, status: str) -> None:
        self.transitions[(status,)] += 1

    def render(self, orders_by_status: Mapping[str, int]) -> str:
        out: list[str] = []
        out.append("# HELP fracas_orders Orders known to the orchestrator, by status.")
        out.append("# TYPE fracas_orders gauge")
        for status, n in sorted(orders_by_status.items()):
            out.append(f'fracas_orders{{status="{status}"}} {n}')

        out.append("# HELP fracas_orders_finished_total Orders that reached a terminal status.")
        out.append("# TYPE fracas_orders_finished_total counter")
        for (status,), n in sorted(self.transitions.items()):
            out.append(f'fracas_orders_finished_total{{status="{status}"}} {n}')

        out.append("# HELP fracas_step_duration_seconds Saga step latency, retries included.")
        out.append("# TYPE fracas_step_duration_seconds histogram")
        for (step, outcome), h in sorted(self.step_latency.items()):
            labels = f'step="{step}",outcome="{outcome}"'
            cumulative = 0
            for bound, n in zip(BUCKETS, h.counts, strict=True):
                cumulative += n
                out.append(
                    f'fracas_step_duration_seconds_bucket{{{labels},le="{bound}"}} {cumulative}'
                )
            out.append(f'fracas_step_duration_seconds_bucket{{{labels},le="+Inf"}} {h.count}')
            out.append(f"fracas_step_duration_seconds_sum{{{labels}}} {h.sum:.6f}")
            out.append(f"fracas_step_duration_seconds_count{{{labels}}} {h.count}")

        out.append("# HELP fracas_retries_total Call attempts that were retried.")
        out.append("# TYPE fracas_retries_total counter")
        for (service, step, reason), n in sorted(self.retries.items()):
            out.append(
                f'fracas_retries_total{{service="{service}",step="{step}",reason="{reason}"}} {n}'
            )

        out.append("# HELP fracas_compensations_total Compensation steps run, by outcome.")
        out.append("# TYPE fracas_compensations_total counter")
        for (step, outcome), n in sorted(self.compensations.items()):
            out.append(f'fracas_compensations_total{{step="{step}",outcome="{outcome}"}} {n}')

        out.append("# HELP fracas_sagas_resumed_total Unfinished sagas resumed at start-up.")
        out.append("# TYPE fracas_sagas_resumed_total counter")
        out.append(f"fracas_sagas_resumed_total {self.resumed}")
        return "\n".join(out) + "\n"
