"""One driver's measurements, in a process of its own; the parent reads its JSON.

    python -m bench.worker roundtrips --driver oswin --workdir DIR --out FILE
    python -m bench.worker scale --driver oswin --state HOST.db --disks DIR --count N --out FILE
    python -m bench.worker latency --driver oswin --workdir DIR --latency-ms 5 --out FILE

Why a process per driver: os-win imports eventlet and Nova's services run in threading
mode, which cannot share an interpreter; and the scale run's peak RSS must be that of
the process holding the driver and the emulated host, nothing else. The emulated host
runs in this process (the embedded host, as `emulated://` puts it in nova-compute).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from bench import oswin_flows, ours_flows
from bench.flows import (
    Flows,
    NotReady,
    RunResult,
    counted,
    make_scenario,
    run_scenario,
    scenario_steps,
)
from bench.hosts import VOLUME_DISKS, new_host, scale_instance
from hyperv_emulator import open_host
from hyperv_emulator.host import Host

REPO = Path(__file__).resolve().parents[1]
DRIVERS = ("oswin", "ours")
LABELS = {"oswin": oswin_flows.LABEL, "ours": ours_flows.LABEL}

SCALE_OPERATIONS = ("list_instances", "get_info_all", "get_available_resource",
                    "update_provider_tree", "sync_power_states")
SPAWNS = ("spawn_basic_gen1", "spawn_full_gen2")


def open_flows(driver: str, host: Host, workdir: Path) -> Flows:
    if driver == "oswin":
        warnings.filterwarnings("ignore", message="(?s).*Eventlet is deprecated")
        return oswin_flows.OsWinFlows(host)
    if driver == "ours":
        return ours_flows.create(host, workdir)
    raise ValueError(f"--driver {driver!r}: one of {', '.join(DRIVERS)}")


def rss_kib(field: str) -> int | None:
    """VmRSS (now) or VmHWM (peak) of this process, from /proc (Linux)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def not_ready(driver: str, reason: str) -> dict[str, Any]:
    return {"label": LABELS[driver], "not_ready": reason}


# -- tasks --------------------------------------------------------------------------


def roundtrips(driver: str, workdir: Path) -> dict[str, Any]:
    host = new_host(workdir / "host.db")
    scenario = make_scenario(workdir / "instances", volume_disks=VOLUME_DISKS)
    try:
        flows = open_flows(driver, host, workdir)
    except NotReady as exc:
        return RunResult(LABELS[driver], {}, [], str(exc)).to_json()
    try:
        return run_scenario(flows, scenario).to_json()
    finally:
        flows.close()


def _timed(flows: Flows, key: str, action: Callable[[], object],
           repeat: int) -> dict[str, Any]:
    best = float("inf")
    trips = None
    for _ in range(repeat):
        start = time.perf_counter()
        with counted(flows.counters, key) as stats:
            action()
        best = min(best, time.perf_counter() - start)
        if trips is not None and trips != stats.as_dict():
            raise RuntimeError(f"{key}: {stats.as_dict()} round trips, {trips} the run "
                               "before: the count must not depend on the run")
        trips = stats.as_dict()
    return {"trips": trips, "seconds": best}


def scale(driver: str, state: Path, disks: Path, count: int, repeat: int) -> dict[str, Any]:
    host = open_host(state)
    instances = [scale_instance(n, disks) for n in range(count)]
    rss_before = rss_kib("VmRSS")
    try:
        flows = open_flows(driver, host, state.parent)
    except NotReady as exc:
        return not_ready(driver, str(exc))
    rss_started, threads_started = rss_kib("VmRSS"), threading.active_count()
    actions: Mapping[str, Callable[[], object]] = {
        "list_instances": flows.list_instances,
        "get_info_all": lambda: [flows.get_info(spec) for spec in instances],
        "get_available_resource": flows.get_available_resource,
        "update_provider_tree": flows.update_provider_tree,
        "sync_power_states": lambda: flows.sync_power_states(instances),
    }
    ops: dict[str, Any] = {}
    try:
        listed = flows.list_instances()
        if len(listed) != count:
            raise RuntimeError(f"the host lists {len(listed)} instances, not {count}")
        for key in SCALE_OPERATIONS:
            try:
                ops[key] = _timed(flows, key, actions[key], repeat)
            except NotReady as exc:
                ops[key] = {"trips": None, "seconds": None, "not_ready": str(exc)}
    finally:
        flows.close()
    return {
        "label": flows.label, "not_ready": None, "count": count, "ops": ops,
        "notes": list(flows.notes), "rss_start_kib": rss_before,
        "rss_started_kib": rss_started, "threads_started": threads_started,
        "rss_peak_kib": rss_kib("VmHWM"), "state_bytes": state.stat().st_size,
    }


def latency(driver: str, workdir: Path, latency_ms: float) -> dict[str, Any]:
    host = new_host(workdir / "host.db")
    host.update_settings(latency_ms=latency_ms)
    scenario = make_scenario(workdir / "instances", volume_disks=VOLUME_DISKS)
    try:
        flows = open_flows(driver, host, workdir)
    except NotReady as exc:
        return not_ready(driver, str(exc))
    steps = dict(scenario_steps(scenario))
    ops: dict[str, Any] = {}
    try:
        for key in SPAWNS:
            try:
                ops[key] = _timed(flows, key, lambda key=key: steps[key](flows), 1)
            except NotReady as exc:
                ops[key] = {"trips": None, "seconds": None, "not_ready": str(exc)}
    finally:
        flows.close()
    return {"label": flows.label, "not_ready": None, "latency_ms": latency_ms, "ops": ops}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("task", choices=("roundtrips", "scale", "latency"))
    parser.add_argument("--driver", choices=DRIVERS, required=True)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--state", type=Path)
    parser.add_argument("--disks", type=Path, help="the scale host's instance folders")
    parser.add_argument("--count", type=int)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--latency-ms", type=float, default=5.0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.task == "scale":
        if args.state is None or args.count is None or args.disks is None:
            parser.error("scale needs --state, --disks and --count")
        result = scale(args.driver, args.state, args.disks, args.count, args.repeat)
    else:
        if args.workdir is None:
            parser.error(f"{args.task} needs --workdir")
        if args.task == "roundtrips":
            result = roundtrips(args.driver, args.workdir)
        else:
            result = latency(args.driver, args.workdir, args.latency_ms)
    args.out.write_text(json.dumps(result, indent=1))
    return 0


def run_in_child(task: str, driver: str, out: Path, **options: object) -> dict[str, Any]:
    """Run a task in a fresh interpreter (see the module docstring) and read its JSON."""
    argv = [sys.executable, "-m", "bench.worker", task, "--driver", driver, "--out", str(out)]
    for name, value in options.items():
        argv += [f"--{name.replace('_', '-')}", str(value)]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p))
    done = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[1:])} failed ({done.returncode}):\n"
                           f"{done.stderr[-4000:]}")
    return json.loads(out.read_text())


if __name__ == "__main__":
    sys.exit(main())
