"""Scale hosts (built once, reused, copied) and the per-driver worker."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from bench import hosts, worker
from bench.flows import ESSENTIAL, OPERATION_KEYS
from bench.hosts import RUNNING_EVERY, ScaleHost, build_fingerprint, scale_host
from tests.unit.bench.conftest import TINY

from hyperv_emulator import open_host
from hyperv_emulator.inventory import describe


def test_a_scale_host_is_built_once_and_reused(tiny_scale: ScaleHost) -> None:
    stamp = tiny_scale.state.stat().st_mtime_ns
    again = scale_host(TINY, tiny_scale.state.parent)
    assert again.state == tiny_scale.state
    assert again.state.stat().st_mtime_ns == stamp
    assert [s.name for s in again.instances] == [s.name for s in tiny_scale.instances]
    assert build_fingerprint() in tiny_scale.state.name


def test_a_copy_holds_the_instances_a_third_of_them_running(tiny_scale: ScaleHost,
                                                            tmp_path: Path) -> None:
    copy = tiny_scale.copy_to(tmp_path / "copy.db")
    with open_host(copy).session() as session:
        vms = session.query("SELECT ElementName, EnabledState FROM Msvm_ComputerSystem "
                            "WHERE Caption = 'Virtual Machine'")
    assert sorted(v["ElementName"] for v in vms) == [s.name for s in tiny_scale.instances]
    running = sum(1 for v in vms if v["EnabledState"] == 2)
    assert running == len(range(0, TINY, RUNNING_EVERY))
    for spec in tiny_scale.instances:
        assert spec.root.is_file()


def test_scale_worker_counts_oswin_on_a_tiny_host(tiny_scale: ScaleHost,
                                                  tmp_path: Path) -> None:
    copy = tiny_scale.copy_to(tmp_path / "host.db")
    result = worker.scale("oswin", copy, tiny_scale.disks, TINY, repeat=2)
    ops = result["ops"]
    assert set(ops) == set(worker.SCALE_OPERATIONS)
    assert all(op["trips"]["total"] > 0 and op["seconds"] > 0 for op in ops.values())
    # Nova's power-state sync is the instance count (list_instances) plus one get_info
    # per instance: with os-win, exactly the sum of the two.
    assert ops["sync_power_states"]["trips"]["total"] == (
        ops["get_info_all"]["trips"]["total"] + ops["list_instances"]["trips"]["total"])
    assert result["rss_peak_kib"] >= result["rss_start_kib"] > 0
    assert result["state_bytes"] == copy.stat().st_size


def test_our_driver_counts_in_a_child_process(tmp_path: Path) -> None:
    # In a process of its own: nova's threading mode cannot share one with os-win.
    out = tmp_path / "ours.json"
    result = worker.run_in_child("roundtrips", "ours", out, workdir=tmp_path / "ours")
    assert result == json.loads(out.read_text())
    assert result["label"] == "nova-hyperv" and result["not_ready"] is None
    counts = result["counts"]
    assert counts["spawn_basic_gen1"]["total"] > 0
    stopped = False
    for key in OPERATION_KEYS:
        # A cell is counted, or left empty with the reason in the notes, or comes after a
        # spawn that could not run (the run stops there).
        noted = any(note.startswith(f"{key}: not ") for note in result["notes"])
        assert (counts[key] is not None) != (noted or stopped), key
        stopped = stopped or (noted and key in ESSENTIAL)
    again = worker.run_in_child("roundtrips", "ours", tmp_path / "again.json",
                                workdir=tmp_path / "again")
    assert again["counts"] == counts
    with open_host(tmp_path / "ours" / "host.db").session() as session:
        vms = {vm["name"]: vm for vm in describe(session)["vms"]}
    basic = vms["instance-basic"]
    assert (basic["generation"], basic["state"]) == (1, "Running")
    assert basic["notes"] == ["0b1c5e2a-6f57-4c1b-9a54-3d0f7c1a0001"]
    [root] = next(c for c in basic["storage"] if c["controller"] == "IDE 0")["drives"]
    assert root["path"].startswith(str(tmp_path / "ours" / "ours-instances"))


def test_our_periodic_tasks_do_not_grow_with_the_instances(tiny_scale: ScaleHost,
                                                            tmp_path: Path) -> None:
    copy = tiny_scale.copy_to(tmp_path / "host.db")
    result = worker.run_in_child("scale", "ours", tmp_path / "scale.json", state=copy,
                                 disks=tiny_scale.disks, count=TINY, repeat=1)
    trips = {key: op["trips"]["total"] for key, op in result["ops"].items()}
    assert trips["get_info_all"] == TINY  # one lookup per instance, by name
    assert trips["sync_power_states"] == trips["list_instances"] == 1
    assert trips["update_provider_tree"] == 0 < trips["get_available_resource"]
    assert result["rss_peak_kib"] >= result["rss_started_kib"] > result["rss_start_kib"] > 0
    assert result["threads_started"] >= 1


def test_a_failing_child_says_why(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="scale needs --state"):
        worker.run_in_child("scale", "oswin", tmp_path / "x.json")


def test_the_worker_imports_neither_os_win_nor_eventlet_until_asked() -> None:
    # Our driver's worker runs Nova in threading mode, which eventlet breaks.
    probe = ("import sys, bench.worker; "
             "print(sorted({'os_win', 'eventlet'} & set(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=worker.REPO, check=True,
                          capture_output=True, text=True)
    assert done.stdout.strip() == "[]"


def test_a_new_build_removes_the_hosts_older_code_built(tmp_path: Path) -> None:
    (tmp_path / "scale-2-0ld.db").write_bytes(b"old")
    (tmp_path / "scale-2-0ld.db-wal").write_bytes(b"old")
    (tmp_path / "scale-2-0ld.disks" / "instance-00000").mkdir(parents=True)
    (tmp_path / "scale-20-0ld.db").write_bytes(b"another count: kept")
    built = scale_host(2, tmp_path)
    names = {p.name for p in tmp_path.iterdir()}
    stem = built.state.stem
    assert {f"{stem}.db", f"{stem}.json", f"{stem}.disks"} <= names
    # The emulated host's own siblings (<state>.files, ...) belong to the new build.
    assert {n for n in names if not n.startswith(stem + ".")} == {"scale-20-0ld.db"}


def test_a_failed_build_leaves_nothing_behind(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def define(*args: object, **kwargs: object) -> None:
        calls.append(args)
        if len(calls) == 2:
            raise RuntimeError("the host refused the second VM")
        original(*args, **kwargs)

    original = hosts._define
    monkeypatch.setattr(hosts, "_define", define)
    with pytest.raises(RuntimeError, match="second VM"):
        scale_host(3, tmp_path)
    assert list(tmp_path.iterdir()) == []
