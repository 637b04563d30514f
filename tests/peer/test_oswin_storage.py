"""os-win's storage paths against the emulated host: volumes as passthrough disks found by
disk number, host disk utilities over root/Microsoft/Windows/Storage, and disk QoS.

The SAN side (what os-win cannot do through WMI: the iSCSI login goes through
iscsidsc.dll and FC discovery through hbaapi.dll, both ctypes) is set up through the
emulator's host API or its storage namespace, the way the driver's volume code will.
"""

from __future__ import annotations

from typing import Any

import pytest
from os_win import constants
from os_win import exceptions as os_win_exceptions
from tests.unit.emulator.images import MiB, make_image

from hyperv_emulator.host import Host

IQN = "iqn.2010-10.org.openstack:volume-7"


@pytest.fixture
def diskutils(host: Host) -> Any:
    from os_win import utilsfactory

    return utilsfactory.get_diskutils()


def _login(host: Host, size: int = 64 * MiB, serial: str = "vol-7") -> int:
    """Offer a LUN and log in to it the way Connect-IscsiTarget does; its disk number."""
    from hyperv_emulator import wmi

    host.storage.add_iscsi_lun(IQN, 0, size=size, serial=serial, portal="10.1.0.5")
    storage = wmi.WMI(moniker="//./root/Microsoft/Windows/Storage")
    storage.MSFT_iSCSITargetPortal.New(TargetPortalAddress="10.1.0.5")
    storage.MSFT_iSCSITarget.Connect(NodeAddress=IQN, IsPersistent=True)
    return next(d.number for d in host.storage.disks() if d.serial == serial)


def test_iscsi_volume_as_a_passthrough_disk(host: Host, vmutils: Any, diskutils: Any) -> None:
    number = _login(host)
    assert diskutils.get_new_disk_policy() == constants.DISK_POLICY_OFFLINE_SHARED
    assert diskutils.get_disk_size(number) == 64 * MiB
    unique_id, unique_id_format = diskutils.get_disk_uid_and_uid_type(number)
    assert diskutils.get_disk_numbers_by_unique_id(unique_id, unique_id_format) == [number]
    assert diskutils.get_device_name_by_device_number(number) == f"\\\\.\\PHYSICALDRIVE{number}"
    assert not diskutils.is_mpio_disk(number)
    vmutils.create_vm("inst-1", False, 2, "C:\\i")
    vmutils.create_scsi_controller("inst-1")
    controller = vmutils.get_vm_scsi_controller("inst-1")
    disk_path = vmutils.get_mounted_disk_by_drive_number(number)
    vmutils.attach_volume_to_controller("inst-1", controller, 1, disk_path, serial="vol-7")
    images, physical = vmutils.get_vm_disks("inst-1")
    assert (images, [p.HostResource[0] for p in physical]) == ([], [disk_path])
    info = vmutils.get_disk_attachment_info(is_physical=True, serial="vol-7")
    assert (info["controller_slot"], info["controller_type"], info["controller_addr"]) == (
        1, constants.CTRL_TYPE_SCSI, 0)
    assert vmutils.get_vm_physical_disk_mapping("inst-1") == {
        "vol-7": {"resource_path": physical[0].path_(), "mounted_disk_path": disk_path}}
    # the host cannot bring a disk a VM owns back online
    with pytest.raises(os_win_exceptions.DiskUpdateError):
        diskutils.set_disk_online(number)
    # extend: the SAN grows the volume, os-brick refreshes the host disk, the guest sees it
    host.storage.extend_lun(IQN, 0, 96 * MiB)
    assert diskutils.get_disk_size(number) == 64 * MiB
    diskutils.refresh_disk(number)
    assert diskutils.get_disk_size(number) == 96 * MiB
    assert host.storage.guest_disks("inst-1")[0].size == 96 * MiB
    vmutils.detach_vm_disk("inst-1", disk_path, serial="vol-7")
    assert vmutils.get_vm_disks("inst-1") == ([], [])
    diskutils.set_disk_online(number)
    diskutils.set_disk_readonly_status(number, True)
    diskutils.rescan_disks()


def test_an_online_disk_cannot_be_passed_through(host: Host, vmutils: Any,
                                                 diskutils: Any) -> None:
    diskutils.set_new_disk_policy(constants.DISK_POLICY_ONLINE_ALL)
    assert diskutils.get_new_disk_policy() == constants.DISK_POLICY_ONLINE_ALL
    number = _login(host)
    vmutils.create_vm("inst-1", False, 2, "C:\\i")
    vmutils.create_scsi_controller("inst-1")
    controller = vmutils.get_vm_scsi_controller("inst-1")
    disk_path = vmutils.get_mounted_disk_by_drive_number(number)
    with pytest.raises(os_win_exceptions.HyperVException, match="online on the host"):
        vmutils.attach_volume_to_controller("inst-1", controller, 0, disk_path)
    diskutils.set_disk_offline(number)
    vmutils.attach_volume_to_controller("inst-1", controller, 0, disk_path)
    assert vmutils.is_disk_attached(disk_path)


def test_fc_volume_found_by_its_unique_id(host: Host, vmutils: Any, diskutils: Any) -> None:
    host.storage.add_fc_port("10000090fa0a0b0c")
    host.storage.add_fc_lun("500a098188ad7a33", 4, size=16 * MiB, serial="fc-1")
    fc = next(d for d in host.storage.disks() if d.serial == "fc-1")
    unique_id, unique_id_format = diskutils.get_disk_uid_and_uid_type(fc.number)
    assert diskutils.get_disk_numbers_by_unique_id(unique_id, unique_id_format) == [fc.number]
    assert vmutils.get_mounted_disk_by_drive_number(fc.number)


def test_disk_qos_on_an_image(host: Host, vmutils: Any) -> None:
    make_image(host, "C:\\i\\root.vhdx")
    make_image(host, "C:\\i\\cd.iso")
    vmutils.create_vm("inst-1", False, 2, "C:\\i")
    vmutils.create_scsi_controller("inst-1")
    vmutils.attach_scsi_drive("inst-1", "C:\\i\\root.vhdx", constants.DISK)
    vmutils.attach_scsi_drive("inst-1", "C:\\i\\cd.iso", constants.DVD)
    vmutils.set_vm_state("inst-1", constants.HYPERV_VM_STATE_ENABLED)
    vmutils.set_disk_qos_specs("C:\\i\\root.vhdx", max_iops=1000, min_iops=10)  # while running
    vhd = vmutils._get_mounted_disk_resource_from_path("C:\\i\\root.vhdx", is_physical=False)
    assert (vhd.IOPSLimit, vhd.IOPSReservation) == (1000, 10)
    with pytest.raises(os_win_exceptions.HyperVException, match="below IOPSReservation"):
        vmutils.set_disk_qos_specs("C:\\i\\root.vhdx", max_iops=5, min_iops=10)
    with pytest.raises(os_win_exceptions.HyperVException, match="above 1000000000"):
        vmutils.set_disk_qos_specs("C:\\i\\root.vhdx", max_iops=2 * 10**9)
    with pytest.raises(os_win_exceptions.HyperVException, match="virtual hard disks"):
        vmutils.set_disk_qos_specs("C:\\i\\cd.iso", max_iops=100)
    vhd = vmutils._get_mounted_disk_resource_from_path("C:\\i\\root.vhdx", is_physical=False)
    assert (vhd.IOPSLimit, vhd.IOPSReservation) == (1000, 10)


def test_attaching_a_missing_image_fails_and_leaves_no_drive(host: Host, vmutils: Any) -> None:
    vmutils.create_vm("inst-1", False, 2, "C:\\i")
    vmutils.create_scsi_controller("inst-1")
    with pytest.raises(os_win_exceptions.HyperVException, match="cannot find the file"):
        vmutils.attach_scsi_drive("inst-1", "C:\\i\\missing.vhdx", constants.DISK)
    controller = vmutils.get_vm_scsi_controller("inst-1")
    assert vmutils.get_attached_disks(controller) == []  # os-win removed its drive again


def test_iscsi_initiator_utils_are_not_wmi() -> None:
    # os-win logs in to iSCSI targets through iscsidsc.dll (ctypes), not WMI: there is
    # nothing of it the emulated host could serve, so the driver uses the storage
    # namespace (MSFT_iSCSITarget.Connect) instead, as above.
    from os_win.utils.storage.initiator import iscsi_utils

    assert iscsi_utils.iscsidsc is None


def test_smb_share_mapping(host: Host, tmp_path: Any) -> None:
    from os_win import utilsfactory

    smbutils = utilsfactory.get_smbutils()
    share = "\\\\filer\\volumes"
    assert smbutils.check_smb_mapping(share) is False
    with pytest.raises(os_win_exceptions.SMBException, match="ERROR_BAD_NET_NAME"):
        smbutils.mount_smb_share(share, username="nova", password="secret")
    host.storage.add_smb_share(share, tmp_path / "volumes")
    smbutils.mount_smb_share(share, username="nova", password="secret")
    mappings = smbutils._smb_conn.Msft_SmbMapping(RemotePath=share)
    assert [(m.RemotePath, m.UserName) for m in mappings] == [(share, "nova")]
    # os-win then checks os.path.exists on the UNC path, which only Windows can answer
    smbutils.unmount_smb_share(share)
    assert smbutils._smb_conn.Msft_SmbMapping(RemotePath=share) == []
