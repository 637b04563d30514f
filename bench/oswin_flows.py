"""The peer column: os-win 5.9.0 called the way compute-hyperv called it.

compute-hyperv (the Hyper-V driver operators ran before, retired in 2023) drove Hyper-V
only through os-win. Each method below makes the os-win calls compute-hyperv's driver
made for that Nova call, in its order (shared/reference/compute-hyperv-behaviour.md §5;
its vmops / volumeops / hostops / block_device_manager), against the emulated host
through `hyperv_emulator.oswin`. The code is ours; the sequence is theirs.

What is not WMI is left out, because it costs no CIM round trip on a real host either:
os-brick's iSCSI login and disk paths (iscsidsc.dll), virtdisk.dll (disk files are
made with vhdfile beforehand), kernel32 (disk capacity, CPU feature flags, uptime),
Nova's database (BDMs, device metadata saves) and the serial console pipes. What
another process did to the same VM is included and said so: compute-hyperv's VIF
plug for `hyperv` ports is a no-op, and networking-hyperv's agent connected each new
port to the vSwitch (os-win `connect_vnic_to_vswitch`), which our driver does itself.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from typing import Any

from bench.flows import InstanceSpec, Nic, Volume
from hyperv_emulator import oswin, wmi
from hyperv_emulator.counters import Counters
from hyperv_emulator.host import Host

LABEL = "os-win 5.9.0"

# compute-hyperv's defaults that shape the calls ([hyperv] options and Nova's).
CHASSIS_ASSET_TAG = "OpenStack Compute"  # nova's version.product_string()
POWER_STATES = {2: "running", 3: "shutdown", 32768: "paused", 32769: "suspended"}

NOTES = [
    "os-win: compute-hyperv's os-win calls in its order; os-brick, virtdisk.dll (disk files:"
    " vhdfile, beforehand), kernel32 (disk capacity, CPU feature flags) and Nova's database"
    " are not WMI and not counted.",
    "os-win: each new NIC is connected to the vSwitch with os-win's connect_vnic_to_vswitch,"
    " as networking-hyperv's agent did for compute-hyperv (its VIF plug was a no-op).",
    "os-win: power off is Nova's clean stop (guest shutdown, then one state check); the"
    " emulated guest is off when InitiateShutdown returns, so no further polls are made.",
    "os-win: get_available_resource includes the RemoteFX GPU query compute-hyperv made"
    " with [hyperv] enable_remotefx = True; update_provider_tree re-reads it all, as"
    " compute-hyperv's hostops did.",
]


class OsWinFlows:
    """compute-hyperv's driver, reduced to its os-win calls, on one emulated host.

    Built once, like the driver at nova-compute start: the os-win utils objects keep
    their caches (the management service, the Windows version) across operations, as
    they did in a long-running nova-compute; `__init__` warms them before anything is
    counted.
    """

    label = LABEL

    def __init__(self, host: Host, *, remotefx: bool = True) -> None:
        oswin.enable(host)
        from os_win import utilsfactory

        self._vmutils = utilsfactory.get_vmutils()
        self._hostutils = utilsfactory.get_hostutils()
        self._netutils = utilsfactory.get_networkutils()
        self._diskutils = utilsfactory.get_diskutils()
        self._migrutils = utilsfactory.get_migrationutils()
        self._remotefx = remotefx
        self.notes = list(NOTES)
        self._warm()

    def _warm(self) -> None:
        for utils in (self._vmutils, self._netutils, self._migrutils):
            for owner in (utils, getattr(utils, "_jobutils", None)):
                if owner is not None:
                    _ = owner._vs_man_svc
        self._hostutils.get_windows_version()

    @property
    def counters(self) -> Counters:
        return wmi.session().counters

    def close(self) -> None:
        oswin.disable()
        wmi.unbind()

    # -- compute-hyperv's vmops ------------------------------------------------------

    def spawn(self, spec: InstanceSpec) -> None:
        from os_win import constants

        vm = self._vmutils
        vm.check_admin_permissions()
        if vm.vm_exists(spec.name):
            raise RuntimeError(f"{spec.name} exists already")
        vnuma = spec.numa_nodes > 0
        vm.create_vm(spec.name, vnuma, spec.generation, str(spec.directory), [spec.uuid])
        vm.create_scsi_controller(spec.name)
        if spec.generation == 1:
            vm.attach_ide_drive(spec.name, str(spec.root), 0, 0, constants.DISK)
        else:
            vm.attach_scsi_drive(spec.name, str(spec.root), constants.DISK)
        for ephemeral in spec.ephemerals:
            vm.attach_scsi_drive(spec.name, str(ephemeral), constants.DISK)
        for volume in spec.volumes:
            self._attach_volume(spec, volume)
        for port, kind in sorted(spec.serial_ports.items()):
            vm.set_vm_serial_port_connection(spec.name, port, spec.pipe(kind))
        for nic in spec.nics:
            vm.create_nic(spec.name, nic.port_id, nic.mac)
        if spec.secure_boot_template:
            linux = spec.secure_boot_template == "MicrosoftUEFICertificateAuthority"
            vm.enable_secure_boot(spec.name, msft_ca_required=linux)
        self._update_vm_resources(spec)
        for nic in spec.nics:
            self._netutils.connect_vnic_to_vswitch(spec.vswitch, nic.port_id)
        self._update_device_metadata(spec, spec.volumes)
        self._set_boot_order(spec)
        vm.set_vm_state(spec.name, constants.HYPERV_VM_STATE_ENABLED)

    def _update_vm_resources(self, spec: InstanceSpec) -> None:
        vm = self._vmutils
        per_node_memory = per_node_cpus = None
        if spec.numa_nodes:
            per_node_memory = spec.memory_mb // spec.numa_nodes
            per_node_cpus = spec.vcpus // spec.numa_nodes
        # vNUMA and nested virtualization force the dynamic memory ratio to 1.0.
        vm.update_vm(spec.name, spec.memory_mb, per_node_memory, spec.vcpus, per_node_cpus,
                     False, 1.0, host_shutdown_action=None,
                     vnuma_enabled=spec.numa_nodes > 0, chassis_asset_tag=CHASSIS_ASSET_TAG)
        if spec.disk_iops:
            instance_dir = str(spec.directory)
            for path in vm.get_vm_storage_paths(spec.name)[0]:
                if instance_dir in path:
                    vm.set_disk_qos_specs(path, spec.disk_iops)
        if spec.nested_virtualization:
            vm.set_nested_virtualization(spec.name, True)

    def _update_device_metadata(self, spec: InstanceSpec,
                                volumes: Sequence[Volume]) -> None:
        """One attachment lookup per ephemeral and per volume BDM (the root image and
        the VIFs need none)."""
        from os_win import exceptions

        vm = self._vmutils
        for ephemeral in spec.ephemerals:
            vm.get_disk_attachment_info(str(ephemeral), is_physical=False)
        for volume in volumes:
            # A volume being detached is not found: compute-hyperv skipped it the same way.
            with contextlib.suppress(exceptions.DiskNotFound):
                vm.get_disk_attachment_info(None, is_physical=True, serial=volume.serial)

    def _set_boot_order(self, spec: InstanceSpec) -> None:
        from os_win import constants

        if spec.generation == 1:
            order: list[Any] = [constants.BOOT_DEVICE_HARDDISK, constants.BOOT_DEVICE_CDROM,
                                constants.BOOT_DEVICE_NETWORK, constants.BOOT_DEVICE_FLOPPY]
        else:
            order = [str(path) for path in spec.local_disks]
            order += [self._volume_resource_path(volume) for volume in spec.volumes]
        self._vmutils.set_boot_order(spec.name, order)

    def destroy(self, spec: InstanceSpec) -> None:
        from os_win import constants

        vm = self._vmutils
        if vm.vm_exists(spec.name):
            vm.stop_vm_jobs(spec.name)
            vm.set_vm_state(spec.name, constants.HYPERV_VM_STATE_DISABLED)
            vm.destroy_vm(spec.name)
        elif self._migrutils.planned_vm_exists(spec.name):
            self._migrutils.destroy_existing_planned_vm(spec.name)

    def power_off(self, spec: InstanceSpec) -> None:
        from os_win import constants

        self._vmutils.soft_shutdown_vm(spec.name)
        if self._state(spec) != constants.HYPERV_VM_STATE_DISABLED:
            self._vmutils.set_vm_state(spec.name, constants.HYPERV_VM_STATE_DISABLED)

    def power_on(self, spec: InstanceSpec) -> None:
        from os_win import constants

        self._fix_volume_disk_paths(spec)
        self._vmutils.set_vm_state(spec.name, constants.HYPERV_VM_STATE_ENABLED)

    def _fix_volume_disk_paths(self, spec: InstanceSpec) -> None:
        """Passthrough disks follow their LUN when host disk numbers change at reboot."""
        if not spec.volumes:
            return
        actual = {v.serial: self._volume_resource_path(v) for v in spec.volumes}
        attached = self._vmutils.get_vm_physical_disk_mapping(spec.name)
        for serial, disk in attached.items():
            if serial in actual and disk["mounted_disk_path"] != actual[serial]:
                self._vmutils.set_disk_host_res(disk["resource_path"], actual[serial])

    def _state(self, spec: InstanceSpec) -> int:
        return int(self._vmutils.get_vm_summary_info(spec.name)["EnabledState"])

    def get_info(self, spec: InstanceSpec) -> str:
        if not self._vmutils.vm_exists(spec.name):
            raise LookupError(f"instance {spec.name} not found")
        return POWER_STATES.get(self._state(spec), "running")

    def list_instances(self) -> list[str]:
        return list(self._vmutils.list_instances())

    def _check_hotplug(self, spec: InstanceSpec) -> None:
        from os_win import constants

        if self._state(spec) == constants.HYPERV_VM_STATE_DISABLED:
            return
        if not self._hostutils.check_min_windows_version(10, 0):
            raise RuntimeError("vNIC hot plug needs Windows Server 2016 or later")
        if self._vmutils.get_vm_generation(spec.name) == constants.VM_GEN_1:
            raise RuntimeError("vNIC hot plug needs a generation 2 VM")

    def attach_nic(self, spec: InstanceSpec, nic: Nic) -> None:
        self._check_hotplug(spec)
        self._vmutils.create_nic(spec.name, nic.port_id, nic.mac)
        self._netutils.connect_vnic_to_vswitch(spec.vswitch, nic.port_id)
        self._update_device_metadata(spec, spec.volumes)

    def detach_nic(self, spec: InstanceSpec, nic: Nic) -> None:
        self._check_hotplug(spec)
        self._vmutils.destroy_nic(spec.name, nic.port_id)

    # -- compute-hyperv's volumeops (iSCSI / FC: passthrough disks) --------------------

    def _check_san_policy(self) -> None:
        """Passthrough needs new disks offline: compute-hyperv read the SAN policy first."""
        self._diskutils.get_new_disk_policy()

    def _volume_resource_path(self, volume: Volume) -> str:
        path = self._vmutils.get_mounted_disk_by_drive_number(volume.drive_number)
        if not path:
            raise LookupError(f"host disk {volume.drive_number} (volume {volume.serial}) "
                              "does not exist on this host")
        return str(path)

    def _attach_volume(self, spec: InstanceSpec, volume: Volume) -> None:
        self._check_san_policy()
        disk_path = self._volume_resource_path(volume)
        controller = self._vmutils.get_vm_scsi_controller(spec.name)
        slot = self._vmutils.get_free_controller_slot(controller)
        self._vmutils.attach_volume_to_controller(spec.name, controller, slot, disk_path,
                                                  serial=volume.serial)

    def attach_volume(self, spec: InstanceSpec, volume: Volume) -> None:
        self._attach_volume(spec, volume)
        self._update_device_metadata(spec, (*spec.volumes, volume))

    def detach_volume(self, spec: InstanceSpec, volume: Volume) -> None:
        if self._migrutils.planned_vm_exists(spec.name):
            return
        self._vmutils.detach_vm_disk(spec.name, None, is_physical=True, serial=volume.serial)
        self._update_device_metadata(spec, (*spec.volumes, volume))

    # -- compute-hyperv's hostops and Nova's periodic tasks ----------------------------

    def get_available_resource(self) -> Mapping[str, object]:
        host = self._hostutils
        total_kb, free_kb = host.get_memory_info()
        cpus = host.get_cpus_info()
        version = host.get_windows_version()
        numa = host.get_numa_nodes()
        pci = host.get_pci_passthrough_devices()
        gpus = host.get_remotefx_gpu_info() if self._remotefx else []
        major, minor = (int(p) for p in version.split(".")[:2])
        first = cpus[0]
        vcpus = len(cpus) * first["NumberOfLogicalProcessors"]
        return {
            "vcpus": vcpus,
            "memory_mb": total_kb // 1024,
            "memory_mb_used": (total_kb - free_kb) // 1024,
            "hypervisor_version": major * 1000 + minor,
            "numa_cells": len(numa),
            "pci_passthrough_devices": pci,
            "total_video_ram": sum(int(g["total_video_ram"]) for g in gpus),
        }

    def update_provider_tree(self) -> Mapping[str, object]:
        resources = self.get_available_resource()
        return {
            "VCPU": {"total": resources["vcpus"], "max_unit": resources["vcpus"]},
            "MEMORY_MB": {"total": resources["memory_mb"],
                          "max_unit": resources["memory_mb"]},
        }

    def sync_power_states(self, specs: Sequence[InstanceSpec]) -> Mapping[str, str]:
        # nova's ComputeDriver.get_num_instances() is len(list_instances()); then one
        # get_info per instance in Nova's database for this host.
        len(self.list_instances())
        return {spec.name: self.get_info(spec) for spec in specs}
