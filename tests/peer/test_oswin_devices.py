"""os-win's RemoteFX and PCI passthrough (DDA) paths on the emulated host, read back
through os-win (hostutils for the host side, vmutils for the VM side)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from os_win import constants
from os_win import exceptions as os_win_exceptions

from hyperv_emulator.host import Host
from hyperv_emulator.profiles import PRESETS, AssignableDevice, HostProfile

MIB = 2**20
GPU_A = AssignableDevice("10DE", "13F2", "PCIROOT(0)#PCI(0300)#PCI(0000)")
GPU_B = AssignableDevice("10DE", "13F2", "PCIROOT(0)#PCI(0301)#PCI(0000)")
NIC = AssignableDevice("8086", "1572", "PCIROOT(0)#PCI(0300)#PCI(0201)")
THREE_D = "Microsoft:Hyper-V:Synthetic 3D Display Controller"
SYNTHETIC = "Microsoft:Hyper-V:Synthetic Display Controller"
S3 = "Microsoft:Hyper-V:S3 Display Controller"


def oswin_utils(emulate: Callable[[HostProfile], Host], profile: HostProfile) -> tuple[Any, Any]:
    emulate(profile)
    from os_win import utilsfactory

    return utilsfactory.get_vmutils(), utilsfactory.get_hostutils()


def displays(vmutils: Any, name: str) -> dict[str, Any]:
    vssd = vmutils._lookup_vm_check(name)
    found = vmutils._compat_conn.query("SELECT * FROM CIM_ResourceAllocationSettingData "
                                       f"WHERE InstanceID LIKE '{vssd.InstanceID}%'")
    return {d.ResourceSubType: d for d in found if d.ResourceType == 24}


# -- RemoteFX -----------------------------------------------------------------------


@pytest.mark.parametrize("generation", [1, 2])
def test_remotefx_on_2016(emulate: Callable[[HostProfile], Host], generation: int) -> None:
    vmutils, hostutils = oswin_utils(emulate, PRESETS["ws2016"])
    assert hostutils.check_server_feature(hostutils.FEATURE_RDS_VIRTUALIZATION) is True
    hostutils.verify_host_remotefx_capability()
    assert hostutils.get_remotefx_gpu_info() == [{
        "name": "NVIDIA GRID K2", "driver_version": "27.21.14.5671",
        "total_video_ram": 4096 * MIB, "available_video_ram": 4096 * MIB,
        "directx_version": "11.0"}]
    vmutils.create_vm("inst-1", False, generation, "C:\\i")
    assert vmutils.vm_gen_supports_remotefx(generation) is True
    vmutils.enable_remotefx_video_adapter("inst-1", 2, constants.REMOTEFX_MAX_RES_2560x1600,
                                          vram_bytes=512 * MIB)
    found = displays(vmutils, "inst-1")
    assert SYNTHETIC not in found
    adapter = found[THREE_D]
    assert (adapter.MaximumMonitors, adapter.MaximumScreenResolution,
            int(adapter.VRAMSizeBytes)) == (2, 4, 512 * MIB)
    if generation == 1:
        assert found[S3].Address == "02C1,00000000,01"
    vmutils.enable_remotefx_video_adapter("inst-1", 1, constants.REMOTEFX_MAX_RES_3840x2160)
    assert displays(vmutils, "inst-1")[THREE_D].MaximumScreenResolution == 5
    vmutils.disable_remotefx_video_adapter("inst-1")
    found = displays(vmutils, "inst-1")
    assert THREE_D not in found and SYNTHETIC in found
    if generation == 1:
        assert found[S3].Address == "5353,00000000,00"


def test_remotefx_on_2012r2_generation1(emulate: Callable[[HostProfile], Host]) -> None:
    vmutils, hostutils = oswin_utils(emulate, PRESETS["ws2012r2"])
    assert type(vmutils).__name__ == "VMUtils6_3"
    assert [g["name"] for g in hostutils.get_remotefx_gpu_info()] == ["NVIDIA GRID K2"]
    assert vmutils.vm_gen_supports_remotefx(2) is False
    vmutils.create_vm("inst-1", False, 1, "C:\\i")
    vmutils.enable_remotefx_video_adapter("inst-1", 3, constants.REMOTEFX_MAX_RES_1600x1200)
    adapter = displays(vmutils, "inst-1")[THREE_D]
    assert (adapter.MaximumMonitors, adapter.MaximumScreenResolution) == (3, 2)
    assert not hasattr(adapter, "VRAMSizeBytes")  # no VRAM setting before 2016


def test_remotefx_is_gone_from_2019(emulate: Callable[[HostProfile], Host]) -> None:
    vmutils, hostutils = oswin_utils(emulate, PRESETS["ws2019"])
    assert hostutils.get_remotefx_gpu_info() == []
    with pytest.raises(os_win_exceptions.HyperVRemoteFXException):
        hostutils.verify_host_remotefx_capability()
    vmutils.create_vm("inst-1", False, 2, "C:\\i")
    with pytest.raises(os_win_exceptions.WMIJobFailed) as info:
        vmutils.enable_remotefx_video_adapter("inst-1", 1,
                                              constants.REMOTEFX_MAX_RES_1024x768)
    assert info.value.error_code == 32773  # like a host without a RemoteFX GPU
    # os-win removed the synthetic display controller before the add failed.
    assert displays(vmutils, "inst-1") == {}


def test_remotefx_needs_the_vm_off(emulate: Callable[[HostProfile], Host]) -> None:
    vmutils, _ = oswin_utils(emulate, PRESETS["ws2016"])
    vmutils.create_vm("inst-1", False, 2, "C:\\i")
    vmutils.set_vm_state("inst-1", constants.HYPERV_VM_STATE_ENABLED)
    with pytest.raises(os_win_exceptions.WMIJobFailed) as info:
        vmutils.enable_remotefx_video_adapter("inst-1", 1,
                                              constants.REMOTEFX_MAX_RES_1024x768)
    assert info.value.error_code == 32775
    assert SYNTHETIC in displays(vmutils, "inst-1")


# -- PCI passthrough ----------------------------------------------------------------

DDA_PROFILE = PRESETS["ws2022"].replace(assignable_devices=(GPU_A, GPU_B, NIC))


def dda_vm(vmutils: Any, name: str) -> None:
    vmutils.create_vm(name, False, 2, "C:\\i")
    vmutils.update_vm(name, 2048, None, 2, None, False, 1.0,
                      host_shutdown_action=constants.HOST_SHUTDOWN_ACTION_TURN_OFF)


def test_pci_passthrough_devices_of_the_host(emulate: Callable[[HostProfile], Host]) -> None:
    _, hostutils = oswin_utils(emulate, DDA_PROFILE)
    found = hostutils.get_pci_passthrough_devices()
    assert [(d["vendor_id"], d["product_id"]) for d in found] == [
        ("10DE", "13F2"), ("10DE", "13F2"), ("8086", "1572")]
    assert "VEN_10DE&DEV_13F2&" in found[0]["dev_id"]
    # Device 0: os-win's address is right ("PCI bus 1, device 0, function 0").
    assert [d["address"] for d in found[:2]] == ["0000:01:00.0", "0000:02:00.0"]
    # Device 2, function 1: Windows reports "PCI bus 1, device 2, function 1" and the
    # bus address (2 << 16) | 1, as Microsoft documents DEVPKEY_Device_Address for PCI.
    # os-win reads the device number as the domain and prints the whole address as
    # the slot; the emulator serves the documented values, so os-win's text is off.
    assert found[2]["address"] == "0002:01:20001.1"


def test_pci_devices_assigned_and_removed(emulate: Callable[[HostProfile], Host]) -> None:
    vmutils, hostutils = oswin_utils(emulate, DDA_PROFILE)
    dda_vm(vmutils, "inst-1")
    vmutils.add_pci_device("inst-1", "10de", "13f2")
    vmutils.add_pci_device("inst-1", "10DE", "13F2")
    dda_vm(vmutils, "inst-2")
    with pytest.raises(os_win_exceptions.PciDeviceNotFound):
        vmutils.add_pci_device("inst-2", "10DE", "13F2")  # both are taken
    vmutils.add_pci_device("inst-2", "8086", "1572")
    # Assigned devices still show on the host (os-win lists each instance path once).
    assert len(hostutils.get_pci_passthrough_devices()) == 3
    vmutils.remove_pci_device("inst-1", "10DE", "13F2")
    vmutils.add_pci_device("inst-2", "10DE", "13F2")  # the freed one
    vmutils.remove_all_pci_devices("inst-2")
    vmutils.remove_all_pci_devices("inst-1")
    for name in ("inst-1", "inst-2"):
        vm_id = vmutils.get_vm_id(name)
        assert vmutils._conn.query("SELECT * FROM Msvm_PciExpressSettingData WHERE "
                                   f"InstanceID LIKE 'Microsoft:{vm_id}%'") == []
    assert len(vmutils._conn.Msvm_PciExpress()) == 3  # every device free again


def test_pci_rules_seen_through_oswin(emulate: Callable[[HostProfile], Host]) -> None:
    vmutils, _ = oswin_utils(emulate, DDA_PROFILE)
    vmutils.create_vm("saving", False, 2, "C:\\i")
    with pytest.raises(os_win_exceptions.WMIJobFailed) as info:
        vmutils.add_pci_device("saving", "8086", "1572")  # stop action still Save
    assert info.value.error_code == 32773
    dda_vm(vmutils, "inst-1")
    vmutils.add_pci_device("inst-1", "8086", "1572")
    with pytest.raises(os_win_exceptions.WMIJobFailed) as info:
        vmutils.update_vm("inst-1", 2048, None, 2, None, False, 2.0)  # dynamic memory
    assert info.value.error_code == 32773
    vmutils.set_vm_state("inst-1", constants.HYPERV_VM_STATE_ENABLED)
    with pytest.raises(os_win_exceptions.WMIJobFailed) as info:
        vmutils.set_vm_state("inst-1", constants.HYPERV_VM_STATE_SUSPENDED)
    assert info.value.error_code == 32775
    assert vmutils.get_vm_state("inst-1") == constants.HYPERV_VM_STATE_ENABLED


def test_no_pci_passthrough_on_2012r2(emulate: Callable[[HostProfile], Host]) -> None:
    vmutils, _ = oswin_utils(emulate, PRESETS["ws2012r2"])
    vmutils.create_vm("inst-1", False, 2, "C:\\i")
    with pytest.raises(NotImplementedError):
        vmutils.add_pci_device("inst-1", "10DE", "13F2")


# -- nested virtualization ------------------------------------------------------------


def test_nested_virtualization_rules(emulate: Callable[[HostProfile], Host]) -> None:
    vmutils, hostutils = oswin_utils(emulate, PRESETS["ws2022"])
    assert hostutils.supports_nested_virtualization() is True
    vmutils.create_vm("inst-1", False, 2, "C:\\i")
    vmutils.update_vm("inst-1", 2048, None, 2, None, False, 2.0)  # dynamic memory
    with pytest.raises(os_win_exceptions.WMIJobFailed) as info:
        vmutils.set_nested_virtualization("inst-1", True)
    assert info.value.error_code == 32773
    vmutils.update_vm("inst-1", 2048, None, 2, None, False, 1.0)
    vmutils.set_nested_virtualization("inst-1", True)
    vmutils.set_vm_state("inst-1", constants.HYPERV_VM_STATE_ENABLED)
    with pytest.raises(os_win_exceptions.WMIJobFailed) as info:
        vmutils.set_nested_virtualization("inst-1", False)
    assert info.value.error_code == 32775
