"""`nova-hyperv host`: init (with NUMA reshaping), show, reset, settings; exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hyperv_emulator import open_host
from nova_hyperv.cli import main


def _vm(state: Path) -> None:
    host = open_host(state)
    with host.session() as session:
        service = session.query("SELECT * FROM Msvm_VirtualSystemManagementService")[0].path
        vssd = session.new_instance("Msvm_VirtualSystemSettingData")
        vssd["ElementName"] = "web-1"
        vssd["VirtualSystemSubType"] = "Microsoft:Hyper-V:SubType:2"
        system = session.invoke(service, "DefineSystem", SystemSettings=vssd)["ResultingSystem"]
        session.invoke(system, "RequestStateChange", RequestedState=2)


def test_init_show_reset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "host.db"
    assert main(["host", "init", str(state), "--profile", "ws2019", "--numa-nodes", "2",
                 "--memory-per-node-gb", "16", "--logical-processors", "8",
                 "--hostname", "EMU1", "--vswitch", "ext"]) == 0
    assert "8 logical processors, 2 NUMA node(s), 32768 MB" in capsys.readouterr().out
    _vm(state)
    assert main(["host", "show", str(state)]) == 0
    text = capsys.readouterr().out
    assert "Host EMU1: Microsoft Windows Server 2019 Datacenter (10.0.17763)" in text
    assert "NUMA node 1: 4 logical processors, 16384 MB" in text
    assert "VM web-1 (" in text and "generation 2, Running" in text
    assert "Secure Boot on (MicrosoftWindows)" in text
    assert main(["host", "show", str(state), "--json"]) == 0
    described = json.loads(capsys.readouterr().out)
    assert described["host"]["vswitches"] == ["ext"]
    vm = described["vms"][0]
    assert (vm["name"], vm["generation"], vm["state"]) == ("web-1", 2, "Running")
    assert [p["name"] for p in vm["serial_ports"]] == ["COM 1", "COM 2"]
    assert described["host"]["free_memory_mb"] == 32768 - 1024
    assert main(["host", "reset", str(state)]) == 0
    capsys.readouterr()
    assert main(["host", "show", str(state), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["vms"] == []


HOST_FILE = """
preset = "ws2016"
guarded = true

[[assignable_devices]]
vendor_id = "10DE"
product_id = "13F2"
location_path = "PCIROOT(0)#PCI(0300)#PCI(0000)"
"""


def _secure_remotefx_dda_vm(state: Path, pdk: Path) -> None:
    """A VM with a vTPM (from a PDK), a RemoteFX adapter and an assigned GPU."""
    from tests.unit.emulator.hvclient import Client
    from tests.unit.emulator.test_pci import assignment
    from tests.unit.emulator.test_remotefx import remotefx, without_synthetic_display
    from tests.unit.emulator.test_security import Security

    from hyperv_emulator.profiles import AssignableDevice
    from hyperv_emulator.shielding_data import write_pdk

    client = Client(open_host(state).session())
    system = client.define("secure-1", AutomaticShutdownAction=2)
    security = Security(client)
    security.protect(system, list(write_pdk(pdk).key_protector))
    client.ok(security.modify(system, TpmEnabled=True, EncryptStateAndVmMigrationTraffic=True))
    without_synthetic_display(client, system)
    client.add_ok(system, remotefx(client, resolution=3, monitors=2, vram=256 * 2**20))
    client.add_ok(system, assignment(client, AssignableDevice(
        "10DE", "13F2", "PCIROOT(0)#PCI(0300)#PCI(0000)")))


def test_show_security_remotefx_and_pci(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "host.db"
    host_file = tmp_path / "host.toml"
    host_file.write_text(HOST_FILE)
    assert main(["host", "init", str(state), "--profile", str(host_file)]) == 0
    assert main(["host", "show", str(state)]) == 0
    text = capsys.readouterr().out
    assert "guarded host: yes" in text
    assert "RemoteFX GPU NVIDIA GRID K2 (4096 MB): enabled for RemoteFX" in text
    assert "assignable PCI device 10DE:13F2 at PCIROOT(0)#PCI(0300)#PCI(0000): free" in text
    _secure_remotefx_dda_vm(state, tmp_path / "t.pdk")
    assert main(["host", "show", str(state)]) == 0
    text = capsys.readouterr().out
    assert "PCIROOT(0)#PCI(0300)#PCI(0000): assigned to secure-1" in text
    assert ("security: TPM on, shielding off, state encryption on, key protector set"
            in text)
    assert "RemoteFX: 2 monitor(s) at up to 1920x1200, 256 MB VRAM" in text
    assert "  PCI device 10DE:13F2 at PCIROOT(0)#PCI(0300)#PCI(0000)" in text
    assert main(["host", "show", str(state), "--json"]) == 0
    vm = json.loads(capsys.readouterr().out)["vms"][0]
    assert vm["security"]["key_protector"] is True and vm["security"]["provisioned"] is False
    assert vm["remotefx"] == {"monitors": 2, "resolution": "1920x1200", "vram_mb": 256}
    assert [d["vendor_id"] for d in vm["pci_devices"]] == ["10DE"]


def test_settings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "host.db"
    main(["host", "init", str(state)])
    assert main(["host", "settings", str(state), "--job-polls", "3", "--latency-ms", "2"]) == 0
    assert "job_polls=3 latency_ms=2.0" in capsys.readouterr().out
    assert open_host(state).settings.job_polls == 3


@pytest.mark.parametrize(("argv", "message"), [
    (["host", "init", "{state}", "--numa-nodes", "3", "--logical-processors", "8"],
     "split evenly"),
    (["host", "init", "{state}", "--profile", "ws1999"], "neither a preset"),
    (["host", "init", "{state}", "--hostname", "much-too-long-a-name"], "1 to 15"),
    (["host", "show", "{missing}"], "no emulated host"),
    (["host", "settings", "{missing}", "--job-polls", "1"], "no emulated host"),
])
def test_refusals_exit_2_with_a_reason(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                       argv: list[str], message: str) -> None:
    args = [a.format(state=tmp_path / "h.db", missing=tmp_path / "none.db") for a in argv]
    assert main(args) == 2
    assert message in capsys.readouterr().err


def test_init_does_not_overwrite_without_force(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "host.db"
    assert main(["host", "init", str(state)]) == 0
    assert main(["host", "init", str(state)]) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["host", "init", str(state), "--force", "--profile", "ws2025"]) == 0
    assert open_host(state).profile.windows_version == "10.0.26100"
