"""Virtual machines and the host as systems, and the guest shutdown device."""

from hyperv_emulator.schema import common as C
from hyperv_emulator.schema import values as V
from hyperv_emulator.schema.model import (
    CODES,
    IN,
    JOB,
    ClassDef,
    Method,
    P,
)

CLASSES = [
    ClassDef(
        "Msvm_ComputerSystem",
        "CIM_ComputerSystem",
        props=(
            P("OnTimeInMilliseconds", "uint64"),
            P("ProcessID", "uint32"),
            P("TimeOfLastConfigurationChange", "datetime"),
            P("NumberOfNumaNodes", "uint16"),
            P("ReplicationState", "uint16"),
            P("ReplicationHealth", "uint16"),
            P("ReplicationMode", "uint16"),
            P("FailedOverReplicationType", "uint16"),
            P("LastReplicationType", "uint16"),
            P("LastApplicationConsistentReplicationTime", "datetime"),
            P("LastReplicationTime", "datetime"),
            P("LastSuccessfulBackupTime", "datetime"),
            P("EnhancedSessionModeState", "uint16"),
            P("HwThreadsPerCoreRealized", "uint32", since=17763),
            P("ManagementVtlImageVersion", "string", since=26100),
            P("ManagementVtlImageFileName", "string", since=26100),
        ),
        methods=(
            Method(
                "RequestStateChange",
                (
                    IN("RequestedState", "uint16", values=V.REQUESTED_STATE),
                    JOB,
                    IN("TimeoutPeriod", "datetime"),
                ),
                return_codes=C.VENDOR,
            ),
            Method(
                "RequestReplicationStateChange",
                (
                    IN("RequestedState", "uint16"),
                    JOB,
                    IN("TimeoutPeriod", "datetime"),
                ),
                return_codes=C.VENDOR_FILE,
            ),
            Method("InjectNonMaskableInterrupt", (JOB,), return_codes=CODES(0, 4096, 32769)),
            Method(
                "RequestReplicationStateChangeEx",
                (
                    IN("ReplicationRelationship", "string"),
                    IN("RequestedState", "uint16"),
                    JOB,
                    IN("TimeoutPeriod", "datetime"),
                ),
                return_codes=C.VENDOR_FILE,
            ),
            Method(
                "InjectNonMaskableInterruptEx",
                (
                    IN("Vtl", "uint8"),
                    JOB,
                ),
                return_codes=CODES(0, 4096, 32769),
                since=26100,
            ),
            Method("RequestCustomRestore", (IN("RestoreSettings", "string"), JOB), since=26100),
        ),
    ),
    ClassDef(
        "Msvm_PlannedComputerSystem",
        "CIM_ComputerSystem",
        props=(
            P("AssignedNumaNodeList", "uint16", array=True),
            P("OnTimeInMilliseconds", "uint64"),
            P("ProcessID", "uint32"),
            P("TimeOfLastConfigurationChange", "datetime"),
        ),
        methods=(
            Method(
                "RequestStateChange",
                (
                    IN("RequestedState", "uint16"),
                    JOB,
                    IN("TimeoutPeriod", "datetime"),
                ),
                return_codes=C.VENDOR,
            ),
        ),
    ),
    ClassDef(
        "Msvm_BIOSElement",
        "CIM_BIOSElement",
        props=(
            P("BIOSGUID", "string"),
            P("BIOSSerialNumber", "string"),
            P("BaseBoardSerialNumber", "string"),
            P("ChassisSerialNumber", "string"),
            P("ChassisAssetTag", "string"),
            P("BIOSNumLock", "boolean"),
            P("BootOrder", "uint16", array=True),
            P("EnableHibernation", "boolean", since=17763),
            P("BootPciExpress", "boolean", since=19041),
            P("BootPciExpressInstanceFilter", "string", since=19041),
            P("WatchdogEnabled", "boolean", since=26100),
        ),
    ),
    ClassDef(
        "Msvm_ShutdownComponent",
        "CIM_LogicalDevice",
        methods=(
            Method(
                "InitiateShutdown",
                (
                    IN("Force", "boolean"),
                    IN("Reason", "string"),
                ),
                return_codes=CODES(0, 4096, (32768, 32782)),
            ),
            C.DEVICE_REQUEST_STATE_CHANGE,
            C.DEVICE_RESET,
            Method(
                "InitiateReboot",
                (
                    IN("Force", "boolean"),
                    IN("Reason", "string"),
                ),
                return_codes=CODES(0, 4096, (32768, 32782)),
                since=10240,
            ),
            Method("InitiateHibernate", return_codes=CODES(0, 4096, (32768, 32780)), since=17763),
        ),
    ),
]
