"""Round trips: what a client costs a real host, counted per session and per operation.

Every query, get, method call and job poll against real WMI is one round trip
(1-50 ms each). The driver's performance contract is stated in round trips, so the
session counts them, both in total and under each named operation that is open
(`with session.operation("spawn"):`), and tests and benchmarks read the numbers.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields

KINDS = ("queries", "gets", "calls", "job_polls")


@dataclass
class RoundTrips:
    queries: int = 0
    gets: int = 0
    calls: int = 0
    job_polls: int = 0

    @property
    def total(self) -> int:
        return self.queries + self.gets + self.calls + self.job_polls

    def as_dict(self) -> dict[str, int]:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["total"] = self.total
        return data

    def copy(self) -> RoundTrips:
        return RoundTrips(self.queries, self.gets, self.calls, self.job_polls)


class Counters:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.total = RoundTrips()
        self.operations: dict[str, RoundTrips] = {}
        self._open: list[str] = []

    def count(self, kind: str) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown round-trip kind {kind!r}; one of {', '.join(KINDS)}")
        with self._lock:
            setattr(self.total, kind, getattr(self.total, kind) + 1)
            for name in set(self._open):
                stats = self.operations[name]
                setattr(stats, kind, getattr(stats, kind) + 1)

    @contextmanager
    def operation(self, name: str) -> Iterator[RoundTrips]:
        """Count what happens inside under `name` (names may nest and repeat)."""
        with self._lock:
            stats = self.operations.setdefault(name, RoundTrips())
            self._open.append(name)
        try:
            yield stats
        finally:
            with self._lock:
                self._open.remove(name)

    def reset(self) -> None:
        with self._lock:
            self.total = RoundTrips()
            self.operations = {}

    def snapshot(self) -> dict[str, dict[str, int]]:
        with self._lock:
            data = {"total": self.total.as_dict()}
            data.update({name: stats.as_dict() for name, stats in self.operations.items()})
            return data
