"""Rescue and unrescue of a VM's boot disk on the emulated host, over both adapters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.unit.hyperv.conftest import files_for, inventory, plan_for

import vhdfile
from hyperv_emulator import Host
from nova_hyperv.hyperv import HyperVClient, RequestedState, Vm
from nova_hyperv.hyperv import rescue as hv_rescue

GEN2 = {"hw_machine_type": "hyperv-gen2"}


def make(client: HyperVClient, tmp_path: Path, properties: dict[str, str] | None = None,
         **kwargs: Any) -> tuple[Vm, str, str]:
    plan = plan_for(client, properties=properties, **kwargs)
    files = files_for(plan, tmp_path)
    vm = client.create_vm(plan, files=files, switch=None, data_root=str(tmp_path))
    rescue = tmp_path / "root-rescue.vhdx"
    vhdfile.create(rescue, "vhdx", "dynamic", 32 << 20)
    return vm, files["root"], str(rescue)


def drives(host: Host) -> dict[str, list[tuple[int, str]]]:
    [vm] = inventory(host)
    return {c["controller"]: [(d["slot"], Path(d["path"]).name) for d in c["drives"]]
            for c in vm["storage"] if c["drives"]}


@pytest.mark.parametrize(("properties", "boot", "moved"), [
    (None, "IDE 0", ("IDE 0", (1, "root.vhdx"))),
    (GEN2, "SCSI 0", ("SCSI 0", (1, "root.vhdx"))),
])
def test_rescue_boots_the_rescue_disk_and_attaches_the_root(
        client: HyperVClient, host: Host, tmp_path: Path, properties: dict[str, str] | None,
        boot: str, moved: tuple[str, tuple[int, str]]) -> None:
    vm, root, rescue = make(client, tmp_path, properties)
    generation = hv_rescue.read_firmware(client.session, vm).generation
    assert generation == (2 if properties else 1)
    hv_rescue.rescue_disk(client.session, client.service, vm, generation, root=root,
                          rescue=rescue)
    found = drives(host)
    assert found[boot][0] == (0, "root-rescue.vhdx")
    assert moved[1] in found[moved[0]]
    # it starts (the emulator opens every image, as a VM's worker does)
    assert client.set_state(vm, RequestedState.START).state.name == "RUNNING"
    client.set_state(vm, RequestedState.TURN_OFF)

    hv_rescue.unrescue_disk(client.session, client.service, vm, generation, root=root)
    assert drives(host)[boot] == [(0, "root.vhdx")]


def test_gen1_root_goes_to_scsi_when_ide_is_full(client: HyperVClient, host: Host,
                                                 tmp_path: Path) -> None:
    vm, _, _ = make(client, tmp_path, ephemeral_gb=1)
    disks = hv_rescue.read_disks(client.session, vm)
    # fill IDE 0:1 and IDE 1:1 with data disks
    for bus, controller, slot in (("ide", 0, 1), ("ide", 1, 1)):
        assert disks.free_slot(1) == (bus, controller, slot)
        disks.drives.append(hv_rescue.Drive(bus, controller, slot, disks.drives[0].setting))
    assert disks.free_slot(1)[0] == "scsi"


def test_secure_boot_and_generation_are_read(client: HyperVClient, tmp_path: Path) -> None:
    vm, _, _ = make(client, tmp_path, {**GEN2, "os_secure_boot": "required",
                                       "os_type": "linux"})
    assert hv_rescue.read_firmware(client.session, vm) == hv_rescue.VmFirmware(2, True)


def test_a_boot_drive_not_holding_the_root_is_refused(client: HyperVClient,
                                                      tmp_path: Path) -> None:
    vm, _, rescue = make(client, tmp_path)
    with pytest.raises(hv_rescue.RescueError, match="not its root disk"):
        hv_rescue.rescue_disk(client.session, client.service, vm, 1,
                              root=str(tmp_path / "other.vhdx"), rescue=rescue)


def test_a_failed_rescue_puts_the_root_back(client: HyperVClient, host: Host,
                                            tmp_path: Path) -> None:
    vm, root, _ = make(client, tmp_path)
    missing = str(tmp_path / "no-such-rescue.vhdx")  # the host refuses a missing image
    with pytest.raises(Exception, match="no-such-rescue"):
        hv_rescue.rescue_disk(client.session, client.service, vm, 1, root=root,
                              rescue=missing)
    assert drives(host)["IDE 0"] == [(0, "root.vhdx")]


def test_unrescue_of_a_vm_that_is_not_rescued_changes_nothing(
        client: HyperVClient, host: Host, tmp_path: Path) -> None:
    vm, root, _ = make(client, tmp_path)
    before = drives(host)
    hv_rescue.unrescue_disk(client.session, client.service, vm, 1, root=root)
    assert drives(host) == before


def test_iso_root_cannot_be_rescued(client: HyperVClient, tmp_path: Path) -> None:
    vm, root, rescue = make(client, tmp_path, file_format="iso")
    with pytest.raises(hv_rescue.RescueError, match="boots from a volume or a DVD"):
        hv_rescue.rescue_disk(client.session, client.service, vm, 1, root=root,
                              rescue=rescue)
