"""Discrete Device Assignment: assignable host devices, their PCI location, the VM rules."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.emulator.hvclient import HV, Client, client_for

from hyperv_emulator.errors import CimError
from hyperv_emulator.instances import Instance
from hyperv_emulator.profiles import PRESETS, AssignableDevice

GPU_A = AssignableDevice("10DE", "13F2", "PCIROOT(0)#PCI(0300)#PCI(0000)")
GPU_B = AssignableDevice("10DE", "13F2", "PCIROOT(0)#PCI(0301)#PCI(0000)")
NIC = AssignableDevice("8086", "1572", "PCIROOT(0)#PCI(0300)#PCI(0201)", numa_node=1)
PROFILE = PRESETS["ws2022"].replace(assignable_devices=(GPU_A, GPU_B, NIC))
PCI = HV + "Virtual Pci Express Port"


@pytest.fixture
def dda(tmp_path: Path) -> Client:
    return client_for(tmp_path, PROFILE)


def host_device(client: Client, device: AssignableDevice) -> Instance:
    found = client.session.query("SELECT * FROM Msvm_PciExpress WHERE LocationPath = "
                                 f"'{device.location_path}'")
    return next(d for d in found if d["SystemName"] == client.session.host.hostname)


def assignment(client: Client, device: AssignableDevice) -> Instance:
    setting = client.session.query("SELECT * FROM Msvm_PciExpressSettingData WHERE "
                                   "InstanceID LIKE '%\\\\Default'")[0]
    setting["HostResource"] = [str(host_device(client, device).path)]
    return setting


def dda_vm(client: Client, name: str = "vm1", **values: object) -> str:
    """A VM ready for a device: its automatic stop action is TurnOff."""
    return client.define(name, AutomaticShutdownAction=2, **values)


def test_assignable_devices_of_the_host(dda: Client) -> None:
    devices = dda.session.query("SELECT * FROM Msvm_PciExpress")
    assert [d["LocationPath"] for d in devices] == [GPU_A.location_path, GPU_B.location_path,
                                                    NIC.location_path]
    first = devices[0]
    assert first["DeviceInstancePath"] == GPU_A.instance_path
    assert first["DeviceInstancePath"].startswith("PCIP\\VEN_10DE&DEV_13F2&SUBSYS_")
    # os-win matches VEN_xxxx&DEV_yyyy& in the DeviceID and in the object path.
    assert "VEN_10DE&DEV_13F2&" in first["DeviceID"] and "VEN_10DE&DEV_13F2&" in str(first.path)
    assert devices[2]["FunctionNumber"] == 1


def test_pnp_device_properties_give_the_pci_location(dda: Client) -> None:
    def properties(device: AssignableDevice, *keys: str) -> dict[str, object]:
        entity = dda.session.query("SELECT * FROM Win32_PnPEntity WHERE DeviceID = "
                                   f"'{device.instance_path.replace(chr(92), chr(92) * 2)}'",
                                   "root/cimv2")[0]
        inputs = {"devicePropertyKeys": list(keys)} if keys else {}
        result = dda.session.invoke(entity.path, "GetDeviceProperties", **inputs)
        assert result.return_value == 0
        return {p["KeyName"]: p["Data"] for p in result["deviceProperties"]}

    gpu_a, gpu_b, nic = properties(GPU_A), properties(GPU_B), properties(NIC)
    # Bus by upstream port; device and function from the location path's last PCI(DDFF).
    assert gpu_a["DEVPKEY_Device_LocationInfo"] == "PCI bus 1, device 0, function 0"
    assert gpu_b["DEVPKEY_Device_LocationInfo"] == "PCI bus 2, device 0, function 0"
    assert nic["DEVPKEY_Device_LocationInfo"] == "PCI bus 1, device 2, function 1"
    assert nic["DEVPKEY_Device_Address"] == (2 << 16) | 1  # (device << 16) | function
    assert nic["DEVPKEY_Device_LocationPaths"] == (NIC.location_path,)
    assert list(properties(NIC, "DEVPKEY_Device_Address", "DEVPKEY_Unknown")) == [
        "DEVPKEY_Device_Address"]


def test_assigning_a_device(dda: Client) -> None:
    system = dda_vm(dda)
    added = dda.session.get(dda.add_ok(system, assignment(dda, GPU_A)))
    assert added["HostResource"] == (str(host_device(dda, GPU_A).path),)
    assert added["VirtualSystemIdentifiers"]
    guid = dda.session.get(system)["Name"]
    twins = dda.session.query("SELECT * FROM Msvm_PciExpress WHERE LocationPath = "
                              f"'{GPU_A.location_path}'")
    # The assigned device also shows as the VM's: how os-win sees it is taken.
    assert sorted(t["SystemName"] for t in twins) == sorted([dda.session.host.hostname, guid])
    vm_side = next(t for t in twins if t["SystemName"] == guid)
    assert dda.session.associators(vm_side.path, assoc_class="Msvm_LogicalIdentity")[0][
        "SystemName"] == dda.session.host.hostname
    dda.ok(dda.call("RemoveResourceSettings", ResourceSettings=[str(added.path)]))
    assert len(dda.session.query("SELECT * FROM Msvm_PciExpress WHERE LocationPath = "
                                 f"'{GPU_A.location_path}'")) == 1


def test_one_vm_per_device(dda: Client) -> None:
    first = dda_vm(dda, "vm1")
    dda.add_ok(first, assignment(dda, GPU_A))
    second = dda_vm(dda, "vm2")
    job = dda.refused(dda.add(second, assignment(dda, GPU_A)), 32773)
    assert "already assigned to 'vm1'" in job["ErrorDescription"]
    assert "already assigned" in dda.refused(dda.add(first, assignment(dda, GPU_A)), 32773)[
        "ErrorDescription"]
    dda.add_ok(second, assignment(dda, GPU_B))
    dda.ok(dda.call("DestroySystem", AffectedSystem=first))  # destroying frees the device
    dda.add_ok(dda_vm(dda, "vm3"), assignment(dda, GPU_A))


def test_the_device_must_be_one_of_the_hosts(dda: Client) -> None:
    system = dda_vm(dda)
    setting = assignment(dda, GPU_A)
    setting["HostResource"] = []
    dda.refused(dda.add(system, setting), 32773)
    setting["HostResource"] = [str(host_device(dda, GPU_A).path).replace("HV-WS2022\"",
                                                                         "OTHER\"")]
    assert "not an assignable PCI Express device" in dda.refused(dda.add(system, setting),
                                                                 32773)["ErrorDescription"]


def test_assigning_needs_the_vm_off_and_stop_action_turn_off(dda: Client) -> None:
    saving = dda.define("saving")  # a new VM saves itself when the host shuts down
    job = dda.refused(dda.add(saving, assignment(dda, GPU_A)), 32773)
    assert "AutomaticShutdownAction to 2" in job["ErrorDescription"]
    system = dda_vm(dda)
    dda.ok(dda.state(system, 2))
    assert "to be off" in dda.refused(dda.add(system, assignment(dda, GPU_A)), 32775)[
        "ErrorDescription"]
    dda.ok(dda.state(system, 3))
    added = dda.add_ok(system, assignment(dda, GPU_A))
    dda.ok(dda.state(system, 2))
    dda.refused(dda.call("RemoveResourceSettings", ResourceSettings=[added]), 32775)


def test_a_vm_with_a_device(dda: Client) -> None:
    system = dda_vm(dda)
    vssd = dda.vssd(system)
    vssd["VirtualNumaEnabled"] = False
    dda.ok(dda.call("ModifySystemSettings", SystemSettings=vssd))
    dda.add_ok(system, assignment(dda, GPU_A))
    # ... keeps TurnOff as its automatic stop action,
    vssd = dda.vssd(system)
    vssd["AutomaticShutdownAction"] = 3
    job = dda.refused(dda.call("ModifySystemSettings", SystemSettings=vssd), 32773)
    assert "cannot be saved" in job["ErrorDescription"]
    # ... cannot use dynamic memory,
    memory = dda.devices(system, "Msvm_MemorySettingData")[0]
    memory.update({"DynamicMemoryEnabled": True, "Reservation": 512, "Limit": 2048})
    job = dda.refused(dda.call("ModifyResourceSettings", ResourceSettings=[memory]), 32773)
    assert "PCI Express device is assigned" in job["ErrorDescription"]
    # ... and cannot be saved (a job that fails; the VM keeps running).
    dda.ok(dda.state(system, 2))
    job = dda.refused(dda.state(system, 6), 32775)
    assert "cannot be saved" in job["ErrorDescription"]
    assert dda.enabled_state(system) == 2
    dda.ok(dda.state(system, 9))  # pausing is fine
    dda.refused(dda.state(system, 6), 32775)


def test_a_vm_with_dynamic_memory_gets_no_device(dda: Client) -> None:
    system = dda_vm(dda, VirtualNumaEnabled=False)
    memory = dda.devices(system, "Msvm_MemorySettingData")[0]
    memory.update({"DynamicMemoryEnabled": True, "Reservation": 512, "Limit": 2048})
    dda.ok(dda.call("ModifyResourceSettings", ResourceSettings=[memory]))
    assert "dynamic memory" in dda.refused(dda.add(system, assignment(dda, GPU_A)), 32773)[
        "ErrorDescription"]


def test_no_dda_before_2016(tmp_path: Path) -> None:
    client = client_for(tmp_path, PRESETS["ws2012r2"].replace(assignable_devices=(GPU_A,)))
    with pytest.raises(CimError):
        client.session.query("SELECT * FROM Msvm_PciExpress")
