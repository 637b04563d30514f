"""The virtual system management service (vmms) and what it answers with."""

from hyperv_emulator.schema import common as C
from hyperv_emulator.schema import values as V
from hyperv_emulator.schema.model import (
    IN,
    IN_REF,
    JOB,
    KEY,
    OUT,
    OUT_REF,
    REF,
    ClassDef,
    Method,
    P,
)

CLASSES = [
    ClassDef(
        "CIM_VirtualSystemManagementService",
        "CIM_Service",
        methods=(
            Method(
                "AddResourceSettings",
                (
                    IN_REF("AffectedConfiguration", "CIM_VirtualSystemSettingData"),
                    IN("ResourceSettings", "string", array=True),
                    OUT_REF(
                        "ResultingResourceSettings", "CIM_ResourceAllocationSettingData", array=True
                    ),
                    JOB,
                ),
                return_codes=C.DMTF_CREATE,
            ),
            Method(
                "DefineSystem",
                (
                    IN("SystemSettings", "string"),
                    IN("ResourceSettings", "string", array=True),
                    IN_REF("ReferenceConfiguration", "CIM_VirtualSystemSettingData"),
                    OUT_REF("ResultingSystem", "CIM_ComputerSystem"),
                    JOB,
                ),
                return_codes=C.DMTF_CREATE,
            ),
            Method(
                "DestroySystem",
                (
                    IN_REF("AffectedSystem", "CIM_ComputerSystem"),
                    JOB,
                ),
                return_codes=C.DMTF_REMOVE,
            ),
            Method(
                "ModifyResourceSettings",
                (
                    IN("ResourceSettings", "string", array=True),
                    OUT_REF(
                        "ResultingResourceSettings", "CIM_ResourceAllocationSettingData", array=True
                    ),
                    JOB,
                ),
                return_codes=C.DMTF_MODIFY,
            ),
            Method(
                "ModifySystemSettings",
                (
                    IN("SystemSettings", "string"),
                    JOB,
                ),
                return_codes=C.DMTF_MODIFY,
            ),
            Method(
                "RemoveResourceSettings",
                (
                    IN_REF("ResourceSettings", "CIM_ResourceAllocationSettingData", array=True),
                    JOB,
                ),
                return_codes=C.DMTF_REMOVE,
            ),
        ),
        abstract=True,
    ),
    ClassDef(
        "Msvm_VirtualSystemManagementService",
        "CIM_VirtualSystemManagementService",
        methods=(
            Method(
                "DefineSystem",
                (
                    IN("SystemSettings", "string", embedded="Msvm_VirtualSystemSettingData"),
                    IN(
                        "ResourceSettings",
                        "string",
                        array=True,
                        embedded="CIM_ResourceAllocationSettingData",
                    ),
                    IN_REF("ReferenceConfiguration", "CIM_VirtualSystemSettingData"),
                    OUT_REF("ResultingSystem", "CIM_ComputerSystem"),
                    JOB,
                ),
                return_codes=C.DMTF_CREATE,
            ),
            Method(
                "ValidatePlannedSystem",
                (
                    IN_REF("PlannedSystem", "Msvm_PlannedComputerSystem"),
                    JOB,
                ),
                return_codes=C.VENDOR_FILE,
            ),
            Method(
                "DestroySystem",
                (
                    IN_REF("AffectedSystem", "CIM_ComputerSystem"),
                    JOB,
                ),
                return_codes=C.DMTF_REMOVE,
            ),
            Method(
                "ModifySystemSettings",
                (
                    IN("SystemSettings", "string", embedded="Msvm_VirtualSystemSettingData"),
                    JOB,
                ),
                return_codes=C.DMTF_MODIFY,
            ),
            Method(
                "ImportSystemDefinition",
                (
                    IN("SystemDefinitionFile", "string"),
                    IN("SnapshotFolder", "string"),
                    IN("GenerateNewSystemIdentifier", "boolean"),
                    OUT_REF("ImportedSystem", "Msvm_PlannedComputerSystem"),
                    JOB,
                ),
                return_codes=C.VENDOR_FILE,
            ),
            Method(
                "ImportSnapshotDefinitions",
                (
                    IN_REF("PlannedSystem", "Msvm_PlannedComputerSystem"),
                    IN("SnapshotFolder", "string"),
                    OUT_REF("ImportedSnapshots", "Msvm_VirtualSystemSettingData", array=True),
                    JOB,
                ),
                return_codes=C.VENDOR_FILE,
            ),
            Method(
                "RealizePlannedSystem",
                (
                    IN_REF("PlannedSystem", "Msvm_PlannedComputerSystem"),
                    OUT_REF("ResultingSystem", "CIM_ComputerSystem"),
                    JOB,
                ),
                return_codes=C.VENDOR,
            ),
            Method(
                "ExportSystemDefinition",
                (
                    IN_REF("ComputerSystem", "CIM_ComputerSystem"),
                    IN("ExportDirectory", "string"),
                    IN(
                        "ExportSettingData",
                        "string",
                        embedded="Msvm_VirtualSystemExportSettingData",
                    ),
                    JOB,
                ),
                return_codes=C.VENDOR,
            ),
            Method(
                "AddFeatureSettings",
                (
                    IN_REF("AffectedConfiguration", "Msvm_EthernetPortAllocationSettingData"),
                    IN(
                        "FeatureSettings",
                        "string",
                        array=True,
                        embedded="Msvm_EthernetSwitchPortFeatureSettingData",
                    ),
                    OUT_REF(
                        "ResultingFeatureSettings",
                        "Msvm_EthernetSwitchPortFeatureSettingData",
                        array=True,
                    ),
                    JOB,
                ),
                return_codes=C.DMTF_CREATE,
            ),
            Method(
                "ModifyFeatureSettings",
                (
                    IN(
                        "FeatureSettings",
                        "string",
                        array=True,
                        embedded="Msvm_EthernetSwitchPortFeatureSettingData",
                    ),
                    OUT_REF(
                        "ResultingFeatureSettings",
                        "Msvm_EthernetSwitchPortFeatureSettingData",
                        array=True,
                    ),
                    JOB,
                ),
                return_codes=C.DMTF_MODIFY,
            ),
            Method(
                "RemoveFeatureSettings",
                (
                    IN_REF(
                        "FeatureSettings", "Msvm_EthernetSwitchPortFeatureSettingData", array=True
                    ),
                    JOB,
                ),
                return_codes=C.DMTF_REMOVE,
            ),
            Method(
                "AddResourceSettings",
                (
                    IN_REF("AffectedConfiguration", "CIM_VirtualSystemSettingData"),
                    IN(
                        "ResourceSettings",
                        "string",
                        array=True,
                        embedded="CIM_ResourceAllocationSettingData",
                    ),
                    OUT_REF(
                        "ResultingResourceSettings", "CIM_ResourceAllocationSettingData", array=True
                    ),
                    JOB,
                ),
                return_codes=C.DMTF_CREATE,
            ),
            Method(
                "ModifyResourceSettings",
                (
                    IN(
                        "ResourceSettings",
                        "string",
                        array=True,
                        embedded="CIM_ResourceAllocationSettingData",
                    ),
                    OUT_REF(
                        "ResultingResourceSettings", "CIM_ResourceAllocationSettingData", array=True
                    ),
                    JOB,
                ),
                return_codes=C.DMTF_MODIFY,
            ),
            Method(
                "RemoveResourceSettings",
                (
                    IN_REF("ResourceSettings", "CIM_ResourceAllocationSettingData", array=True),
                    JOB,
                ),
                return_codes=C.DMTF_REMOVE,
            ),
            Method(
                "GetVirtualSystemThumbnailImage",
                (
                    IN_REF("TargetSystem", "CIM_VirtualSystemSettingData"),
                    IN("WidthPixels", "uint16"),
                    IN("HeightPixels", "uint16"),
                    OUT("ImageData", "uint8", array=True),
                ),
                return_codes=C.VENDOR,
            ),
            Method(
                "ModifyServiceSettings",
                (
                    IN(
                        "SettingData",
                        "string",
                        embedded="Msvm_VirtualSystemManagementServiceSettingData",
                    ),
                    JOB,
                ),
                return_codes=C.VENDOR,
            ),
            Method(
                "GetSummaryInformation",
                (
                    IN_REF("SettingData", "CIM_VirtualSystemSettingData", array=True),
                    IN("RequestedInformation", "uint32", array=True, values=V.SUMMARY_INFORMATION),
                    OUT(
                        "SummaryInformation",
                        "object",
                        array=True,
                        embedded="Msvm_SummaryInformation",
                    ),
                ),
                return_codes=C.VENDOR,
                until=10240,
            ),
            Method(
                "GetSummaryInformation",
                (
                    IN_REF("SettingData", "CIM_VirtualSystemSettingData", array=True),
                    IN("RequestedInformation", "uint32", array=True, values=V.SUMMARY_INFORMATION),
                    OUT(
                        "SummaryInformation",
                        "object",
                        array=True,
                        embedded="Msvm_SummaryInformationBase",
                    ),
                ),
                return_codes=C.VENDOR,
                since=10586,
            ),
            Method(
                "GetDefinitionFileSummaryInformation",
                (
                    IN("DefinitionFiles", "string", array=True),
                    OUT(
                        "SummaryInformation",
                        "object",
                        array=True,
                        embedded="Msvm_SummaryInformation",
                    ),
                ),
                return_codes=C.VENDOR,
                until=10240,
            ),
            Method(
                "GetDefinitionFileSummaryInformation",
                (
                    IN("DefinitionFiles", "string", array=True),
                    OUT(
                        "SummaryInformation",
                        "object",
                        array=True,
                        embedded="Msvm_SummaryInformationBase",
                    ),
                ),
                return_codes=C.VENDOR,
                since=10586,
            ),
            Method(
                "AddKvpItems",
                (
                    IN_REF("TargetSystem", "CIM_ComputerSystem"),
                    IN("DataItems", "string", array=True, embedded="Msvm_KvpExchangeDataItem"),
                    JOB,
                ),
                return_codes=C.VENDOR,
            ),
            Method(
                "ModifyKvpItems",
                (
                    IN_REF("TargetSystem", "CIM_ComputerSystem"),
                    IN("DataItems", "string", array=True, embedded="Msvm_KvpExchangeDataItem"),
                    JOB,
                ),
                return_codes=C.VENDOR,
            ),
            Method(
                "RemoveKvpItems",
                (
                    IN_REF("TargetSystem", "CIM_ComputerSystem"),
                    IN("DataItems", "string", array=True, embedded="Msvm_KvpExchangeDataItem"),
                    JOB,
                ),
                return_codes=C.VENDOR,
            ),
            Method(
                "FormatError",
                (
                    IN("Errors", "string", array=True),
                    OUT("ErrorMessage", "string"),
                ),
                return_codes=C.VENDOR,
            ),
            C.DEVICE_REQUEST_STATE_CHANGE,
            C.START_SERVICE,
            C.STOP_SERVICE,
            Method(
                "ModifyDiskMergeSettings",
                (
                    IN("SettingData", "string", embedded="Msvm_DiskMergeSettingData"),
                    JOB,
                ),
                return_codes=C.VENDOR,
            ),
            Method(
                "GenerateWwpn",
                (
                    IN("NumberOfWwpns", "uint32"),
                    OUT("GeneratedWwpn", "string", array=True),
                ),
                return_codes=C.VENDOR_SYNC,
            ),
            Method(
                "AddFibreChannelChap",
                (
                    IN(
                        "FcPortSettings",
                        "string",
                        array=True,
                        embedded="Msvm_SyntheticFcPortSettingData",
                    ),
                    IN("SecretEncoding", "uint8"),
                    IN("SharedSecret", "uint8", array=True),
                ),
                return_codes=C.VENDOR_SYNC,
            ),
            Method(
                "RemoveFibreChannelChap",
                (
                    IN(
                        "FcPortSettings",
                        "string",
                        array=True,
                        embedded="Msvm_SyntheticFcPortSettingData",
                    ),
                ),
                return_codes=C.VENDOR_SYNC,
            ),
            Method(
                "SetGuestNetworkAdapterConfiguration",
                (
                    IN_REF("ComputerSystem", "CIM_ComputerSystem"),
                    IN(
                        "NetworkConfiguration",
                        "string",
                        array=True,
                        embedded="Msvm_GuestNetworkAdapterConfiguration",
                    ),
                    JOB,
                ),
                return_codes=C.VENDOR,
            ),
            Method(
                "GetSizeOfSystemFiles",
                (
                    IN_REF("Vssd", "CIM_VirtualSystemSettingData"),
                    OUT("Size", "uint64"),
                ),
                return_codes=C.VENDOR,
            ),
            Method(
                "GetCurrentWwpnFromGenerator",
                (OUT("CurrentWwpn", "string"),),
                return_codes=C.VENDOR_SYNC,
            ),
            Method(
                "TestNetworkConnection",
                (
                    IN_REF("TargetNetworkAdapter", "Msvm_EthernetPortAllocationSettingData"),
                    IN("IsSender", "boolean"),
                    IN("SenderIP", "string"),
                    IN("ReceiverIP", "string"),
                    IN("ReceiverMac", "string"),
                    IN("IsolationId", "uint32"),
                    IN("SequenceNumber", "uint32"),
                    OUT("RoundTripTime", "uint32"),
                    JOB,
                ),
                return_codes=C.DMTF_CREATE,
            ),
            Method(
                "DefinePlannedSystem",
                (
                    IN("SystemSettings", "string", embedded="Msvm_VirtualSystemSettingData"),
                    IN(
                        "ResourceSettings",
                        "string",
                        array=True,
                        embedded="CIM_ResourceAllocationSettingData",
                    ),
                    IN_REF("ReferenceConfiguration", "CIM_VirtualSystemSettingData"),
                    OUT_REF("ResultingSystem", "CIM_ComputerSystem"),
                    JOB,
                ),
                return_codes=C.DMTF_CREATE,
                since=10240,
            ),
            Method(
                "UpgradeSystemVersion",
                (
                    IN_REF("ComputerSystem", "CIM_ComputerSystem"),
                    IN("UpgradeSettingData", "string"),
                    JOB,
                ),
                return_codes=C.DMTF_MODIFY,
                since=10240,
                until=19041,
            ),
            Method(
                "UpgradeSystemVersion",
                (
                    IN_REF("ComputerSystem", "CIM_ComputerSystem"),
                    IN(
                        "UpgradeSettingData",
                        "string",
                        embedded="Msvm_VirtualSystemUpgradeSettingData",
                    ),
                    JOB,
                ),
                return_codes=C.DMTF_MODIFY,
                since=20348,
            ),
            Method(
                "AddBootSourceSettings",
                (
                    IN_REF("AffectedConfiguration", "CIM_VirtualSystemSettingData"),
                    IN(
                        "BootSourceSettings",
                        "string",
                        array=True,
                        embedded="Msvm_BootSourceSettingData",
                    ),
                    OUT_REF("ResultingBootSourceSettings", "CIM_SettingData", array=True),
                    JOB,
                ),
                return_codes=C.DMTF_CREATE,
                since=10240,
            ),
            Method(
                "AddGuestServiceSettings",
                (
                    IN_REF("AffectedConfiguration", "CIM_VirtualSystemSettingData"),
                    IN("GuestServiceSettings", "string", array=True),
                    OUT_REF("ResultingGuestServiceSettings", "CIM_SettingData", array=True),
                    JOB,
                ),
                return_codes=C.DMTF_CREATE,
                since=10240,
            ),
            Method(
                "ModifyGuestServiceSettings",
                (
                    IN("GuestServiceSettings", "string", array=True),
                    OUT_REF("ResultingGuestServiceSettings", "CIM_SettingData", array=True),
                    JOB,
                ),
                return_codes=C.DMTF_MODIFY,
                since=10240,
            ),
            Method(
                "RemoveBootSourceSettings",
                (
                    IN_REF("BootSourceSettings", "CIM_SettingData", array=True),
                    JOB,
                ),
                return_codes=C.DMTF_REMOVE,
                since=10240,
            ),
            Method(
                "RemoveGuestServiceSettings",
                (
                    IN_REF("GuestServiceSettings", "CIM_SettingData", array=True),
                    JOB,
                ),
                return_codes=C.DMTF_REMOVE,
                since=10240,
            ),
            Method(
                "SetInitialMachineConfigurationData",
                (
                    IN_REF("TargetSystem", "CIM_ComputerSystem"),
                    IN("ImcData", "uint8", array=True),
                    JOB,
                ),
                return_codes=C.VENDOR,
                since=10240,
            ),
            Method(
                "AddSystemComponentSettings",
                (
                    IN_REF("AffectedConfiguration", "Msvm_VirtualSystemSettingData"),
                    IN(
                        "ComponentSettings",
                        "string",
                        array=True,
                        embedded="Msvm_SystemComponentSettingData",
                    ),
                    OUT_REF(
                        "ResultingComponentSettings", "Msvm_SystemComponentSettingData", array=True
                    ),
                    JOB,
                ),
                return_codes=C.DMTF_CREATE,
                since=10586,
            ),
            Method(
                "ModifySystemComponentSettings",
                (
                    IN(
                        "ComponentSettings",
                        "string",
                        array=True,
                        embedded="Msvm_SystemComponentSettingData",
                    ),
                    OUT_REF(
                        "ResultingComponentSettings", "Msvm_SystemComponentSettingData", array=True
                    ),
                    JOB,
                ),
                return_codes=C.DMTF_MODIFY,
                since=10586,
            ),
            Method(
                "RemoveSystemComponentSettings",
                (
                    IN_REF("ComponentSettings", "Msvm_SystemComponentSettingData", array=True),
                    JOB,
                ),
                return_codes=C.DMTF_REMOVE,
                since=10586,
            ),
            Method(
                "DiagnoseNetworkConnection",
                (
                    IN_REF("TargetNetworkAdapter", "Msvm_EthernetPortAllocationSettingData"),
                    IN(
                        "DiagnosticSettings",
                        "string",
                        embedded="Msvm_NetworkConnectionDiagnosticSettingData",
                    ),
                    OUT(
                        "DiagnosticInformation",
                        "string",
                        embedded="Msvm_NetworkConnectionDiagnosticInformation",
                    ),
                    JOB,
                ),
                return_codes=C.DMTF_CREATE,
                since=14393,
            ),
        ),
    ),
    ClassDef(
        "Msvm_VirtualSystemManagementServiceSettingData",
        "CIM_SettingData",
        props=(
            P("BiosLockString", "string", max_len=32),
            P("DefaultExternalDataRoot", "string"),
            P("DefaultVirtualHardDiskPath", "string"),
            P("MaximumMacAddress", "string"),
            P("MinimumMacAddress", "string"),
            P("NumaSpanningEnabled", "boolean"),
            P("PrimaryOwnerContact", "string", max_len=256),
            P("PrimaryOwnerName", "string", max_len=64),
            P("HbaLunTimeout", "uint32"),
            P("MaximumWWPNAddress", "string"),
            P("MinimumWWPNAddress", "string"),
            P("CurrentWWNNAddress", "string"),
            P("DefaultVirtualHardDiskCachingMode", "uint16", since=10240),
            P("HypervisorRootSchedulerEnabled", "boolean", since=16299),
            P("EnhancedSessionModeEnabled", "boolean"),
            P("HypervisorSnpStatus", "uint16", since=26100),
            P("HypervisorTdxStatus", "uint16", since=26100),
        ),
    ),
    ClassDef(
        "CIM_VirtualSystemManagementCapabilities",
        "CIM_EnabledLogicalElementCapabilities",
        props=(
            P("VirtualSystemTypesSupported", "string", array=True),
            P("SynchronousMethodsSupported", "uint16", array=True),
            P("AsynchronousMethodsSupported", "uint16", array=True),
            P("IndicationsSupported", "uint16", array=True),
        ),
        abstract=True,
    ),
    ClassDef(
        "Msvm_VirtualSystemManagementCapabilities",
        "CIM_VirtualSystemManagementCapabilities",
        props=(
            P("SynchronousMethodsSupported", "uint16", array=True),
            P("AsynchronousMethodsSupported", "uint16", array=True),
            P("IndicationsSupported", "uint16", array=True),
        ),
    ),
    ClassDef(
        "Msvm_VirtualSystemCapabilities",
        "CIM_EnabledLogicalElementCapabilities",
    ),
    ClassDef(
        "Msvm_SummaryInformationBase",
        "CIM_View",
        props=(
            KEY("InstanceID"),
            P("CreationTime", "datetime"),
            P("ElementName", "string"),
            P("EnabledState", "uint16"),
            P("OtherEnabledState", "string"),
            P("HealthState", "uint16"),
            P("Name", "string"),
            P("Notes", "string"),
            P("Version", "string"),
            P("NumberOfProcessors", "uint16"),
            P("OperationalStatus", "uint16", array=True),
            P("StatusDescriptions", "string", array=True),
            P("UpTime", "uint64"),
            P("EnhancedSessionModeState", "uint16"),
            P("VirtualSwitchNames", "string", array=True),
            P("VirtualSystemSubType", "string"),
            P("HostComputerSystemName", "string"),
        ),
        abstract=True,
        since=10586,
    ),
    # 2012 R2: Msvm_SummaryInformationBase did not exist yet. The real
    # superclass then is not recorded; CIM_ManagedElement is our assumption.
    ClassDef(
        "Msvm_SummaryInformation",
        "CIM_ManagedElement",
        props=(
            KEY("InstanceID", since=10240),
            P("AllocatedGPU", "string"),
            P("AsynchronousTasks", "object", array=True, embedded="CIM_ConcreteJob"),
            P("CreationTime", "datetime"),
            P("ElementName", "string"),
            P("EnabledState", "uint16"),
            P("OtherEnabledState", "string"),
            P("GuestOperatingSystem", "string"),
            P("HealthState", "uint16"),
            P("Heartbeat", "uint16"),
            P("MemoryUsage", "uint64"),
            P("MemoryAvailable", "sint32"),
            P("AvailableMemoryBuffer", "sint32"),
            P("SwapFilesInUse", "boolean"),
            P("Name", "string"),
            P("Notes", "string"),
            P("Version", "string", since=10240),
            P("NumberOfProcessors", "uint16"),
            P("OperationalStatus", "uint16", array=True),
            P("ProcessorLoad", "uint16"),
            P("ProcessorLoadHistory", "uint16", array=True),
            P("Snapshots", "object", array=True, embedded="CIM_VirtualSystemSettingData"),
            P("StatusDescriptions", "string", array=True),
            P("ThumbnailImage", "uint8", array=True),
            P("ThumbnailImageHeight", "uint16", since=10240),
            P("ThumbnailImageWidth", "uint16", since=10240),
            P("UpTime", "uint64"),
            P("ReplicationState", "uint16"),
            P("ReplicationStateEx", "uint16", array=True),
            P("ReplicationHealth", "uint16"),
            P("ReplicationHealthEx", "uint16", array=True),
            P("ReplicationMode", "uint16"),
            REF("TestReplicaSystem", "CIM_ComputerSystem"),
            P("ApplicationHealth", "uint16"),
            P("IntegrationServicesVersionState", "uint16"),
            P("MemorySpansPhysicalNumaNodes", "boolean"),
            P("ReplicationProviderId", "string", array=True),
            P("EnhancedSessionModeState", "uint16"),
            P("VirtualSwitchNames", "string", array=True),
            P("VirtualSystemSubType", "string"),
            P("HostComputerSystemName", "string", since=10240),
        ),
        until=10240,
    ),
    ClassDef(
        "Msvm_SummaryInformation",
        "Msvm_SummaryInformationBase",
        props=(
            P("AllocatedGPU", "string"),
            P("Shielded", "boolean", since=14393),
            P("AsynchronousTasks", "object", array=True, embedded="CIM_ConcreteJob"),
            P("GuestOperatingSystem", "string"),
            P("Heartbeat", "uint16"),
            P("MemoryUsage", "uint64"),
            P("MemoryAvailable", "sint32"),
            P("AvailableMemoryBuffer", "sint32"),
            P("SwapFilesInUse", "boolean"),
            P("ProcessorLoad", "uint16"),
            P("ProcessorLoadHistory", "uint16", array=True),
            P("Snapshots", "object", array=True, embedded="CIM_VirtualSystemSettingData"),
            P("ThumbnailImage", "uint8", array=True),
            P("ThumbnailImageHeight", "uint16"),
            P("ThumbnailImageWidth", "uint16"),
            P("ReplicationState", "uint16"),
            P("ReplicationStateEx", "uint16", array=True),
            P("ReplicationHealth", "uint16"),
            P("ReplicationHealthEx", "uint16", array=True),
            P("ReplicationMode", "uint16"),
            REF("TestReplicaSystem", "CIM_ComputerSystem"),
            P("ApplicationHealth", "uint16"),
            P("IntegrationServicesVersionState", "uint16"),
            P("MemorySpansPhysicalNumaNodes", "boolean"),
            P("ReplicationProviderId", "string", array=True),
            P("HypervisorPartitionId", "uint64", since=17763),
        ),
        since=10586,
    ),
    ClassDef(
        "Msvm_KvpExchangeDataItem",
        "CIM_ManagedElement",
        props=(
            P("Source", "uint16"),
            P("Name", "string", max_len=1024),
            P("Data", "string", max_len=1024),
        ),
    ),
    ClassDef(
        "Msvm_GuestNetworkAdapterConfiguration",
        None,
        props=(
            KEY("InstanceID"),
            P("ProtocolIFType", "uint16"),
            P("DHCPEnabled", "boolean"),
            P("IPAddresses", "string", array=True),
            P("Subnets", "string", array=True),
            P("DefaultGateways", "string", array=True),
            P("DNSServers", "string", array=True),
            P("IPAddressOrigins", "uint16", array=True),
        ),
    ),
]
