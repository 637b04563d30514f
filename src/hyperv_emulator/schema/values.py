"""Value maps the emulated host enforces, and the numbers providers speak in.

Each map is value -> a short label of our own. They are attached to the properties and
method parameters a client writes (see `Prop.values` / `Param.values`); a value outside
the map is refused as Hyper-V refuses it. The numbers are the real ones (Microsoft's MOF
documentation, checked against the real schema dump by the oracle test).
"""

from __future__ import annotations

from collections.abc import Mapping

# CIM_EnabledLogicalElement.EnabledState as Hyper-V v2 reports it: the DMTF values plus
# the vendor states of a virtual machine (transitional ones included).
ENABLED_STATE: Mapping[int, str] = {
    0: "Unknown",
    1: "Other",
    2: "Enabled",  # a VM: running
    3: "Disabled",  # a VM: off
    4: "Shutting Down",
    5: "Not Applicable",
    6: "Enabled but Offline",  # a VM: saved
    7: "In Test",
    8: "Deferred",
    9: "Quiesce",  # a VM: paused
    10: "Starting",
    11: "Reset",
    32773: "Saving",
    32776: "Pausing",
    32777: "Resuming",
    32779: "Fast Saved",
    32780: "Fast Saving",
    32781: "Force Shutdown",
    32782: "Force Reboot",
    32783: "Hibernated",
    32784: "Component Servicing",
}

# Msvm_ComputerSystem.RequestStateChange(RequestedState): what a client may ask for.
# Whether a request is valid from the current state is the provider's business
# (32775 "invalid state" when it is not).
REQUESTED_STATE: Mapping[int, str] = {
    2: "Enabled",  # start, resume, restore
    3: "Disabled",  # hard power off
    4: "Shut Down",  # v1 only; v2 clients use Msvm_ShutdownComponent
    6: "Offline",  # save
    7: "Test",
    8: "Defer",
    9: "Quiesce",  # pause
    10: "Reboot",
    11: "Reset",
    32773: "Saving",
    32776: "Pausing",
    32777: "Resuming",
    32779: "Fast Saved",
    32780: "Fast Saving",
}

# CIM_ConcreteJob.RequestStateChange(RequestedState).
JOB_REQUESTED_STATE: Mapping[int, str] = {
    2: "Start",
    3: "Suspend",
    4: "Terminate",
    5: "Kill",
    6: "Service",
}

JOB_STATE: Mapping[int, str] = {
    2: "New",
    3: "Starting",
    4: "Running",
    5: "Suspended",
    6: "Shutting Down",
    7: "Completed",
    8: "Terminated",
    9: "Killed",
    10: "Exception",
    11: "Service",
    12: "Query Pending",
    32768: "Completed With Warnings",  # os-win treats it as success
}

# CIM_ResourceAllocationSettingData.ResourceType: the DMTF values Hyper-V uses and its
# vendor types (see reference notes, section 3).
RESOURCE_TYPE: Mapping[int, str] = {
    1: "Other",  # diskette controller, integration components, battery
    2: "Computer System",
    3: "Processor",
    4: "Memory",
    5: "IDE Controller",
    6: "Parallel SCSI HBA",
    7: "FC HBA",
    8: "iSCSI HBA",
    9: "IB HCA",
    10: "Ethernet Adapter",
    11: "Other Network Adapter",
    12: "I/O Slot",
    13: "I/O Device",  # keyboard, mice, serial controller
    14: "Floppy Drive",
    15: "CD Drive",
    16: "DVD Drive",
    17: "Disk Drive",
    18: "Tape Drive",
    19: "Storage Extent",
    20: "Other Storage Device",
    21: "Serial Port",
    22: "Parallel Port",
    23: "USB Controller",
    24: "Graphics Controller",
    25: "IEEE 1394 Controller",
    26: "Partitionable Unit",
    27: "Base Partitionable Unit",
    28: "Power",
    29: "Cooling Capacity",
    30: "Ethernet Switch Port",
    31: "Logical Disk",  # the media (VHD, ISO, VFD) in a drive
    32: "Storage Volume",
    33: "Ethernet Connection",  # a NIC's connection to a switch
    32768: "Storage Logical Unit",
    32769: "PCI Express Port",
    32770: "GPU Partition",
    32771: "Persistent Memory Controller",
    32772: "Flexible IO Device",
    64764: "Fibre Channel Connection",
}

AUTOMATIC_STARTUP_ACTION: Mapping[int, str] = {
    2: "None",
    3: "Restart if previously active",
    4: "Always start",
}

AUTOMATIC_SHUTDOWN_ACTION: Mapping[int, str] = {
    2: "Turn off",
    3: "Save state",
    4: "Shut down",
}

AUTOMATIC_RECOVERY_ACTION: Mapping[int, str] = {
    2: "None",
    3: "Restart",
    4: "Revert to snapshot",
}

AUTOMATIC_CRITICAL_ERROR_ACTION: Mapping[int, str] = {
    0: "None",
    1: "Pause and resume",
}

# Msvm_VirtualSystemSettingData.BootOrder entries (generation 1 BIOS boot devices).
BOOT_ORDER: Mapping[int, str] = {
    0: "Floppy",
    1: "CD-ROM",
    2: "IDE hard drive",
    3: "PXE",
    4: "SCSI hard drive",
}

USER_SNAPSHOT_TYPE: Mapping[int, str] = {
    2: "Disabled",
    3: "Production, falling back to standard",
    4: "Production only",
    5: "Standard",
}

CONSOLE_MODE: Mapping[int, str] = {0: "Default", 1: "COM1", 2: "COM2", 3: "None"}

NETWORK_BOOT_PROTOCOL: Mapping[int, str] = {4096: "IPv4", 4097: "IPv6"}

ENHANCED_SESSION_TRANSPORT: Mapping[int, str] = {0: "VMBus pipe", 1: "Hyper-V socket"}

DEBUG_PORT_ENABLED: Mapping[int, str] = {0: "Off", 1: "On", 2: "On, port assigned"}

# Msvm_VirtualHardDiskSettingData.
VHD_TYPE: Mapping[int, str] = {2: "Fixed", 3: "Dynamic", 4: "Differencing"}
VHD_FORMAT: Mapping[int, str] = {2: "VHD", 3: "VHDX", 4: "VHD Set"}

# Msvm_Synthetic3DDisplayControllerSettingData.MaximumScreenResolution (RemoteFX).
MAXIMUM_SCREEN_RESOLUTION: Mapping[int, str] = {
    0: "1024x768",
    1: "1280x1024",
    2: "1600x1200",
    3: "1920x1200",
    4: "2560x1600",
    5: "3840x2160",
}

# Msvm_SyntheticDisplayControllerSettingData.ResolutionType.
RESOLUTION_TYPE: Mapping[int, str] = {
    0: "Unknown", 1: "Other", 2: "Maximum", 3: "Single", 4: "Default",
}

# Msvm_VirtualSystemSnapshotService.CreateSnapshot(SnapshotType).
SNAPSHOT_TYPE: Mapping[int, str] = {
    2: "Full",
    3: "Disk",
    32768: "Recovery",
}

CONSISTENCY_LEVEL: Mapping[int, str] = {
    0: "Unknown",
    1: "Application consistent",
    2: "Crash consistent",
}

GUEST_BACKUP_TYPE: Mapping[int, str] = {0: "Undefined", 1: "Full", 2: "Copy"}

# Msvm_EthernetSwitchPortVlanSettingData.
VLAN_OPERATION_MODE: Mapping[int, str] = {1: "Access", 2: "Trunk", 3: "Private"}
PVLAN_MODE: Mapping[int, str] = {1: "Isolated", 2: "Community", 3: "Promiscuous"}

# Msvm_EthernetSwitchPortSecuritySettingData.MonitorMode (port mirroring).
MONITOR_MODE: Mapping[int, str] = {0: "None", 1: "Destination", 2: "Source"}

# Msvm_EthernetSwitchPortAclSettingData.
ACL_DIRECTION: Mapping[int, str] = {1: "Incoming", 2: "Outgoing"}
ACL_APPLICABILITY: Mapping[int, str] = {1: "Local", 2: "Remote"}
ACL_TYPE: Mapping[int, str] = {1: "MAC", 2: "IPv4", 3: "IPv6"}
ACL_ACTION: Mapping[int, str] = {1: "Allow", 2: "Deny", 3: "Meter"}
# Msvm_EthernetSwitchPortExtendedAclSettingData (no metering).
EXTENDED_ACL_ACTION: Mapping[int, str] = {1: "Allow", 2: "Deny"}

# Msvm_EthernetPortAllocationSettingData.EnabledState: the connection is live or not.
CONNECTION_ENABLED_STATE: Mapping[int, str] = {2: "Enabled", 3: "Disabled"}

# CIM_StorageAllocationSettingData.Access.
STORAGE_ACCESS: Mapping[int, str] = {0: "Unknown", 1: "Read", 2: "Write", 3: "Read/Write"}

# Msvm_StorageAllocationSettingData.
CACHING_MODE: Mapping[int, str] = {
    0: "Unknown", 2: "Default", 3: "No caching", 4: "Cache sharable parents",
}
WRITE_HARDENING_METHOD: Mapping[int, str] = {
    0: "Default",
    1: "Write cache enabled",
    2: "Write cache and FUA enabled",
    3: "Write cache disabled",
}

# Msvm_VirtualSystemExportSettingData.
COPY_SNAPSHOT_CONFIGURATION: Mapping[int, str] = {
    0: "All snapshots",
    1: "No snapshots",
    2: "One snapshot",
    3: "One snapshot, for backup",
}
CAPTURE_LIVE_STATE: Mapping[int, str] = {
    0: "Crash consistent",
    1: "Saved state",
    2: "Application consistent",
}

# Msvm_VirtualSystemMigrationSettingData.
MIGRATION_TYPE: Mapping[int, str] = {
    32768: "Virtual system",
    32769: "Storage",
    32770: "Staged",
    32771: "Virtual system and storage",
}
MIGRATION_TRANSPORT: Mapping[int, str] = {5: "TCP", 32768: "SMB"}

# Msvm_MetricService.ControlMetrics(MetricCollectionEnabled).
METRIC_COLLECTION: Mapping[int, str] = {2: "Enable", 3: "Disable", 4: "Reset"}

# GetSummaryInformation(RequestedInformation): the ids of Msvm_SummaryInformation's
# properties. The provider fills only what was requested.
SUMMARY_INFORMATION: Mapping[int, str] = {
    0: "Name",
    1: "ElementName",
    2: "CreationTime",
    3: "Notes",
    4: "NumberOfProcessors",
    5: "ThumbnailImage",  # 80x60
    6: "ThumbnailImage",  # 160x120
    7: "ThumbnailImage",  # 320x240
    8: "AllocatedGPU",
    9: "VirtualSwitchNames",
    10: "Version",
    11: "Shielded",
    100: "EnabledState",
    101: "ProcessorLoad",
    102: "ProcessorLoadHistory",
    103: "MemoryUsage",
    104: "Heartbeat",
    105: "UpTime",
    106: "GuestOperatingSystem",
    107: "Snapshots",
    108: "AsynchronousTasks",
    109: "HealthState",
    110: "OperationalStatus",
    111: "StatusDescriptions",
    112: "MemoryAvailable",
    113: "AvailableMemoryBuffer",
    114: "ReplicationMode",
    115: "ReplicationState",
    116: "ReplicationHealth",
    117: "ApplicationHealth",
    120: "SwapFilesInUse",
    121: "IntegrationServicesVersionState",
    123: "MemorySpansPhysicalNumaNodes",
    132: "OtherEnabledState",
    133: "(accepted, names no property)",
}

# Hyper-V's return codes (vendor style), for providers and job ErrorCode.
COMPLETED = 0
JOB_STARTED = 4096
FAILED = 32768
ACCESS_DENIED = 32769
NOT_SUPPORTED = 32770
STATUS_UNKNOWN = 32771
TIMEOUT = 32772
INVALID_PARAMETER = 32773
SYSTEM_IN_USE = 32774
INVALID_STATE = 32775
INCORRECT_DATA_TYPE = 32776
SYSTEM_NOT_AVAILABLE = 32777
OUT_OF_MEMORY = 32778
FILE_NOT_FOUND = 32779
