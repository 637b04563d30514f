"""os-win creates, configures, runs and destroys VMs on the emulated host.

Every step is read back through os-win. Where os-win's expectations and Microsoft's
documentation differ, the documentation wins and the test says so.
"""

from __future__ import annotations

from typing import Any

import pytest
from os_win import constants
from os_win import exceptions as os_win_exceptions
from tests.unit.emulator.images import make_image

from hyperv_emulator import wmi
from hyperv_emulator.host import Host

UUID = "5f7c3e1a-9d2b-4c8e-a1f0-6b3d2e4c5a79"


@pytest.mark.parametrize("generation", [1, 2])
def test_create_vm_reads_back_through_oswin(vmutils: Any, generation: int) -> None:
    vmutils.create_vm("inst-1", False, generation, "C:\\Instances\\inst-1", [UUID])
    assert vmutils.vm_exists("inst-1")
    assert vmutils.list_instances() == ["inst-1"]
    assert vmutils.get_vm_generation("inst-1") == generation
    assert vmutils.get_instance_uuid("inst-1") == UUID
    assert vmutils.list_instance_notes() == [("inst-1", [UUID])]
    assert vmutils.get_vm_id("inst-1") == vmutils._lookup_vm_check("inst-1", as_vssd=False).Name
    summary = vmutils.get_vm_summary_info("inst-1")
    assert summary == {"NumberOfProcessors": 1, "EnabledState": 3, "MemoryUsage": None,
                       "UpTime": 0}
    # os-win leaves the subtype NULL for generation 1: Hyper-V's default is SubType:1.
    vssd = vmutils._lookup_vm_check("inst-1")
    assert vssd.VirtualSystemSubType == f"Microsoft:Hyper-V:SubType:{generation}"
    assert vssd.SecureBootEnabled is False
    assert vssd.VirtualNumaEnabled is False
    assert vssd.AutomaticStartupAction == 2
    assert vssd.ConfigurationDataRoot == "C:\\Instances\\inst-1"
    assert vmutils.get_vm_config_root_dir("inst-1") == "C:\\Instances\\inst-1"


def test_create_vm_costs_few_round_trips(vmutils: Any) -> None:
    wmi.session().counters.reset()
    vmutils.create_vm("inst-1", True, 2, "C:\\Instances\\inst-1")
    counted = wmi.session().counters.total
    assert counted.calls == 1  # DefineSystem, synchronous: no job to poll
    assert counted.job_polls == 0


def test_duplicate_names_are_accepted_by_the_host_and_refused_by_oswin(vmutils: Any) -> None:
    # Hyper-V identifies VMs by GUID and accepts a second VM with the same name;
    # os-win's name-based lookups are what refuse the ambiguity.
    vmutils.create_vm("inst-1", False, 2, "C:\\i")
    vmutils.create_vm("inst-1", False, 2, "C:\\i")
    assert vmutils.list_instances() == ["inst-1", "inst-1"]
    with pytest.raises(os_win_exceptions.HyperVException, match="Duplicate VM name"):
        vmutils.get_vm_summary_info("inst-1")


def test_memory_vcpus_and_vnuma(vmutils: Any) -> None:
    vmutils.create_vm("inst-1", True, 2, "C:\\i")
    vmutils.update_vm("inst-1", 4096, 2048, 4, 2, True, 1.0, vnuma_enabled=True,
                      host_shutdown_action=constants.HOST_SHUTDOWN_ACTION_SHUTDOWN,
                      snapshot_type=constants.VM_SNAPSHOT_TYPE_PROD_FALLBACK,
                      chassis_asset_tag="asset-7")
    memory = vmutils.get_vm_memory_info("inst-1")
    assert memory == {"DynamicMemoryEnabled": False, "Reservation": 4096, "Limit": 4096,
                      "Weight": 5000, "MaxMemoryBlocksPerNumaNode": 2048}
    assert vmutils.get_vm_summary_info("inst-1")["NumberOfProcessors"] == 4
    processor = vmutils._lookup_vm_check("inst-1")
    assert processor.VirtualNumaEnabled is True
    assert processor.AutomaticShutdownAction == constants.HOST_SHUTDOWN_ACTION_SHUTDOWN
    assert processor.UserSnapshotType == 3
    assert processor.ChassisAssetTag == "asset-7"


def test_dynamic_memory(vmutils: Any) -> None:
    vmutils.create_vm("inst-1", False, 2, "C:\\i")
    vmutils.update_vm("inst-1", 2048, None, 2, None, False, 2.0)
    memory = vmutils.get_vm_memory_info("inst-1")
    assert memory["DynamicMemoryEnabled"] is True
    assert (memory["Reservation"], memory["Limit"]) == (1024, 2048)


def test_dynamic_memory_is_refused_while_vnuma_is_on(vmutils: Any) -> None:
    # A real host fails the job with 32773 ("NUMA is span based", reference notes §4.5).
    vmutils.create_vm("inst-1", True, 2, "C:\\i")
    with pytest.raises(os_win_exceptions.WMIJobFailed) as info:
        vmutils.update_vm("inst-1", 2048, None, 2, None, False, 2.0)
    assert info.value.error_code == 32773
    assert vmutils.get_vm_memory_info("inst-1")["DynamicMemoryEnabled"] is False


def test_nested_virtualization(vmutils: Any) -> None:
    vmutils.create_vm("inst-1", False, 2, "C:\\i")
    vmutils.set_nested_virtualization("inst-1", True)
    vssd = vmutils._lookup_vm_check("inst-1")
    processor = vmutils._compat_conn.query(
        f"SELECT * FROM Msvm_ProcessorSettingData WHERE InstanceID LIKE '{vssd.InstanceID}%'")[0]
    assert processor.ExposeVirtualizationExtensions is True


def test_storage_scsi_vhd_dvd_and_passthrough(vmutils: Any, host: Host) -> None:
    make_image(host, "C:\\i\\root.vhdx")
    make_image(host, "C:\\i\\config.iso")
    vmutils.create_vm("inst-1", False, 2, "C:\\i")
    vmutils.create_scsi_controller("inst-1")
    controller = vmutils.get_vm_scsi_controller("inst-1")
    vmutils.attach_scsi_drive("inst-1", "C:\\i\\root.vhdx", constants.DISK)
    vmutils.attach_scsi_drive("inst-1", "C:\\i\\config.iso", constants.DVD)
    disk_path = vmutils.get_mounted_disk_by_drive_number(3)
    vmutils.attach_volume_to_controller("inst-1", controller, 5, disk_path, serial="vol-1")
    assert vmutils.get_free_controller_slot(controller) == 2
    assert vmutils.get_vm_disks("inst-1")[0] and vmutils.get_vm_disks("inst-1")[1]
    images, physical = vmutils.get_vm_disks("inst-1")
    assert [i.HostResource[0] for i in images] == ["C:\\i\\root.vhdx", "C:\\i\\config.iso"]
    assert vmutils.get_vm_dvd_disk_paths("inst-1") == ["C:\\i\\config.iso"]
    assert vmutils.get_vm_physical_disk_mapping("inst-1") == {
        "vol-1": {"resource_path": physical[0].path_(), "mounted_disk_path": disk_path}}
    assert vmutils.is_disk_attached(disk_path)
    info = vmutils.get_disk_attachment_info("C:\\i\\root.vhdx", is_physical=False)
    assert (info["controller_slot"], info["controller_type"]) == (0, constants.CTRL_TYPE_SCSI)
    assert vmutils.get_controller_volume_paths(controller) == {
        physical[0].path().RelPath: disk_path}
    vmutils.set_disk_qos_specs("C:\\i\\root.vhdx", max_iops=500, min_iops=100)
    vhd = vmutils._get_mounted_disk_resource_from_path("C:\\i\\root.vhdx", is_physical=False)
    assert (vhd.IOPSLimit, vhd.IOPSReservation) == (500, 100)
    vmutils.detach_vm_disk("inst-1", "C:\\i\\config.iso", is_physical=False)
    vmutils.detach_vm_disk("inst-1", disk_path, serial="vol-1")
    assert vmutils.get_vm_dvd_disk_paths("inst-1") == []
    assert not vmutils.is_disk_attached(disk_path)
    assert vmutils.get_free_controller_slot(controller) == 1


def test_generation1_ide_disks(vmutils: Any, host: Host) -> None:
    make_image(host, "C:\\i\\root.vhd")
    make_image(host, "C:\\i\\cd.iso")
    vmutils.create_vm("inst-1", False, 1, "C:\\i")
    vmutils.attach_ide_drive("inst-1", "C:\\i\\root.vhd", 0, 0)
    vmutils.attach_ide_drive("inst-1", "C:\\i\\cd.iso", 1, 0, constants.DVD)
    info = vmutils.get_disk_attachment_info("C:\\i\\root.vhd", is_physical=False)
    # RASD.Address is a string in the MOF; os-win hands the IDE controller's through
    # as is (and the SCSI index as an int), so "0" is what a real host gives too.
    assert (info["controller_slot"], info["controller_addr"],
            info["controller_type"]) == (0, "0", constants.CTRL_TYPE_IDE)
    assert vmutils.get_vm_dvd_disk_paths("inst-1") == ["C:\\i\\cd.iso"]


def test_nic_with_mac_connected_to_a_switch(vmutils: Any, networkutils: Any) -> None:
    vmutils.create_vm("inst-1", False, 2, "C:\\i")
    vmutils.create_nic("inst-1", "port-1", "00:15:5D:01:02:03")
    assert vmutils.get_vm_nic_names("inst-1") == ["port-1"]
    networkutils.connect_vnic_to_vswitch("external", "port-1")
    assert networkutils.get_vnic_mac_address("port-1") == "00155D010203"
    assert networkutils.vnic_port_exists("port-1")
    assert "port-1" in networkutils.get_vnic_ids()
    assert networkutils.get_vswitch_id("external")
    networkutils.set_vswitch_port_vlan_id(42, "port-1")
    vlan = networkutils._get_vlan_setting_data_from_port_alloc(
        networkutils._get_switch_port_allocation("port-1")[0])
    assert (vlan.OperationMode, vlan.AccessVlanId) == (1, 42)
    summary = vmutils._vs_man_svc.GetSummaryInformation([9], [
        vmutils._lookup_vm_check("inst-1").path_()])[1][0]
    assert summary.VirtualSwitchNames == ("external",)
    networkutils.remove_switch_port("port-1")
    vmutils.destroy_nic("inst-1", "port-1")
    assert vmutils.get_vm_nic_names("inst-1") == []


def test_serial_ports_to_pipes(vmutils: Any) -> None:
    vmutils.create_vm("inst-1", False, 2, "C:\\i")
    vmutils.set_vm_serial_port_connection("inst-1", 1, "\\\\.\\pipe\\inst-1-com1")
    vmutils.set_vm_serial_port_connection("inst-1", 2, "\\\\.\\pipe\\inst-1-com2")
    assert vmutils.get_vm_serial_port_connections("inst-1") == [
        "\\\\.\\pipe\\inst-1-com1", "\\\\.\\pipe\\inst-1-com2"]


def test_secure_boot_with_the_linux_template(vmutils: Any) -> None:
    vmutils.create_vm("inst-1", False, 2, "C:\\i")
    vmutils.enable_secure_boot("inst-1", msft_ca_required=True)
    vssd = vmutils._lookup_vm_check("inst-1")
    assert vssd.SecureBootEnabled is True
    assert vssd.SecureBootTemplateId == "272E7447-90A4-4563-A4B9-8E4AB00526CE"


def test_secure_boot_on_generation1_is_refused(vmutils: Any) -> None:
    vmutils.create_vm("inst-1", False, 1, "C:\\i")
    with pytest.raises(os_win_exceptions.HyperVException):
        vmutils.enable_secure_boot("inst-1", msft_ca_required=False)
    assert vmutils._lookup_vm_check("inst-1").SecureBootEnabled is False


def test_boot_order_generation1(vmutils: Any) -> None:
    vmutils.create_vm("inst-1", False, 1, "C:\\i")
    order = [constants.BOOT_DEVICE_CDROM, constants.BOOT_DEVICE_HARDDISK,
             constants.BOOT_DEVICE_NETWORK, constants.BOOT_DEVICE_FLOPPY]
    vmutils.set_boot_order("inst-1", order)
    assert list(vmutils._lookup_vm_check("inst-1").BootOrder) == order


def test_boot_order_generation2(vmutils: Any, host: Host) -> None:
    make_image(host, "C:\\i\\root.vhdx")
    make_image(host, "C:\\i\\data.vhdx")
    vmutils.create_vm("inst-1", False, 2, "C:\\i")
    vmutils.create_scsi_controller("inst-1")
    vmutils.create_nic("inst-1", "port-1")
    vmutils.attach_scsi_drive("inst-1", "C:\\i\\root.vhdx", constants.DISK)
    vmutils.attach_scsi_drive("inst-1", "C:\\i\\data.vhdx", constants.DISK)
    before = vmutils._lookup_vm_check("inst-1").BootSourceOrder
    assert len(before) == 3  # the NIC, then each disk, in the order they came
    vmutils.set_boot_order("inst-1", ["C:\\i\\data.vhdx", "C:\\i\\root.vhdx"])
    after = vmutils._lookup_vm_check("inst-1").BootSourceOrder
    assert list(after) == [before[2], before[1], before[0]]
    vmutils.detach_vm_disk("inst-1", "C:\\i\\data.vhdx", is_physical=False)
    assert list(vmutils._lookup_vm_check("inst-1").BootSourceOrder) == [before[1], before[0]]


def test_power_cycle(vmutils: Any) -> None:
    vmutils.create_vm("inst-1", False, 2, "C:\\i")
    vmutils.update_vm("inst-1", 2048, None, 2, None, False, 1.0)
    running = constants.HYPERV_VM_STATE_ENABLED
    vmutils.set_vm_state("inst-1", running)
    assert vmutils.get_vm_state("inst-1") == running
    assert vmutils.get_active_instances() == ["inst-1"]
    summary = vmutils.get_vm_summary_info("inst-1")
    assert summary["EnabledState"] == 2 and summary["MemoryUsage"] == 2048
    vmutils.set_vm_state("inst-1", constants.HYPERV_VM_STATE_PAUSED)
    assert vmutils.get_vm_state("inst-1") == constants.HYPERV_VM_STATE_PAUSED
    vmutils.set_vm_state("inst-1", running)
    vmutils.set_vm_state("inst-1", constants.HYPERV_VM_STATE_SUSPENDED)
    assert vmutils.get_vm_state("inst-1") == constants.HYPERV_VM_STATE_SUSPENDED
    vmutils.set_vm_state("inst-1", running)
    vmutils.set_vm_state("inst-1", constants.HYPERV_VM_STATE_REBOOT)
    assert vmutils.get_vm_state("inst-1") == running
    vmutils.soft_shutdown_vm("inst-1")
    assert vmutils.get_vm_state("inst-1") == constants.HYPERV_VM_STATE_DISABLED
    vmutils.soft_shutdown_vm("inst-1")  # no shutdown component when off: a no-op
    vmutils.set_vm_state("inst-1", running)
    vmutils.set_vm_state("inst-1", constants.HYPERV_VM_STATE_DISABLED)
    # Asking for the state it is in returns 32775, which os-win accepts.
    vmutils.set_vm_state("inst-1", constants.HYPERV_VM_STATE_DISABLED)
    assert vmutils.get_vm_state("inst-1") == constants.HYPERV_VM_STATE_DISABLED


def test_destroy(vmutils: Any, host: Host) -> None:
    make_image(host, "C:\\i\\root.vhdx")
    vmutils.create_vm("inst-1", False, 2, "C:\\i")
    vmutils.create_scsi_controller("inst-1")
    vmutils.attach_scsi_drive("inst-1", "C:\\i\\root.vhdx", constants.DISK)
    vmutils.set_vm_state("inst-1", constants.HYPERV_VM_STATE_ENABLED)
    with pytest.raises(os_win_exceptions.HyperVException):
        vmutils.destroy_vm("inst-1")  # running: Hyper-V refuses
    vmutils.set_vm_state("inst-1", constants.HYPERV_VM_STATE_DISABLED)
    vmutils.destroy_vm("inst-1")
    assert not vmutils.vm_exists("inst-1")
    leftovers = vmutils._conn.query(
        "SELECT * FROM CIM_ResourceAllocationSettingData WHERE InstanceID LIKE 'Microsoft:%'"
        " AND NOT InstanceID LIKE 'Microsoft:Definition%'")
    assert leftovers == []


def test_stop_vm_jobs_kills_a_pending_start(vmutils: Any, host: Any) -> None:
    vmutils.create_vm("inst-1", False, 2, "C:\\i")
    host.update_settings(job_polls=5)  # jobs now stay Running for five reads
    system = vmutils._lookup_vm_check("inst-1", as_vssd=False)
    job_path, code = system.RequestStateChange(constants.HYPERV_VM_STATE_ENABLED)
    assert code == 4096
    assert vmutils._lookup_vm_check("inst-1", as_vssd=False).EnabledState == 10  # Starting
    vmutils.stop_vm_jobs("inst-1")
    assert wmi.WMI(moniker=job_path).JobState == 9  # Killed
    assert vmutils.get_vm_state("inst-1") == constants.HYPERV_VM_STATE_DISABLED


def test_power_state_events_with_oswins_query(vmutils: Any) -> None:
    vmutils.create_vm("inst-1", False, 2, "C:\\i")
    query = vmutils._get_event_wql_query(cls="Msvm_ComputerSystem", field="EnabledState",
                                         timeframe=2, filtered_states=[2, 3])
    listener = vmutils._conn.Msvm_ComputerSystem.watch_for(raw_wql=query,
                                                           fields=["EnabledState"])
    with pytest.raises(os_win_exceptions.x_wmi_timed_out):
        listener(10)
    vmutils.set_vm_state("inst-1", constants.HYPERV_VM_STATE_ENABLED)
    event = listener(1000)
    assert (event.ElementName, vmutils.get_vm_power_state(event.EnabledState)) == (
        "inst-1", constants.HYPERV_VM_STATE_ENABLED)
    vmutils.set_vm_state("inst-1", constants.HYPERV_VM_STATE_PAUSED)  # filtered out
    with pytest.raises(os_win_exceptions.x_wmi_timed_out):
        listener(10)



def test_external_switch_adapter_found_through_its_endpoints(tmp_path: Any) -> None:
    from hyperv_emulator import init_host, oswin
    from hyperv_emulator.profiles import PRESETS, VSwitch

    host = init_host(tmp_path / "switches.db", PRESETS["ws2022"].replace(
        vswitches=(VSwitch("lan"), VSwitch("host", "internal"))))
    oswin.enable(host)
    try:
        from os_win import utilsfactory

        networkutils = utilsfactory.get_networkutils()
        # os-win follows ExternalEthernetPort -> LANEndpoint -> ActiveConnection -> the
        # switch port's LANEndpoint, whose SystemName is the switch.
        assert networkutils.get_vswitch_external_network_name("lan") == \
            "Emulated Ethernet Adapter #1"
        assert networkutils.get_vswitch_external_network_name("host") is None
    finally:
        oswin.disable()
        wmi.unbind()
