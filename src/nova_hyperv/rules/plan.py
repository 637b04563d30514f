"""The VM plan: everything the Hyper-V layer needs to build the VM, decided up front.

The Hyper-V layer applies a plan without re-reading the request, so the plan carries
resolved values (template GUIDs, pipe names, controller slots, IOPS in Hyper-V's own
units), not the properties they came from. Frozen, with tuples: a plan is a value.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "SECURE_BOOT_TEMPLATES",
    "DiskPlan",
    "MemoryPlan",
    "NicPlan",
    "NumaPlan",
    "PciDevicePlan",
    "ProcessorPlan",
    "RemoteFxPlan",
    "SecureBootPlan",
    "SerialPortPlan",
    "VmPlan",
    "VtpmPlan",
]

# Secure Boot template name -> SecureBootTemplateId (Hyper-V's fixed GUIDs).
SECURE_BOOT_TEMPLATES = {
    "MicrosoftWindows": "1734C6E8-3154-4DDA-BA5F-A874CC483422",
    "MicrosoftUEFICertificateAuthority": "272E7447-90A4-4563-A4B9-8E4AB00526CE",
}


@dataclass(frozen=True)
class SecureBootPlan:
    enabled: bool
    template: str | None = None
    template_id: str | None = None


@dataclass(frozen=True)
class VtpmPlan:
    enabled: bool
    shielded: bool = False
    pdk_reference: str | None = None  # Barbican container holding the PDK
    # Pairs ("@@Name@@", value) for the fabric-data (FSK) file, sorted by name.
    fsk_substitutions: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class MemoryPlan:
    startup_mb: int
    dynamic: bool
    minimum_mb: int
    maximum_mb: int


@dataclass(frozen=True)
class ProcessorPlan:
    count: int
    limit_cpu_features: bool
    nested_virtualization: bool


@dataclass(frozen=True)
class NumaPlan:
    nodes: int
    cpus_per_node: int
    memory_mb_per_node: int


@dataclass(frozen=True)
class RemoteFxPlan:
    monitors: int
    resolution: str  # "1920x1200"
    vram_bytes: int | None  # None on 2012 R2, which has no VRAM setting


@dataclass(frozen=True)
class DiskPlan:
    """One drive of the VM, on a controller slot.

    kind: root | ephemeral | swap | volume | config_drive | iso_root.
    device: disk (a VHD/VHDX or a volume) | dvd (an ISO).
    """

    name: str
    kind: str
    device: str
    bus: str  # ide | scsi
    controller: int
    slot: int
    iops_limit: int | None = None  # normalized (8 KB) IOPS; None: no limit
    boot_index: int | None = None
    size_bytes: int | None = None  # virtual size of local disks we create
    file_name: str | None = None  # local disks: the file in the instance directory
    volume_id: str | None = None
    connection_type: str | None = None  # volumes: iscsi | fibre_channel | smbfs
    tag: str | None = None


@dataclass(frozen=True)
class NicPlan:
    name: str  # the VIF (Neutron port) id, which Hyper-V shows as the NIC name
    mac: str  # lower-case, colon separated
    tag: str | None = None
    vlan: int | None = None  # access VLAN of the switch port; None: untagged
    mac_spoofing: bool = False  # allowed when the port's security is off


@dataclass(frozen=True)
class SerialPortPlan:
    port: int  # COM port number, 1 or 2
    mode: str  # rw (interactive) | ro (logging)
    pipe: str  # \\.\pipe\<instance uuid>_<mode>


@dataclass(frozen=True)
class PciDevicePlan:
    vendor_id: str  # 4 lower-case hex digits
    product_id: str


@dataclass(frozen=True)
class VmPlan:
    name: str
    instance_uuid: str
    notes: tuple[str, ...]
    generation: int
    secure_boot: SecureBootPlan
    vtpm: VtpmPlan
    memory: MemoryPlan
    processors: ProcessorPlan
    numa: NumaPlan | None
    remotefx: RemoteFxPlan | None
    disks: tuple[DiskPlan, ...]
    # gen1: BIOS device classes (harddrive, cdrom, network, floppy) in order;
    # gen2: disk and NIC names, in order.
    boot_order: tuple[str, ...]
    nics: tuple[NicPlan, ...]
    serial_ports: tuple[SerialPortPlan, ...]
    pci_devices: tuple[PciDevicePlan, ...]
    host_shutdown_action: str  # Save | ShutDown | TurnOff
    config_drive: bool
    root_virtual_size: int | None  # bytes; None for ISO and volume roots
    # Where the generation came from: hw_machine_type, the image layout, or the default.
    generation_from: str = "hw_machine_type"

    @property
    def firmware(self) -> str:
        return "uefi" if self.generation == 2 else "bios"

    def disk(self, name: str) -> DiskPlan:
        for disk in self.disks:
            if disk.name == name:
                return disk
        raise KeyError(name)
