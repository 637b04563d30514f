"""`nova-hyperv host fault ...`, `host restart`, and what `host show` says of running VMs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hyperv_emulator import open_host, serial
from nova_hyperv.cli import main

VSMS = "SELECT * FROM Msvm_VirtualSystemManagementService"


def _define(state: Path, name: str, memory_mb: int = 1024, per_node_mb: int | None = None,
            pipe: str | None = None, **values: object) -> str:
    with open_host(state).session() as session:
        service = session.query(VSMS)[0].path
        vssd = session.new_instance("Msvm_VirtualSystemSettingData")
        vssd["ElementName"] = name
        vssd["VirtualSystemSubType"] = "Microsoft:Hyper-V:SubType:2"
        vssd.update(values)
        result = session.invoke(service, "DefineSystem", SystemSettings=vssd)
        assert result.return_value == 0, result
        system = result["ResultingSystem"]
        guid = session.get(system)["Name"]
        memory = session.query("SELECT * FROM Msvm_MemorySettingData WHERE InstanceID LIKE "
                               f"'Microsoft:{guid}%'")[0]
        memory["VirtualQuantity"] = memory_mb
        memory["MaxMemoryBlocksPerNumaNode"] = per_node_mb or memory_mb
        changes = [memory]
        if pipe is not None:
            port = session.query("SELECT * FROM Msvm_SerialPortSettingData WHERE InstanceID "
                                 f"LIKE 'Microsoft:{guid}%'")[0]
            port["Connection"] = [pipe]
            changes.append(port)
        assert session.invoke(service, "ModifyResourceSettings",
                              ResourceSettings=changes).return_value == 0
        return system


def _start(state: Path, system: str) -> tuple[int, int | None]:
    with open_host(state).session() as session:
        result = session.invoke(system, "RequestStateChange", RequestedState=2)
        if result.job is None:
            return result.return_value, None
        return result.return_value, session.get(result.job)["ErrorCode"]


def test_fault_add_list_clear(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "host.db"
    main(["host", "init", str(state)])
    capsys.readouterr()
    assert main(["host", "fault", "add", str(state), "--method", "RequestStateChange",
                 "--nth", "1", "--code", "32778", "--as-job"]) == 0
    assert capsys.readouterr().out.strip() == (
        "#1 RequestStateChange: call 1 fails with 32778 as a failed job; 0 calls seen")
    assert main(["host", "fault", "hang", str(state), "--method", "DestroySystem",
                 "--times", "0"]) == 0
    system = _define(state, "vm1")
    assert _start(state, system) == (4096, 32778)  # met in this process, set by the CLI
    assert _start(state, system) == (4096, 0)
    capsys.readouterr()
    assert main(["host", "fault", "list", str(state)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "#1 RequestStateChange: call 1 fails with 32778 as a failed job; spent",
        "#2 DestroySystem: call 1 and every later one: its job hangs until killed; "
        "0 calls seen",
    ]
    assert main(["host", "fault", "clear", str(state), "--id", "1"]) == 0
    assert main(["host", "fault", "clear", str(state)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "removed 1 fault(s)"
    assert main(["host", "fault", "list", str(state)]) == 0
    assert capsys.readouterr().out.strip() == "no faults"


@pytest.mark.parametrize(("argv", "message"), [
    (["--method", "DefineSystem", "--code", "4096"], "4096 means a job started"),
    (["--method", "Frobnicate", "--code", "32768"], "has a method 'Frobnicate'"),
    (["--method", "DefineSystem", "--code", "32768", "--nth", "0"], "nth 0 must be 1"),
])
def test_fault_add_refusals(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                            argv: list[str], message: str) -> None:
    state = tmp_path / "host.db"
    main(["host", "init", str(state)])
    assert main(["host", "fault", "add", str(state), *argv]) == 2
    assert message in capsys.readouterr().err


def test_restart(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "host.db"
    main(["host", "init", str(state)])
    keep = _define(state, "keep", AutomaticShutdownAction=3, AutomaticStartupAction=3)
    _define(state, "idle", AutomaticStartupAction=2)
    _start(state, keep)
    capsys.readouterr()
    assert main(["host", "restart", str(state)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == ["HV-WS2022 restarted: 2 VM(s)",
                   "  keep: Running -> Saved -> Running",
                   "  idle: Off -> Off -> Off"]


def test_show_prints_numa_placement_and_serial_endpoints(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "host.db"
    main(["host", "init", str(state), "--numa-nodes", "2", "--memory-per-node-gb", "16"])
    wide = _define(state, "wide", 16384, per_node_mb=8192, pipe=r"\\.\pipe\wide")
    _start(state, wide)
    capsys.readouterr()
    assert main(["host", "show", str(state)]) == 0
    text = capsys.readouterr().out
    assert "running: virtual NUMA node 0: 8192 MB on node 0, 1 processor(s) on node 0" in text
    assert "running: virtual NUMA node 1: 8192 MB on node 1, 0 processor(s) on node 1" in text
    socket = str(state) + r".pipes/wide"
    assert f"running: COM 1 \\\\.\\pipe\\wide -> {socket} (listening)" in text
    assert main(["host", "show", str(state), "--json"]) == 0
    vm = json.loads(capsys.readouterr().out)["vms"][0]
    assert vm["numa_placement"][1]["memory_mb"] == {"1": 8192}
    serial.stop_serving(state)
    assert not Path(socket).exists()
    assert main(["host", "show", str(state)]) == 0  # its session takes the orphan over
    assert f"-> {socket} (listening)" in capsys.readouterr().out
    serial.stop_serving(state)
