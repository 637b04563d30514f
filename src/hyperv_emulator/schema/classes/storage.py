"""Virtual disks: attached media (SASD), the image management service, disk state."""

from hyperv_emulator.schema import common as C
from hyperv_emulator.schema import values as V
from hyperv_emulator.schema.model import (
    CODES,
    IN,
    JOB,
    KEY,
    OUT,
    OUT_REF,
    ClassDef,
    Method,
    P,
)

CLASSES = [
    ClassDef(
        "CIM_StorageAllocationSettingData",
        "CIM_ResourceAllocationSettingData",
        props=(
            P("VirtualResourceBlockSize", "uint64"),
            P("VirtualQuantity", "uint64"),
            P("VirtualQuantityUnits", "string", default="count(fixed size block)"),
            P("Access", "uint16", values=V.STORAGE_ACCESS),
            P("HostResourceBlockSize", "uint64"),
            P("Reservation", "uint64"),
            P("Limit", "uint64"),
            P("HostExtentStartingAddress", "uint64"),
            P("HostExtentName", "string"),
            P("HostExtentNameFormat", "uint16"),
            P("OtherHostExtentNameFormat", "string"),
            P("HostExtentNameNamespace", "uint16"),
            P("OtherHostExtentNameNamespace", "string"),
        ),
        abstract=True,
    ),
    ClassDef(
        "Msvm_StorageAllocationSettingData",
        "CIM_StorageAllocationSettingData",
        props=(
            P("Weight", "uint32"),
            P("StorageQoSPolicyID", "string", since=10240),
            P("IOPSLimit", "uint64"),
            P("IOPSReservation", "uint64"),
            P("IOPSAllocationUnits", "string"),
            P("PersistentReservationsSupported", "boolean"),
            P("CachingMode", "uint16", values=V.CACHING_MODE, since=10240),
            P("SnapshotId", "string", default="", since=10240),
            P("IgnoreFlushes", "boolean", since=10240),
            P("WriteHardeningMethod", "uint16", values=V.WRITE_HARDENING_METHOD, since=14393),
        ),
    ),
    ClassDef(
        "Msvm_ImageManagementService",
        "CIM_Service",
        methods=(
            Method(
                "SetVirtualHardDiskSettingData",
                (
                    IN(
                        "VirtualDiskSettingData",
                        "string",
                        embedded="Msvm_VirtualHardDiskSettingData",
                    ),
                    JOB,
                ),
                return_codes=C.VENDOR_FILE,
            ),
            Method(
                "CreateVirtualHardDisk",
                (
                    IN(
                        "VirtualDiskSettingData",
                        "string",
                        embedded="Msvm_VirtualHardDiskSettingData",
                    ),
                    JOB,
                ),
                return_codes=C.VENDOR_FILE,
            ),
            Method(
                "SetParentVirtualHardDisk",
                (
                    IN("ChildPath", "string"),
                    IN("ParentPath", "string"),
                    IN("LeafPath", "string"),
                    IN("IgnoreIDMismatch", "boolean"),
                    JOB,
                ),
                return_codes=C.VENDOR_FILE,
            ),
            Method(
                "CreateVirtualFloppyDisk",
                (
                    IN("Path", "string"),
                    JOB,
                ),
                return_codes=C.VENDOR_FILE,
            ),
            Method(
                "MergeVirtualHardDisk",
                (
                    IN("SourcePath", "string"),
                    IN("DestinationPath", "string"),
                    JOB,
                ),
                return_codes=C.VENDOR_FILE,
            ),
            Method(
                "CompactVirtualHardDisk",
                (
                    IN("Path", "string"),
                    IN("Mode", "uint16"),
                    JOB,
                ),
                return_codes=C.VENDOR_FILE,
            ),
            Method(
                "ResizeVirtualHardDisk",
                (
                    IN("Path", "string"),
                    IN("MaxInternalSize", "uint64"),
                    JOB,
                ),
                return_codes=C.VENDOR_FILE,
            ),
            Method(
                "ConvertVirtualHardDisk",
                (
                    IN("SourcePath", "string"),
                    IN(
                        "VirtualDiskSettingData",
                        "string",
                        embedded="Msvm_VirtualHardDiskSettingData",
                    ),
                    JOB,
                ),
                return_codes=C.VENDOR_FILE,
            ),
            Method(
                "GetVirtualHardDiskSettingData",
                (
                    IN("Path", "string"),
                    OUT("SettingData", "string", embedded="Msvm_VirtualHardDiskSettingData"),
                    JOB,
                ),
                return_codes=C.VENDOR_FILE,
            ),
            Method(
                "GetVirtualHardDiskState",
                (
                    IN("Path", "string"),
                    OUT("State", "string", embedded="Msvm_VirtualHardDiskState"),
                    JOB,
                ),
                return_codes=C.VENDOR_FILE,
            ),
            Method(
                "AttachVirtualHardDisk",
                (
                    IN("Path", "string"),
                    IN("AssignDriveLetter", "boolean"),
                    IN("ReadOnly", "boolean"),
                    JOB,
                ),
                return_codes=C.VENDOR_FILE,
            ),
            Method(
                "ValidateVirtualHardDisk",
                (
                    IN("Path", "string"),
                    JOB,
                ),
                return_codes=CODES(0, 4096, (32768, 32779), 32787),
            ),
            C.DEVICE_REQUEST_STATE_CHANGE,
            C.START_SERVICE,
            C.STOP_SERVICE,
            Method(
                "ValidatePersistentReservationSupport",
                (
                    IN("Path", "string"),
                    JOB,
                ),
                return_codes=C.VENDOR_FILE,
            ),
            Method(
                "GetVHDSetInformation",
                (
                    IN("VHDSetPath", "string"),
                    IN("AdditionalInformation", "uint32", array=True),
                    OUT("Information", "string", embedded="Msvm_VHDSetInformation"),
                    JOB,
                ),
                return_codes=C.VENDOR_FILE,
                since=10240,
            ),
            Method(
                "GetVHDSnapshotInformation",
                (
                    IN("VHDSetPath", "string"),
                    IN("SnapshotIds", "string", array=True),
                    IN("AdditionalInformation", "uint32", array=True),
                    OUT(
                        "SnapshotInformation",
                        "string",
                        array=True,
                        embedded="Msvm_VHDSnapshotInformation",
                    ),
                    JOB,
                ),
                return_codes=C.VENDOR_FILE,
                since=10240,
            ),
            Method(
                "SetVHDSnapshotInformation",
                (
                    IN("Information", "string", embedded="Msvm_VHDSnapshotInformation"),
                    JOB,
                ),
                return_codes=C.VENDOR_FILE,
                since=10240,
            ),
            Method(
                "DeleteVHDSnapshot",
                (
                    IN("VHDSetPath", "string"),
                    IN("SnapshotId", "string"),
                    IN("PersistReferenceSnapshot", "boolean"),
                    JOB,
                ),
                return_codes=C.VENDOR_FILE,
                since=10240,
            ),
            Method(
                "ConvertVirtualHardDiskToVHDSet",
                (
                    IN("VirtualHardDiskPath", "string"),
                    JOB,
                ),
                return_codes=C.VENDOR_FILE,
                since=10240,
            ),
            Method(
                "OptimizeVHDSet",
                (
                    IN("VHDSetPath", "string"),
                    JOB,
                ),
                return_codes=C.VENDOR_FILE,
                since=10240,
            ),
            Method(
                "GetVirtualDiskChanges",
                (
                    IN("Path", "string"),
                    IN("LimitId", "string"),
                    IN("TargetSnapshotId", "string"),
                    IN("ByteOffset", "uint64"),
                    IN("ByteLength", "uint64"),
                    OUT("ProcessedByteLength", "uint64"),
                    OUT("ChangedByteOffsets", "uint64", array=True),
                    OUT("ChangedByteLengths", "uint64", array=True),
                    JOB,
                ),
                return_codes=C.VENDOR_FILE,
                since=10240,
            ),
            Method(
                "FindMountedStorageImageInstance",
                (
                    IN("SelectionCriterion", "string"),
                    IN("CriterionType", "uint16"),
                    OUT_REF("Image", "Msvm_MountedStorageImage"),
                ),
                return_codes=CODES(0, (32768, 32779), 32789),
                since=10240,
            ),
        ),
    ),
    ClassDef(
        "Msvm_VirtualHardDiskSettingData",
        "CIM_SettingData",
        props=(
            P("Type", "uint16", values=V.VHD_TYPE),
            P("Format", "uint16", values=V.VHD_FORMAT),
            P("Path", "string"),
            P("ParentPath", "string"),
            P("ParentTimestamp", "datetime", since=10240),
            P("ParentIdentifier", "string", since=10240),
            P("MaxInternalSize", "uint64"),
            P("BlockSize", "uint32"),
            P("LogicalSectorSize", "uint32"),
            P("PhysicalSectorSize", "uint32"),
            P("VirtualDiskId", "string"),
            P("DataAlignment", "uint64", since=16299),
            P("PmemAddressAbstractionType", "uint16", since=16299),
            P("IsPmemCompatible", "boolean", since=16299),
        ),
    ),
    ClassDef(
        "Msvm_VirtualHardDiskState",
        None,
        props=(
            P("FileSize", "uint64"),
            P("InUse", "boolean"),
            P("MinInternalSize", "uint64"),
            P("PhysicalSectorSize", "uint32"),
            P("Alignment", "uint32"),
            P("FragmentationPercentage", "uint32"),
            P("Timestamp", "datetime", since=10240),
        ),
    ),
    ClassDef(
        "Msvm_MountedStorageImage",
        "CIM_LogicalElement",
        props=(
            P("Type", "uint16"),
            P("Access", "uint16"),
            KEY("PortNumber", "uint8"),
            KEY("PathId", "uint8"),
            KEY("TargetId", "uint8"),
            KEY("Lun", "uint8"),
            P("PnpDevicePath", "string"),
        ),
        methods=(Method("DetachVirtualHardDisk", return_codes=C.DEVICE),),
    ),
    ClassDef(
        "Msvm_StorageJob",
        "CIM_ConcreteJob",
        props=(
            P("ErrorSummaryDescription", "string"),
            P("Cancellable", "boolean"),
            P("Child", "string"),
            P("JobCompletionStatusCode", "uint32"),
            P("Parent", "string"),
            P("JobType", "uint16"),
        ),
        methods=(
            Method(
                "RequestStateChange",
                (
                    IN("RequestedState", "uint16"),
                    IN("TimeoutPeriod", "datetime"),
                ),
                return_codes=C.VENDOR_SYNC,
            ),
            Method("GetError", (OUT("Error", "string"),), return_codes=C.VENDOR_SYNC),
            Method(
                "GetErrorEx",
                (OUT("Errors", "string", array=True),),
                return_codes=C.VENDOR_SYNC,
            ),
        ),
    ),
    ClassDef(
        "Msvm_DiskMergeSettingData",
        "CIM_SettingData",
        props=(P("EnabledState", "uint32"),),
    ),
    ClassDef(
        "Msvm_VHDSetInformation",
        None,
        props=(
            P("Path", "string"),
            P("SnapshotIdList", "string", array=True),
            P("AllPaths", "string", array=True),
        ),
        since=10240,
    ),
    ClassDef(
        "Msvm_VHDSnapshotInformation",
        None,
        props=(
            P("FilePath", "string"),
            P("SnapshotId", "string"),
            P("SnapshotPath", "string"),
            P("ParentPathsList", "string", array=True),
            P("CreationTime", "datetime"),
            P("ResilientChangeTrackingId", "string"),
        ),
        since=10240,
    ),
    ClassDef(
        "Msvm_VirtualMachineToDisks",
        None,
        props=(
            P("VirtualMachineId", "string"),
            P("DisksToExport", "string", array=True),
        ),
        since=10240,
    ),
    ClassDef(
        "Msvm_MoveUnmanagedVhd",
        "CIM_ManagedElement",
        props=(
            P("VhdSourcePath", "string"),
            P("VhdDestinationPath", "string"),
        ),
        since=10240,
    ),
]
