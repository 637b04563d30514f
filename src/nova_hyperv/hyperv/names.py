"""Hyper-V's WMI v2 vocabulary the client uses: classes, subtypes and value maps.

Values from Microsoft's Hyper-V WMI documentation (MicrosoftDocs/win32,
desktop-src/HyperV_v2) as collected in the project's reference notes.
"""

from __future__ import annotations

import re
from enum import IntEnum

VSMS = "Msvm_VirtualSystemManagementService"
COMPUTER_SYSTEM = "Msvm_ComputerSystem"
VSSD = "Msvm_VirtualSystemSettingData"
RASD = "Msvm_ResourceAllocationSettingData"
ANY_RASD = "CIM_ResourceAllocationSettingData"
SASD = "Msvm_StorageAllocationSettingData"
SYNTHETIC_NIC = "Msvm_SyntheticEthernetPortSettingData"
PORT_ALLOCATION = "Msvm_EthernetPortAllocationSettingData"
SWITCH = "Msvm_VirtualEthernetSwitch"
SYNTHETIC_3D_DISPLAY = "Msvm_Synthetic3DDisplayControllerSettingData"
PCI_EXPRESS = "Msvm_PciExpressSettingData"
SHUTDOWN_COMPONENT = "Msvm_ShutdownComponent"
LOGICAL_IDENTITY = "Msvm_LogicalIdentity"

# A VM's settings carry its GUID in their InstanceID: `Microsoft:<GUID>\...`.
_VM_SETTING_ID = re.compile(r"^Microsoft:([0-9A-Fa-f-]{36})\\", re.IGNORECASE)


def vm_guid_of(instance_id: object) -> str | None:
    """The (upper-case) GUID of the VM a setting's InstanceID belongs to, if it is one."""
    match = _VM_SETTING_ID.match(str(instance_id or ""))
    return match.group(1).upper() if match else None

# Host storage: disks, iSCSI, SAN policy; SMB mappings; the FC HBA API's WMI classes.
STORAGE_NS = "root/Microsoft/Windows/Storage"
SMB_NS = "root/Microsoft/Windows/SMB"
WMI_NS = "root/WMI"
HOST_DISK = "Msvm_DiskDrive"

REALIZED = "Microsoft:Hyper-V:System:Realized"
SUBTYPES = {1: "Microsoft:Hyper-V:SubType:1", 2: "Microsoft:Hyper-V:SubType:2"}


class ResourceType(IntEnum):
    OTHER = 1
    PROCESSOR = 3
    MEMORY = 4
    IDE_CONTROLLER = 5
    SCSI_CONTROLLER = 6
    ETHERNET_ADAPTER = 10
    DVD_DRIVE = 16
    DISK_DRIVE = 17
    SERIAL_PORT = 21
    GRAPHICS = 24
    LOGICAL_DISK = 31
    ETHERNET_CONNECTION = 33
    PCI_EXPRESS = 32769


class SubType:
    PROCESSOR = "Microsoft:Hyper-V:Processor"
    MEMORY = "Microsoft:Hyper-V:Memory"
    IDE_CONTROLLER = "Microsoft:Hyper-V:Emulated IDE Controller"
    SCSI_CONTROLLER = "Microsoft:Hyper-V:Synthetic SCSI Controller"
    DISK_DRIVE = "Microsoft:Hyper-V:Synthetic Disk Drive"
    PHYSICAL_DISK = "Microsoft:Hyper-V:Physical Disk Drive"
    DVD_DRIVE = "Microsoft:Hyper-V:Synthetic DVD Drive"
    VHD = "Microsoft:Hyper-V:Virtual Hard Disk"
    ISO = "Microsoft:Hyper-V:Virtual CD/DVD Disk"
    SYNTHETIC_NIC = "Microsoft:Hyper-V:Synthetic Ethernet Port"
    ETHERNET_CONNECTION = "Microsoft:Hyper-V:Ethernet Connection"
    SERIAL_PORT = "Microsoft:Hyper-V:Serial Port"
    SYNTHETIC_DISPLAY = "Microsoft:Hyper-V:Synthetic Display Controller"
    S3_DISPLAY = "Microsoft:Hyper-V:S3 Display Controller"
    SYNTHETIC_3D_DISPLAY = "Microsoft:Hyper-V:Synthetic 3D Display Controller"
    PCI_EXPRESS = "Microsoft:Hyper-V:Virtual Pci Express Port"


class VmState(IntEnum):
    """Msvm_ComputerSystem.EnabledState as v2 reports it."""

    UNKNOWN = 0
    OTHER = 1
    RUNNING = 2
    OFF = 3
    STOPPING = 4
    SAVED = 6
    PAUSED = 9
    STARTING = 10
    RESETTING = 11
    SAVING = 32773
    PAUSING = 32776
    RESUMING = 32777
    FAST_SAVED = 32779
    FAST_SAVING = 32780
    HIBERNATED = 32783


class RequestedState(IntEnum):
    """Msvm_ComputerSystem.RequestStateChange values."""

    START = 2
    TURN_OFF = 3
    SAVE = 6
    PAUSE = 9
    REBOOT = 10
    RESET = 11


# VSSD.AutomaticShutdownAction and AutomaticStartupAction.
SHUTDOWN_ACTIONS = {"TurnOff": 2, "Save": 3, "ShutDown": 4}
STARTUP_NONE = 2

# Generation 1 BootOrder device classes.
BIOS_BOOT_DEVICES = {"floppy": 0, "cdrom": 1, "harddrive": 2, "network": 3}

# Win32_ServerFeature.ID -> the name Install-WindowsFeature (and the rules) use.
SERVER_FEATURES = {20: "Hyper-V", 57: "Multipath-IO", 322: "RDS-Virtualization"}
