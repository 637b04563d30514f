"""Virtual Ethernet switches and the service that manages them."""

from hyperv_emulator.schema import common as C
from hyperv_emulator.schema.model import (
    IN,
    IN_REF,
    JOB,
    KEY,
    OUT_REF,
    ClassDef,
    Method,
    P,
)

CLASSES = [
    ClassDef(
        "CIM_VirtualEthernetSwitchSettingData",
        "CIM_VirtualSystemSettingData",
        props=(
            P("VLANConnection", "string", array=True),
            P("AssociatedResourcePool", "string", array=True),
            P("MaxNumMACAddress", "uint32"),
        ),
        abstract=True,
    ),
    ClassDef(
        "Msvm_VirtualEthernetSwitch",
        "CIM_ComputerSystem",
        props=(
            P("MaxVMQOffloads", "uint32"),
            P("MaxIOVOffloads", "uint32"),
        ),
        methods=(C.DEVICE_REQUEST_STATE_CHANGE,),
    ),
    ClassDef(
        "Msvm_VirtualEthernetSwitchSettingData",
        "CIM_VirtualEthernetSwitchSettingData",
        props=(
            P("IOVPreferred", "boolean", default=False),
            P("ExtensionOrder", "string", array=True),
            P("BandwidthReservationMode", "uint32", default=0),
            P("TeamingEnabled", "boolean", default=False, since=10240),
            P("PacketDirectEnabled", "boolean", default=False, since=10240),
            P("NATEnabled", "boolean", default=False, since=10586, until=10586),
            P("NATSubnetAddress", "string", since=10586, until=10586),
            P("NATPrefixLength", "uint8", since=10586, until=10586),
            P("AllowNetLbfoTeams", "boolean", default=False, since=20348),
            P("BypassExtensionStack", "boolean", default=False, since=22000),
            P("RequiredExtensionIds", "string", array=True, since=22000),
        ),
    ),
    ClassDef(
        "Msvm_VirtualEthernetSwitchManagementService",
        "CIM_VirtualSystemManagementService",
        methods=(
            Method(
                "DefineSystem",
                (
                    IN(
                        "SystemSettings", "string", embedded="Msvm_VirtualEthernetSwitchSettingData"
                    ),
                    IN(
                        "ResourceSettings",
                        "string",
                        array=True,
                        embedded="Msvm_EthernetPortAllocationSettingData",
                    ),
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
                "ModifySystemSettings",
                (
                    IN(
                        "SystemSettings", "string", embedded="Msvm_VirtualEthernetSwitchSettingData"
                    ),
                    JOB,
                ),
                return_codes=C.DMTF_MODIFY,
            ),
            Method(
                "AddResourceSettings",
                (
                    IN_REF("AffectedConfiguration", "CIM_VirtualSystemSettingData"),
                    IN(
                        "ResourceSettings",
                        "string",
                        array=True,
                        embedded="Msvm_EthernetPortAllocationSettingData",
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
                        embedded="Msvm_EthernetPortAllocationSettingData",
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
                "AddFeatureSettings",
                (
                    IN_REF("AffectedConfiguration", "CIM_SettingData"),
                    IN("FeatureSettings", "string", array=True, embedded="Msvm_FeatureSettingData"),
                    OUT_REF("ResultingFeatureSettings", "Msvm_FeatureSettingData", array=True),
                    JOB,
                ),
                return_codes=C.DMTF_CREATE,
            ),
            Method(
                "ModifyFeatureSettings",
                (
                    IN("FeatureSettings", "string", array=True, embedded="Msvm_FeatureSettingData"),
                    OUT_REF("ResultingFeatureSettings", "Msvm_FeatureSettingData", array=True),
                    JOB,
                ),
                return_codes=C.DMTF_MODIFY,
            ),
            Method(
                "RemoveFeatureSettings",
                (
                    IN_REF("FeatureSettings", "Msvm_FeatureSettingData", array=True),
                    JOB,
                ),
                return_codes=C.DMTF_REMOVE,
            ),
            C.DEVICE_REQUEST_STATE_CHANGE,
            C.START_SERVICE,
            C.STOP_SERVICE,
        ),
    ),
    ClassDef(
        "Msvm_VirtualEthernetSwitchManagementCapabilities",
        "CIM_VirtualSystemManagementCapabilities",
        props=(
            P("AsynchronousMethodsSupported", "uint16", array=True),
            P("IOVSupport", "boolean"),
            P("IOVSupportReasons", "string", array=True),
        ),
    ),
    ClassDef(
        "Msvm_EthernetSwitchExtension",
        "CIM_EnabledLogicalElement",
        props=(
            KEY("SystemCreationClassName", max_len=256),
            KEY("SystemName", max_len=256),
            KEY("CreationClassName", max_len=256),
            KEY("Name", max_len=256),
            P("ExtensionType", "uint8"),
            P("Vendor", "string"),
            P("Version", "string"),
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
        "Msvm_InstalledEthernetSwitchExtension",
        "CIM_ManagedSystemElement",
        props=(
            KEY("Name", max_len=256),
            P("ExtensionType", "uint8"),
            P("Vendor", "string"),
            P("Version", "string"),
        ),
    ),
    ClassDef(
        "Msvm_EthernetSwitchData",
        "CIM_ManagedElement",
        props=(
            KEY("SystemCreationClassName", max_len=256),
            KEY("SystemName", max_len=256),
            KEY("CreationClassName", max_len=256),
            KEY("Name", max_len=256),
        ),
        abstract=True,
    ),
    ClassDef(
        "Msvm_EthernetSwitchBandwidthData",
        "Msvm_EthernetSwitchData",
        props=(
            P("Capacity", "uint64", default=0),
            P("Reservation", "uint64", default=0),
            P("DefaultFlowReservationPercentage", "uint32", default=0),
            P("DefaultFlowReservation", "uint64", default=0),
            P("DefaultFlowWeight", "uint64", default=0),
        ),
    ),
    ClassDef(
        "Msvm_EthernetSwitchHardwareOffloadData",
        "Msvm_EthernetSwitchData",
        props=(
            P("IovVfCapacity", "uint32", default=0),
            P("IovVfUsage", "uint32", default=0),
            P("VmqCapacity", "uint32", default=0),
            P("VmqUsage", "uint32", default=0),
            P("IPsecSACapacity", "uint32", default=0),
            P("IPsecSAUsage", "uint32", default=0),
            P("IovQueuePairCapacity", "uint32", default=0),
            P("IovQueuePairUsage", "uint32", default=0),
            P("PacketDirectInUse", "boolean", default=False, since=10240),
            P("DefaultQueueVmmqQueuePairs", "uint32", default=0, since=14393),
            P("DefaultQueueVrssIndependentHostSpreading", "boolean", default=True, since=16299),
            P("DefaultQueueVrssExcludePrimaryProcessor", "boolean", default=False, since=16299),
            P("DefaultQueueVrssQueueSchedulingMode", "uint32", default=0, since=16299),
            P("DefaultQueueVrssMinQueuePairs", "uint32", default=0, since=16299),
            P("DefaultQueueVmmqEnabled", "boolean", default=False, since=14393),
            P("DefaultQueueVrssEnabled", "boolean", default=False, since=14393),
        ),
    ),
    ClassDef(
        "Msvm_EthernetSwitchOperationalData",
        "Msvm_EthernetSwitchData",
        props=(
            P("CurrentSwitchingMode", "uint32", default=0),
            P("SupportedSwitchingModes", "uint32", array=True, default=()),
        ),
    ),
    ClassDef(
        "Msvm_EthernetPortData",
        "CIM_ManagedElement",
        props=(
            KEY("SystemCreationClassName", max_len=256),
            KEY("SystemName", max_len=256),
            KEY("DeviceCreationClassName", max_len=256),
            KEY("DeviceID", max_len=64),
            KEY("CreationClassName", max_len=256),
            KEY("Name", max_len=256),
        ),
        abstract=True,
    ),
    ClassDef(
        "Msvm_EthernetSwitchPortBandwidthData",
        "Msvm_EthernetPortData",
        props=(P("CurrentBandwidthReservationPercentage", "uint32", default=0),),
    ),
    ClassDef(
        "Msvm_EthernetSwitchPortOffloadData",
        "Msvm_EthernetPortData",
        props=(
            P("IpsecCurrentOffloadSaCount", "uint32", default=0),
            P("IovOffloadUsage", "uint32", default=0),
            P("VMQOffloadUsage", "uint32", default=0),
            P("VMQId", "uint32", default=0),
            P("IovVfId", "uint16", default=0),
            P("IovVfDataPathActive", "boolean", default=False),
            P("IovQueuePairUsage", "uint32", default=0),
            P("VmmqQueuePairs", "uint32", default=0, since=14393),
            P("VrssVmbusChannelAffinityPolicy", "uint32", default=0, since=16299),
            P("VrssIndependentHostSpreading", "boolean", default=False, since=16299),
            P("VrssExcludePrimaryProcessor", "boolean", default=False, since=16299),
            P("VrssQueueSchedulingMode", "uint32", default=0, since=16299),
            P("VrssMinQueuePairs", "uint32", default=0, since=16299),
            P("VmmqEnabled", "boolean", default=False, since=14393),
            P("VrssEnabled", "boolean", default=False, since=14393),
            P("RscEnabled", "boolean", default=True, since=20348),
        ),
    ),
]
