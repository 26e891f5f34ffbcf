"""What an operator watches, in Prometheus's format, with nothing personal in it.

No label and no value carries an id, a name, a case slug or a text: labels are update
types, lanes, delivery states and the scheduler's fixed job names. Each running bot has
its own registry (tests run several in one process), served at /metrics (bot/health.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from bot.pacing.budget import BudgetStats

# Handling an update is a few milliseconds; a queue or a slow database shows as seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class _BudgetCollector(Collector):
    """The send budget's own counts, read when scraped: sends by lane, 429s, lost replies."""

    def __init__(self, stats: Callable[[], BudgetStats | None]) -> None:
        self.stats = stats

    def collect(self) -> Iterable[Metric]:
        figures = self.stats()
        if figures is None:
            return
        sends = CounterMetricFamily(
            "umid_sends", "Messages sent through the send budget, by lane", labels=["lane"]
        )
        sends.add_metric(["interactive"], figures.interactive)
        sends.add_metric(["bulk"], figures.bulk)
        yield sends
        yield CounterMetricFamily(
            "umid_flood_waits",
            "429 answers from Telegram (each pauses the budget)",
            value=figures.paused,
        )
        yield CounterMetricFamily(
            "umid_lost_replies", "Replies given up after their deadline", value=figures.lost_replies
        )
        yield CounterMetricFamily(
            "umid_late_slots",
            "Send slots missed because the event loop was late",
            value=figures.late,
        )


class Metrics:
    """The process's metrics. The send budget's are read from it when scraped; the
    outbox's depth is set by the scrape itself (bot/health.py), from the database."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._budget: BudgetStats | None = None
        self.registry.register(_BudgetCollector(lambda: self._budget))
        self.updates = Counter(
            "umid_updates", "Updates handled, by type", ["type"], registry=self.registry
        )
        self.handler_seconds = Histogram(
            "umid_handler_seconds",
            "Time to handle an update, middlewares included",
            ["type"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.outbox = Gauge(
            "umid_outbox_deliveries",
            "Deliveries in the outbox, by state",
            ["state"],
            registry=self.registry,
        )
        self.leader = Gauge(
            "umid_leader", "1 while this instance runs the scheduler", registry=self.registry
        )
        self.job_runs = Counter(
            "umid_scheduler_job_runs",
            "Scheduler job runs, by job name (label task)",
            ["task"],
            registry=self.registry,
        )
        self.job_failures = Counter(
            "umid_scheduler_job_failures",
            "Scheduler job runs that raised, by job name (label task)",
            ["task"],
            registry=self.registry,
        )

    def watch_budget(self, stats: BudgetStats) -> None:
        """Report this send budget's counts."""
        self._budget = stats

    def job_done(self, job: str, *, failed: bool) -> None:
        self.job_runs.labels(task=job).inc()
        if failed:
            self.job_failures.labels(task=job).inc()

    def set_outbox(self, counts: dict[str, int]) -> None:
        """The outbox's depth by state."""
        for state, count in counts.items():
            self.outbox.labels(state=state).set(count)
