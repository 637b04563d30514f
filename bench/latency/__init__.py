"""Spawn wall time when every round trip costs what a real host's WMI costs.

Run:  .venv/bin/python bench/latency [--latency-ms 5] [--markdown FILE]

Each driver spawns the basic gen1 and the full-featured gen2 instance of
`bench/roundtrips` on a fresh host whose every round trip is delayed by --latency-ms
(the emulator's `latency_ms` host setting), and again with no delay; the difference is
what the round trips cost, the rest is the driver's and the emulator's own work.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from bench.report import EMPTY, Section, Table, publish, ratio, seconds
from bench.worker import DRIVERS, LABELS, SPAWNS, run_in_child

TITLES = {"spawn_basic_gen1": "spawn basic gen1", "spawn_full_gen2": "spawn full-featured gen2"}


def collect(latency_ms: float, workdir: Path) -> dict[str, dict[float, dict[str, Any]]]:
    runs: dict[str, dict[float, dict[str, Any]]] = {}
    for driver in DRIVERS:
        runs[driver] = {}
        for delay in (0.0, latency_ms):
            folder = workdir / f"{driver}-{delay:g}ms"
            runs[driver][delay] = run_in_child("latency", driver, folder.with_suffix(".json"),
                                               workdir=folder, latency_ms=delay)
    return runs


def section(runs: dict[str, dict[float, dict[str, Any]]], latency_ms: float) -> Section:
    rows = []
    walls: dict[str, dict[str, float | None]] = {d: {} for d in DRIVERS}
    for key in SPAWNS:
        row = [TITLES[key]]
        for driver in DRIVERS:
            plain = (runs[driver][0.0].get("ops") or {}).get(key) or {}
            slow = (runs[driver][latency_ms].get("ops") or {}).get(key) or {}
            trips = slow.get("trips")
            walls[driver][key] = slow.get("seconds")
            row += [EMPTY if not trips else str(trips["total"]), seconds(plain.get("seconds")),
                    seconds(slow.get("seconds"))]
        row.append(ratio(walls["ours"][key], walls["oswin"][key]))
        rows.append(row)
    headers = ["spawn"]
    for driver in DRIVERS:
        headers += [f"{LABELS[driver]} round trips", "no delay", f"+{latency_ms:g} ms each"]
    headers.append("ratio")
    notes = [
        f"ratio: ours / os-win wall time at +{latency_ms:g} ms per round trip.",
        "Jobs finish at once on the emulated host (one poll each); os-win sleeps 0.1 s "
        "between polls of an unfinished job, which a real host's slower jobs would add.",
        "Not the same work: nova-hyperv's spawn makes its disk files itself (the root as "
        "a differencing child of the cached image, the ephemerals, fsynced: tens of ms"
        " on this machine), inside its time; os-win's were made beforehand and are not in "
        "its time. Both include the emulated host's own work (same process).",
        "One spawn each (no repeats): the no-delay column moves with the machine's load "
        "by tens of ms; the added delay is round trips x the delay.",
    ]
    for driver in DRIVERS:
        reason = runs[driver][latency_ms].get("not_ready")
        if reason:
            notes.append(f"{LABELS[driver]}: no numbers yet: {reason}")
    return Section(
        f"Latency: spawn wall time at {latency_ms:g} ms per round trip",
        "Wall time of each spawn on a fresh emulated host, without and with the added "
        "delay per round trip (real WMI: about 1-50 ms).",
        [Table(headers, rows)], notes)


def delay_ms(text: str) -> float:
    """--latency-ms: above 0 (the run without delay is always made); an argparse type."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: a number of milliseconds") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r}: must be above 0 (the comparison "
                                         "without delay is always made)")
    return value


def measure(latency_ms: float = 5.0, workdir: Path | None = None) -> Section:
    if workdir is not None:
        return section(collect(latency_ms, workdir), latency_ms)
    with tempfile.TemporaryDirectory(prefix="bench-latency-") as tmp:
        return section(collect(latency_ms, Path(tmp)), latency_ms)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=delay_ms, default=5.0)
    parser.add_argument("--markdown", type=Path, help="also write the section here")
    args = parser.parse_args(argv)
    return publish(measure(args.latency_ms), args.markdown)
