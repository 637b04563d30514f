"""The device kinds of a Hyper-V VM: class, ResourceType / subtype, IDs, templates.

One row per kind of virtual device (reference notes §3 and §4.1). Everything that
needs to know "what is a SCSI controller" reads it here: DefineSystem's default
device set, the `\\Default` templates, the pools, and the Add/Modify/Remove rules
(which are attached to kinds by name in `devices.py`). Later parts of the emulator
add kinds with `register_kind`.

GUIDs: where the reference notes record a real one (device class GUIDs seen in
InstanceIDs on real hosts, and the pool GUIDs of memory, processor, Ethernet
connection and 3D video) it is used. Where no real value was captured, the kind's
`template_id` is a fixed GUID of our own, derived from the subtype (recorded in
docs/emulator.md); clients find templates by `LIKE '%\\Default'` and subtype, never
by that GUID.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hyperv_emulator.instances import Instance

_OUR_NAMESPACE = uuid.UUID("6f1d3c52-8e0b-4c0e-9a55-2f7b1e1c9d10")


def our_guid(label: str) -> str:
    """A stable GUID of the emulator's own, for IDs no real host capture gave us."""
    return str(uuid.uuid5(_OUR_NAMESPACE, label)).upper()


@dataclass(frozen=True)
class DeviceKind:
    name: str
    class_name: str
    resource_type: int
    subtype: str | None = None
    other_type: str | None = None  # OtherResourceType, for ResourceType 1
    # Before `class_since`, the same device is a plain Msvm_ResourceAllocationSettingData.
    class_since: int | None = None
    since: int | None = None  # first build that has the device at all
    template_id: str | None = None  # GUID in Microsoft:Definition\<id>\Default
    template: Mapping[str, Any] = field(default_factory=dict)
    caption: str = ""
    description: str = ""
    element_name: str = ""
    pool: bool = True  # has a primordial pool
    pool_class: str = "Msvm_ResourcePool"

    def class_for(self, build: int) -> str:
        if self.class_since is not None and build < self.class_since:
            return "Msvm_ResourceAllocationSettingData"
        return self.class_name

    def exists_on(self, build: int) -> bool:
        return self.since is None or build >= self.since

    @property
    def type_label(self) -> str:
        return self.subtype or self.other_type or self.name

    def identity(self) -> dict[str, Any]:
        values: dict[str, Any] = {"ResourceType": self.resource_type}
        if self.subtype is not None:
            values["ResourceSubType"] = self.subtype
        if self.other_type is not None:
            values["OtherResourceType"] = self.other_type
        return values


# Device class GUIDs seen in real InstanceIDs (reference notes §4.1).
IDE_GUID = "83F8638B-8DCA-4152-9EDA-2CA8B33039B4"
DISKETTE_GUID = "8F0D2762-0B00-4E04-AF4F-19010527CB93"
SERIAL_CONTROLLER_GUID = "8E3A359F-559A-4B6A-98A9-1690A6100ED7"
S3_GUID = "7D80D3DB-61EE-4879-8879-5609F1100AD0"
SYNTHETIC_DISPLAY_GUID = "F3CF6965-E8D3-44A9-9B7D-A04245EA7525"
SYNTHETIC_MOUSE_GUID = "58F75A6D-D949-4320-99E1-A2A2576D581C"
KEYBOARD_GUID = "DE6CDC86-E1FB-4940-801B-C3C1A26C4DA4"
PS2_MOUSE_GUID = "655BC5C5-A784-46B7-81BC-E26328F7EB0E"
MEMORY_DEVICE_GUID = "4764334d-e001-4176-82ee-5594ec9b530e"  # lower case, as seen
PROCESSOR_DEVICE_GUID = "b637f346-6a0e-4dec-af52-bd70cb80a21d"  # lower case, as seen
# Pools (reference notes §4.1).
MEMORY_POOL = "4764334E-E001-4176-82EE-5594EC9B530E"
PROCESSOR_POOL = "B637F347-6A0E-4DEC-AF52-BD70CB80A21D"
ETHERNET_CONNECTION_POOL = "72027ECE-E44A-446E-AF2B-8D8C4B8A2279"
SYNTH3D_POOL = "06FF76FA-2D58-4BAF-9F8D-455773824F37"
# Integration component device GUIDs (the IC class ids Hyper-V uses).
SHUTDOWN_IC = "9F8233AC-BE49-4C79-8EE3-E7E1985B2077"
TIMESYNC_IC = "2497F4DE-E9FA-4204-80E4-4B75C46419C0"
KVP_IC = "2A34B1C2-FD73-4043-8A5B-DD2159BC743F"
VSS_IC = "5CED1297-4598-4915-A5FC-AD21BB4D02A4"
HEARTBEAT_IC = "84EAAE65-2F2E-45F5-9BB5-0E857DC8EB47"
GUEST_SERVICE_IC = "6C09BB55-D683-4DA0-8931-C9BF705F6480"

HV = "Microsoft:Hyper-V:"

KINDS: dict[str, DeviceKind] = {}
_BY_TYPE: dict[tuple[int, str], DeviceKind] = {}


def register_kind(kind: DeviceKind) -> DeviceKind:
    KINDS[kind.name] = kind
    _BY_TYPE[(kind.resource_type, kind.type_label.lower())] = kind
    return kind


def kind_of(setting: Instance) -> DeviceKind | None:
    """The kind a RASD describes, from ResourceType and (Other)ResourceSubType."""
    resource_type = setting.raw.get("resourcetype")
    label = setting.raw.get("resourcesubtype") or setting.raw.get("otherresourcetype")
    if resource_type is None or not label:
        return None
    return _BY_TYPE.get((resource_type, str(label).lower()))


def _kind(name: str, class_name: str, resource_type: int, subtype: str | None = None, *,
          other: str | None = None, guid: str | None = None, **kw: Any) -> DeviceKind:
    template_id = guid or our_guid(subtype or other or name)
    return register_kind(DeviceKind(name, class_name, resource_type, subtype, other,
                                    template_id=template_id, **kw))


RASD = "Msvm_ResourceAllocationSettingData"
SASD = "Msvm_StorageAllocationSettingData"

PROCESSOR = _kind(
    "processor", "Msvm_ProcessorSettingData", 3, HV + "Processor", guid=PROCESSOR_POOL,
    caption="Processor", description="Settings for Microsoft Virtual Processor.",
    element_name="Processor",
    template={"VirtualQuantity": 1, "Reservation": 0, "Limit": 100000, "Weight": 100,
              "AllocationUnits": "percent / 1000", "VirtualQuantityUnits": "count",
              "LimitProcessorFeatures": False, "LimitCPUID": False, "HwThreadsPerCore": 0,
              "ExposeVirtualizationExtensions": False, "EnableHostResourceProtection": False,
              "MaxNumaNodesPerSocket": 1},
)
MEMORY = _kind(
    "memory", "Msvm_MemorySettingData", 4, HV + "Memory", guid=MEMORY_POOL,
    caption="Memory", description="Settings for Microsoft Virtual Machine Memory.",
    element_name="Memory",
    template={"VirtualQuantity": 1024, "Reservation": 512, "Limit": 1048576, "Weight": 5000,
              "DynamicMemoryEnabled": False, "TargetMemoryBuffer": 20, "IsVirtualized": True,
              "SwapFilesInUse": False, "AllocationUnits": "byte * 2^20",
              "VirtualQuantityUnits": "byte * 2^20"},
)
IDE_CONTROLLER = _kind(
    "ide_controller", RASD, 5, HV + "Emulated IDE Controller", guid=IDE_GUID,
    caption="IDE Controller", description="Settings for Microsoft Emulated IDE Controller.",
    element_name="IDE Controller",
)
SCSI_CONTROLLER = _kind(
    "scsi_controller", RASD, 6, HV + "Synthetic SCSI Controller",
    caption="SCSI Controller", description="Settings for Microsoft Synthetic SCSI Controller.",
    element_name="SCSI Controller",
)
DISK_DRIVE = _kind(
    "disk_drive", RASD, 17, HV + "Synthetic Disk Drive",
    caption="Hard Drive", description="Settings for Microsoft Synthetic Disk Drive.",
    element_name="Hard Drive",
)
PHYSICAL_DISK = _kind(
    "physical_disk", RASD, 17, HV + "Physical Disk Drive",
    caption="Hard Drive", description="Settings for Microsoft Physical Disk Drive.",
    element_name="Hard Drive",
)
DVD_DRIVE = _kind(
    "dvd_drive", RASD, 16, HV + "Synthetic DVD Drive",
    caption="DVD Drive", description="Settings for Microsoft Synthetic DVD Drive.",
    element_name="DVD Drive",
)
VHD = _kind(
    "vhd", SASD, 31, HV + "Virtual Hard Disk",
    caption="Hard Disk Image", description="Settings for the Microsoft Hard Disk Image.",
    element_name="Hard Disk Image",
    template={"Access": 3, "IOPSLimit": 0, "IOPSReservation": 0,
              "IOPSAllocationUnits": "count(normalized I/O) / second", "CachingMode": 2,
              "WriteHardeningMethod": 0, "PersistentReservationsSupported": False,
              "IgnoreFlushes": False, "HostResource": []},
)
ISO = _kind(
    "iso", SASD, 31, HV + "Virtual CD/DVD Disk",
    caption="ISO Disk Image", description="Settings for the Microsoft ISO Disk Image.",
    element_name="ISO Disk Image", template={"Access": 1, "HostResource": []},
)
VFD = _kind(
    "vfd", SASD, 31, HV + "Virtual Floppy Disk",
    caption="Floppy Disk Image", description="Settings for the Microsoft Floppy Disk Image.",
    element_name="Floppy Disk Image", template={"Access": 3, "HostResource": []},
)
SYNTHETIC_NIC = _kind(
    "synthetic_nic", "Msvm_SyntheticEthernetPortSettingData", 10, HV + "Synthetic Ethernet Port",
    caption="Ethernet Port", description="Settings for the Microsoft Synthetic Ethernet Port.",
    element_name="Network Adapter",
    template={"StaticMacAddress": False, "Address": "", "ClusterMonitored": True,
              "DeviceNamingEnabled": False, "AllowPacketDirect": False,
              "InterruptModeration": True, "NumaAwarePlacement": False},
)
EMULATED_NIC = _kind(
    "emulated_nic", "Msvm_EmulatedEthernetPortSettingData", 10, HV + "Emulated Ethernet Port",
    caption="Ethernet Port", description="Settings for the Microsoft Emulated Ethernet Port.",
    element_name="Legacy Network Adapter",
    template={"StaticMacAddress": False, "Address": "", "ClusterMonitored": True},
)
ETHERNET_CONNECTION = _kind(
    "ethernet_connection", "Msvm_EthernetPortAllocationSettingData", 33,
    HV + "Ethernet Connection", guid=ETHERNET_CONNECTION_POOL,
    caption="Ethernet Connection", description="Settings for the Ethernet Connection.",
    element_name="Dynamic Ethernet Switch Port",
    template={"EnabledState": 2, "HostResource": [], "RequiredFeatures": [],
              "RequiredFeatureHints": []},
)
SERIAL_CONTROLLER = _kind(
    "serial_controller", RASD, 13, HV + "Serial Controller", guid=SERIAL_CONTROLLER_GUID,
    caption="Serial Controller", description="Settings for the Microsoft Serial Controller.",
    element_name="Serial Controller", pool=True,
)
SERIAL_PORT = _kind(
    "serial_port", "Msvm_SerialPortSettingData", 21, HV + "Serial Port", class_since=10240,
    caption="COM Port", description="Settings for the Microsoft Serial Port.",
    element_name="COM 1", template={"Connection": [""], "DebuggerMode": False},
)
SYNTHETIC_DISPLAY = _kind(
    "synthetic_display", "Msvm_SyntheticDisplayControllerSettingData", 24,
    HV + "Synthetic Display Controller", class_since=10240, guid=SYNTHETIC_DISPLAY_GUID,
    caption="Video", description="Settings for the Microsoft Synthetic Display Controller.",
    element_name="Video", template={"ResolutionType": 4, "HorizontalResolution": 1024,
                                    "VerticalResolution": 768},
)
S3_DISPLAY = _kind(
    "s3_display", RASD, 24, HV + "S3 Display Controller", guid=S3_GUID,
    caption="Video", description="Settings for the Microsoft S3 Display Controller.",
    element_name="Video", template={"Address": "5353,00000000,00"},
)
KEYBOARD = _kind(
    "keyboard", RASD, 13, HV + "Virtual Keyboard", guid=KEYBOARD_GUID,
    caption="Keyboard", description="Settings for the Microsoft Virtual Keyboard.",
    element_name="Keyboard",
)
SYNTHETIC_KEYBOARD = _kind(
    "synthetic_keyboard", RASD, 13, HV + "Synthetic Keyboard",
    caption="Keyboard", description="Settings for the Microsoft Synthetic Keyboard.",
    element_name="Synthetic Keyboard",
)
SYNTHETIC_MOUSE = _kind(
    "synthetic_mouse", RASD, 13, HV + "Synthetic Mouse", guid=SYNTHETIC_MOUSE_GUID,
    caption="Mouse", description="Settings for the Microsoft Synthetic Mouse.",
    element_name="Synthetic Mouse",
)
PS2_MOUSE = _kind(
    "ps2_mouse", RASD, 13, HV + "Virtual PS/2 Mouse", guid=PS2_MOUSE_GUID,
    caption="Mouse", description="Settings for the Microsoft PS/2 Mouse.",
    element_name="PS/2 Mouse",
)
DISKETTE_CONTROLLER = _kind(
    "diskette_controller", RASD, 1, other=HV + "Virtual Diskette Controller",
    guid=DISKETTE_GUID, caption="Diskette Controller",
    description="Settings for the Microsoft Virtual Diskette Controller.",
    element_name="Diskette Controller", pool=True,
)
DISKETTE_DRIVE = _kind(
    "diskette_drive", RASD, 14, HV + "Synthetic Diskette Drive",
    caption="Diskette Drive", description="Settings for the Microsoft Synthetic Diskette Drive.",
    element_name="Diskette Drive", pool=False,
)


def _ic(name: str, class_name: str, other: str, guid: str, element_name: str,
        enabled: int = 2, since: int | None = None) -> DeviceKind:
    return _kind(name, class_name, 1, other=HV + other, guid=guid, since=since,
                 caption=element_name, description=f"Settings for the {element_name}.",
                 element_name=element_name, template={"EnabledState": enabled}, pool=False)


SHUTDOWN_COMPONENT = _ic("shutdown_ic", "Msvm_ShutdownComponentSettingData",
                         "Shutdown Component", SHUTDOWN_IC, "Shutdown")
TIMESYNC_COMPONENT = _ic("timesync_ic", "Msvm_TimeSyncComponentSettingData",
                         "Time Synchronization Component", TIMESYNC_IC, "Time Synchronization")
KVP_COMPONENT = _ic("kvp_ic", "Msvm_KvpExchangeComponentSettingData",
                    "Key-Value Pair Exchange Component", KVP_IC, "Key-Value Pair Exchange")
VSS_COMPONENT = _ic("vss_ic", "Msvm_VssComponentSettingData", "VSS Component", VSS_IC, "VSS")
HEARTBEAT_COMPONENT = _ic("heartbeat_ic", "Msvm_HeartbeatComponentSettingData",
                          "Heartbeat Component", HEARTBEAT_IC, "Heartbeat")
GUEST_SERVICE_COMPONENT = _ic(
    "guest_service_ic", "Msvm_GuestServiceInterfaceComponentSettingData",
    "Guest Service Interface Component", GUEST_SERVICE_IC, "Guest Service Interface",
    enabled=3, since=9600,
)
INTEGRATION_COMPONENTS = (SHUTDOWN_COMPONENT, TIMESYNC_COMPONENT, KVP_COMPONENT, VSS_COMPONENT,
                          HEARTBEAT_COMPONENT, GUEST_SERVICE_COMPONENT)

# Devices whose rules live in their own modules (graphics: RemoteFX, pci: DDA); GPU-P and
# Fibre Channel have templates but no adding rules yet.
SYNTHETIC_3D_DISPLAY = _kind(
    "synthetic_3d_display", "Msvm_Synthetic3DDisplayControllerSettingData", 24,
    HV + "Synthetic 3D Display Controller", guid=SYNTH3D_POOL,
    caption="Video", description="Settings for the Microsoft Synthetic 3D Display Controller.",
    element_name="RemoteFX 3D Video Adapter",
    template={"MaximumMonitors": 1, "MaximumScreenResolution": 0, "VRAMSizeBytes": 67108864},
    pool_class="Msvm_Synth3dVideoPool",
)
PCI_EXPRESS = _kind(
    "pci_express", "Msvm_PciExpressSettingData", 32769, HV + "Virtual Pci Express Port",
    since=10586, caption="PCI Express Port",
    description="Settings for the Microsoft Virtual PCI Express Port.",
    element_name="PCI Express Port",
)
GPU_PARTITION = _kind(
    "gpu_partition", "Msvm_GpuPartitionSettingData", 32770, HV + "GPU Partition",
    since=17763, caption="GPU Partition", description="Settings for a GPU partition.",
    element_name="GPU Partition",
)
FC_PORT = _kind(
    "fc_port", "Msvm_SyntheticFcPortSettingData", 7, HV + "Synthetic FibreChannel Port",
    caption="Fibre Channel Port", description="Settings for the Microsoft Synthetic Fibre "
    "Channel Port.", element_name="Fibre Channel Adapter",
)

# Port features (reference notes §2.10): class, feature id.
FEATURES: dict[str, str] = {
    "Msvm_EthernetSwitchPortVlanSettingData": "952C5004-4465-451C-8CB8-FA9AB382B773",
    "Msvm_EthernetSwitchPortSecuritySettingData": "776E0BA7-94A1-41C8-8F28-951F524251B5",
    "Msvm_EthernetSwitchPortAclSettingData": "998BEF4A-5D55-492A-9C43-8B2F5EAE9F2B",
    "Msvm_EthernetSwitchPortBandwidthSettingData": "24AD3CE1-69BD-4978-B2AC-DAAD389D699C",
    "Msvm_EthernetSwitchPortOffloadSettingData": "C885BFD1-ABB7-418F-8163-9F379C9F7166",
    "Msvm_EthernetSwitchPortProfileSettingData": "9940CD46-8B06-43BB-B9D5-93D50381FD56",
    "Msvm_EthernetSwitchPortExtendedAclSettingData": our_guid("extended acl feature"),
    "Msvm_EthernetSwitchPortIsolationSettingData": our_guid("isolation feature"),
    "Msvm_EthernetSwitchPortRoutingDomainSettingData": our_guid("routing domain feature"),
    "Msvm_EthernetSwitchPortRdmaSettingData": our_guid("rdma feature"),
    "Msvm_EthernetSwitchPortTeamMappingSettingData": our_guid("team mapping feature"),
}
# Feature classes of which a port may carry several instances.
MULTI_INSTANCE_FEATURES = frozenset(
    {"msvm_ethernetswitchportaclsettingdata", "msvm_ethernetswitchportextendedaclsettingdata"}
)

# Secure Boot templates (reference notes §4.8).
SECURE_BOOT_TEMPLATES: dict[str, tuple[str, str]] = {
    "MicrosoftWindows": ("1734C6E8-3154-4DDA-BA5F-A874CC483422", "Microsoft Windows"),
    "MicrosoftUEFICertificateAuthority": (
        "272E7447-90A4-4563-A4B9-8E4AB00526CE", "Microsoft UEFI Certificate Authority"),
    "OpenSourceShieldedVM": ("4292AE2B-EE2C-42B5-A969-DD8F8689F6F3", "Open Source Shielded VM"),
}
DEFAULT_SECURE_BOOT_TEMPLATE = SECURE_BOOT_TEMPLATES["MicrosoftWindows"][0]
