"""Every benchmark, one after the other; writes bench/results.md.

Run:  .venv/bin/python bench/run [--output bench/results.md] [--counts 10,100,1000]
                                 [--repeat 3] [--latency-ms 5] [--vhdfile-repeat 3]

Round trips per operation, scale (10, 100 and 1000 VMs), latency, and bench/vhdfile
(vhdfile against qemu-img), with the machine, the date and the commit measured.
Budget: under 10 minutes on 2 cores, host builds included (built hosts are cached).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import latency, machine, roundtrips, scale
from bench.hosts import default_cache_dir
from bench.report import EMPTY, Section, Table, seconds
from bench.worker import LABELS, REPO

DEFAULT_OUTPUT = REPO / "bench" / "results.md"


def vhdfile_section(repeat: int) -> Section:
    command = [sys.executable, str(REPO / "bench" / "vhdfile"), "--repeat", str(repeat)]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"bench/vhdfile failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return Section("vhdfile against qemu-img",
                   f"The output of `bench/vhdfile --repeat {repeat}` (1 GiB disks, best of "
                   f"{repeat}; ratio vhdfile / qemu-img, below 1.0: vhdfile is faster).",
                   preformatted=done.stdout)


def _total(trips: Any) -> str:
    return EMPTY if trips is None else str(trips.total)


_VHDFILE_ROW = re.compile(r"^(?P<op>\S.*?)\s+\d+\.\d+\s+\d+\.\d+\s+(?P<ratio>\d+\.\d+)$")


def vhdfile_summary(output: str) -> str:
    """One line on bench/vhdfile's table: where vhdfile is not yet as fast as qemu-img."""
    ratios = {m["op"]: float(m["ratio"]) for m in map(_VHDFILE_ROW.match, output.splitlines())
              if m}
    if not ratios:
        return "vhdfile against qemu-img: see its section (its table was not recognised)."
    slower = [f"{op} ({r:.2f})" for op, r in ratios.items() if r > 1.0]
    text = (f"vhdfile against qemu-img: at least as fast in {len(ratios) - len(slower)} of "
            f"{len(ratios)} operations (target: all)")
    return text + (f"; slower in: {', '.join(slower)}." if slower else ".")


def headline(rt: roundtrips.Measured, sc: dict[str, Any], disk: Section) -> Section:
    theirs, ours = rt.results["oswin"], rt.results["ours"]
    full = "spawn_full_gen2"
    rows = [["full-featured gen2 spawn, round trips", _total(theirs.counts.get(full)),
             _total(ours.counts.get(full)),
             f"chain minimum {rt.minimum.total}; ours at most "
             f"{min(rt.targets.values())}"]]
    runs = sc["runs"]
    biggest = max(int(n) for n in sc["hosts"])
    for key, title, target in (
            ("sync_power_states", "power-state sync", "ours: O(1) in N"),
            ("get_info_all", "get_info, every instance",
             "one lookup each (use_cache=False, the compute manager's own reads)"),
            ("get_available_resource", "get_available_resource", "ours: O(1) in N")):
        cells = []
        for driver in ("oswin", "ours"):
            trips = ((runs[driver][biggest].get("ops") or {}).get(key) or {}).get("trips")
            cells.append(EMPTY if not trips else str(trips["total"]))
        rows.append([f"{title} at {biggest} VMs, round trips", *cells, target])
    peaks = []
    for driver in ("oswin", "ours"):
        kib = runs[driver][biggest].get("rss_peak_kib")
        peaks.append(EMPTY if kib is None else f"{kib / 1024:.0f} MiB")
    rows.append([f"peak RSS, driver + emulated host, {biggest} VMs", *peaks,
                 f"under {scale.RSS_TARGET_MIB} MiB; state file "
                 f"{sc['hosts'][biggest]['bytes'] / 2**20:.0f} MiB"])
    return Section("Headline", "", [Table(["", LABELS["oswin"], LABELS["ours"], "target"],
                                          rows, align="lrrl")],
                   [vhdfile_summary(disk.preformatted)])


def machine_section(facts: dict[str, str], elapsed: float) -> Section:
    facts = {**facts, "bench/run took": seconds(elapsed)}
    return Section("Machine and code", "",
                   [Table(["", ""], [[k, v] for k, v in facts.items()], align="ll")])


def document(sections: list[Section]) -> str:
    head = ("# Benchmark results\n\nWritten by `bench/run` (`.venv/bin/python bench/run`); "
            "how each number is made: bench/README.md. Nothing here is edited by hand.\n")
    return head + "".join("\n" + s.markdown() for s in sections)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--counts", type=scale.vm_counts, default=scale.COUNTS,
                        help="scale: VM counts, comma-separated (default: 10,100,1000)")
    parser.add_argument("--repeat", type=int, default=3, help="scale: best of N")
    parser.add_argument("--latency-ms", type=latency.delay_ms, default=5.0)
    parser.add_argument("--vhdfile-repeat", type=int, default=3)
    parser.add_argument("--cache-dir", type=Path, help="where scale hosts are kept")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    facts = machine.describe()  # before anything runs: the load, the tree as measured
    with tempfile.TemporaryDirectory(prefix="bench-run-", dir="/var/tmp") as tmp:
        work = Path(tmp)
        print("round trips ...", flush=True)
        rt = roundtrips.collect(work / "roundtrips")
        print("scale ...", flush=True)
        sc = scale.collect(args.counts, args.repeat, args.cache_dir or default_cache_dir(),
                           work / "scale")
        print("latency ...", flush=True)
        lat = latency.collect(args.latency_ms, work / "latency")
    print("vhdfile ...", flush=True)
    disk = vhdfile_section(args.vhdfile_repeat)
    sections = [headline(rt, sc, disk), roundtrips.section(rt), scale.section(sc),
                latency.section(lat, args.latency_ms), disk]
    elapsed = time.perf_counter() - start
    sections.insert(0, machine_section(facts, elapsed))
    for section in sections:
        print(section.text())
    args.output.write_text(document(sections))
    print(f"wrote {args.output} ({seconds(elapsed)})")
    return 0
