"""Live and storage migration: service, settings, capabilities, jobs."""

from hyperv_emulator.schema import common as C
from hyperv_emulator.schema import values as V
from hyperv_emulator.schema.model import (
    CODES,
    IN,
    IN_REF,
    JOB,
    OUT,
    OUT_REF,
    ClassDef,
    Method,
    P,
)

CLASSES = [
    ClassDef(
        "CIM_VirtualSystemMigrationService",
        "CIM_Service",
        methods=(
            Method(
                "MigrateVirtualSystemToHost",
                (
                    IN_REF("ComputerSystem", "CIM_ComputerSystem"),
                    IN("DestinationHost", "string"),
                    IN(
                        "MigrationSettingData",
                        "string",
                        embedded="CIM_VirtualSystemMigrationSettingData",
                    ),
                    IN("NewSystemSettingData", "string", embedded="CIM_VirtualSystemSettingData"),
                    IN(
                        "NewResourceSettingData",
                        "string",
                        array=True,
                        embedded="CIM_ResourceAllocationSettingData",
                    ),
                    JOB,
                ),
                return_codes=C.DMTF_MODIFY,
            ),
            Method(
                "MigrateVirtualSystemToSystem",
                (
                    IN_REF("ComputerSystem", "CIM_ComputerSystem"),
                    IN_REF("DestinationSystem", "CIM_System"),
                    IN(
                        "MigrationSettingData",
                        "string",
                        embedded="CIM_VirtualSystemMigrationSettingData",
                    ),
                    IN("NewSystemSettingData", "string", embedded="CIM_VirtualSystemSettingData"),
                    IN(
                        "NewResourceSettingData",
                        "string",
                        array=True,
                        embedded="CIM_ResourceAllocationSettingData",
                    ),
                    OUT_REF("NewComputerSystem", "CIM_ComputerSystem"),
                    JOB,
                ),
                return_codes=C.DMTF_MODIFY,
            ),
            Method(
                "CheckVirtualSystemIsMigratableToHost",
                (
                    IN_REF("ComputerSystem", "CIM_ComputerSystem"),
                    IN("DestinationHost", "string"),
                    IN(
                        "MigrationSettingData",
                        "string",
                        embedded="CIM_VirtualSystemMigrationSettingData",
                    ),
                    IN("NewSystemSettingData", "string", embedded="CIM_VirtualSystemSettingData"),
                    IN(
                        "NewResourceSettingData",
                        "string",
                        array=True,
                        embedded="CIM_ResourceAllocationSettingData",
                    ),
                    OUT("IsMigratable", "boolean"),
                ),
                return_codes=CODES(0, 1, 2, 3, 4, 5, 6, (32768, 32779)),
            ),
            Method(
                "CheckVirtualSystemIsMigratableToSystem",
                (
                    IN_REF("ComputerSystem", "CIM_ComputerSystem"),
                    IN_REF("DestinationSystem", "CIM_System"),
                    IN(
                        "MigrationSettingData",
                        "string",
                        embedded="CIM_VirtualSystemMigrationSettingData",
                    ),
                    IN("NewSystemSettingData", "string", embedded="CIM_VirtualSystemSettingData"),
                    IN(
                        "NewResourceSettingData",
                        "string",
                        array=True,
                        embedded="CIM_ResourceAllocationSettingData",
                    ),
                    OUT("IsMigratable", "boolean"),
                ),
                return_codes=CODES(0, 1, 2, 3, 4, 5, 6, (32768, 32779)),
            ),
        ),
        abstract=True,
    ),
    ClassDef(
        "Msvm_VirtualSystemMigrationService",
        "CIM_VirtualSystemMigrationService",
        props=(
            P("ActiveVirtualSystemMigrationCount", "uint32"),
            P("ActiveStorageMigrationCount", "uint32"),
            P("MigrationServiceListenerIPAddressList", "string", array=True),
        ),
        methods=(
            Method(
                "MigrateVirtualSystemToHost",
                (
                    IN_REF("ComputerSystem", "CIM_ComputerSystem"),
                    IN("DestinationHost", "string"),
                    IN(
                        "MigrationSettingData",
                        "string",
                        embedded="Msvm_VirtualSystemMigrationSettingData",
                    ),
                    IN("NewSystemSettingData", "string", embedded="Msvm_VirtualSystemSettingData"),
                    IN(
                        "NewResourceSettingData",
                        "string",
                        array=True,
                        embedded="CIM_ResourceAllocationSettingData",
                    ),
                    JOB,
                ),
                return_codes=CODES(4096, (32768, 32778)),
            ),
            Method(
                "CheckVirtualSystemIsMigratable",
                (
                    IN_REF("ComputerSystem", "CIM_ComputerSystem"),
                    IN("DestinationHost", "string"),
                    IN(
                        "MigrationSettingData",
                        "string",
                        embedded="Msvm_VirtualSystemMigrationSettingData",
                    ),
                    IN("NewSystemSettingData", "string", embedded="Msvm_VirtualSystemSettingData"),
                    IN(
                        "NewResourceSettingData",
                        "string",
                        array=True,
                        embedded="Msvm_ResourceAllocationSettingData",
                    ),
                    JOB,
                ),
                return_codes=CODES(4096, (32768, 32778)),
            ),
            Method(
                "ModifyServiceSettings",
                (
                    IN(
                        "ServiceSettingData",
                        "string",
                        embedded="Msvm_VirtualSystemMigrationServiceSettingData",
                    ),
                    JOB,
                ),
                return_codes=C.VENDOR,
            ),
            Method(
                "AddNetworkSettings",
                (
                    IN(
                        "NetworkSettings",
                        "string",
                        array=True,
                        embedded="Msvm_VirtualSystemMigrationNetworkSettingData",
                    ),
                    JOB,
                ),
                return_codes=C.VENDOR,
            ),
            Method(
                "RemoveNetworkSettings",
                (
                    IN_REF(
                        "NetworkSettings",
                        "Msvm_VirtualSystemMigrationNetworkSettingData",
                        array=True,
                    ),
                    JOB,
                ),
                return_codes=C.VENDOR,
            ),
            Method(
                "ModifyNetworkSettings",
                (
                    IN(
                        "NetworkSettings",
                        "string",
                        array=True,
                        embedded="Msvm_VirtualSystemMigrationNetworkSettingData",
                    ),
                    JOB,
                ),
                return_codes=C.VENDOR,
            ),
            Method(
                "GetSystemCompatibilityInfo",
                (
                    IN_REF("ComputerSystem", "CIM_ComputerSystem"),
                    OUT("CompatibilityInfo", "uint8", array=True),
                ),
                return_codes=C.VENDOR,
            ),
            Method(
                "CheckSystemCompatibilityInfo",
                (
                    IN("CompatibilityInfo", "uint8", array=True),
                    OUT("Reasons", "string", array=True, embedded="Msvm_Error"),
                ),
                return_codes=CODES(0, 4096, (32768, 32778), 32784),
            ),
            C.DEVICE_REQUEST_STATE_CHANGE,
            C.START_SERVICE,
            C.STOP_SERVICE,
            Method(
                "GetSystemCompatibilityVectors",
                (
                    IN_REF("ComputerSystem", "CIM_ComputerSystem"),
                    OUT(
                        "CompatibilityVectors",
                        "object",
                        array=True,
                        embedded="Msvm_CompatibilityVector",
                    ),
                ),
                return_codes=C.VENDOR,
            ),
            Method(
                "GetProcessorFeatureLimits",
                (
                    IN("Options", "string"),
                    OUT(
                        "CompatibilityVectors",
                        "object",
                        array=True,
                        embedded="Msvm_CompatibilityVector",
                    ),
                ),
                return_codes=C.VENDOR,
                since=20348,
            ),
        ),
    ),
    ClassDef(
        "Msvm_VirtualSystemMigrationServiceSettingData",
        "CIM_SettingData",
        props=(
            P("EnableVirtualSystemMigration", "boolean"),
            P("MaximumActiveVirtualSystemMigration", "uint32"),
            P("MaximumActiveStorageMigration", "uint32"),
            P("AuthenticationType", "uint32"),
            P("EnableCompression", "boolean"),
            P("EnableSmbTransport", "boolean"),
        ),
    ),
    ClassDef(
        "CIM_VirtualSystemMigrationSettingData",
        "CIM_SettingData",
        props=(
            P("MigrationType", "uint16"),
            P("Priority", "uint16"),
            P("Bandwidth", "uint16"),
            P("BandwidthUnit", "string"),
            P("OtherTransportType", "string"),
            P("TransportType", "uint16"),
        ),
        abstract=True,
    ),
    ClassDef(
        "Msvm_VirtualSystemMigrationSettingData",
        "CIM_VirtualSystemMigrationSettingData",
        props=(
            P("MigrationType", "uint16", values=V.MIGRATION_TYPE),
            P("TransportType", "uint16", values=V.MIGRATION_TRANSPORT),
            P("RemoveSourceUnmanagedVhds", "boolean", since=10240),
            P("AvoidRemovingVHDs", "boolean", since=15063),
            P("CPUCappingMagnitude", "uint16", since=16299),
            P("CancelIfBlackoutThresholdExceeded", "boolean", since=16299),
            P("AllowOverwriteExistingFile", "boolean", since=15063),
            P("UnmanagedVhds", "string", array=True, embedded="Msvm_MoveUnmanagedVhd", since=10240),
            P("DestinationPlannedVirtualSystemId", "string"),
            P("DestinationIPAddressList", "string", array=True),
            P("RetainVhdCopiesOnSource", "boolean"),
            P("EnableCompression", "boolean"),
            P("EnableVhdCompression", "boolean", since=19041),
            P("AdvancedOptions", "string", since=26100),
        ),
    ),
    ClassDef(
        "CIM_VirtualSystemMigrationCapabilities",
        "CIM_Capabilities",
        props=(
            P("SynchronousMethodsSupported", "uint16", array=True),
            P("AsynchronousMethodsSupported", "uint16", array=True),
            P("DestinationHostFormatsSupported", "uint16", array=True),
        ),
        abstract=True,
    ),
    ClassDef(
        "Msvm_VirtualSystemMigrationCapabilities",
        "CIM_VirtualSystemMigrationCapabilities",
        props=(P("AsynchronousMethodsSupported", "uint16", array=True),),
    ),
    ClassDef(
        "Msvm_VirtualSystemMigrationNetworkSettingData",
        "CIM_SettingData",
        props=(
            P("SubnetNumber", "string"),
            P("PrefixLength", "uint8"),
            P("Metric", "uint32"),
            P("Tags", "string", array=True),
        ),
    ),
    ClassDef(
        "Msvm_MigrationJob",
        "CIM_ConcreteJob",
        props=(
            P("Cancellable", "boolean"),
            P("ErrorSummaryDescription", "string"),
            P("MigrationType", "uint16"),
            P("VirtualSystemName", "string"),
            P("DestinationHost", "string"),
            P("NewSystemSettingData", "string", embedded="Msvm_VirtualSystemSettingData"),
            P("NewResourceSettingData", "string", array=True),
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
            Method(
                "GetError",
                (OUT("Error", "string", embedded="Msvm_Error"),),
                return_codes=C.VENDOR_SYNC,
            ),
            Method(
                "GetErrorEx",
                (OUT("Errors", "string", array=True, embedded="Msvm_Error"),),
                return_codes=C.VENDOR_SYNC,
            ),
        ),
    ),
    ClassDef(
        "Msvm_CompatibilityVector",
        None,
        props=(
            P("VectorId", "uint32"),
            P("CompareOperation", "uint32"),
            P("CompatibilityInfo", "uint64"),
        ),
    ),
]
