"""Virtual NICs, their connections to switches, and the host's Ethernet ports."""

from hyperv_emulator.schema import common as C
from hyperv_emulator.schema import values as V
from hyperv_emulator.schema.model import (
    ClassDef,
    P,
)

CLASSES = [
    ClassDef(
        "CIM_EthernetPortAllocationSettingData",
        "CIM_ResourceAllocationSettingData",
        props=(
            P("DesiredVLANEndpointMode", "uint16"),
            P("OtherEndpointMode", "string"),
        ),
        abstract=True,
    ),
    ClassDef(
        "Msvm_SyntheticEthernetPortSettingData",
        "CIM_EthernetPortAllocationSettingData",
        props=(
            P("VirtualSystemIdentifiers", "string", array=True),
            P("DeviceNamingEnabled", "boolean", default=False, since=10240),
            P("AllowPacketDirect", "boolean", default=False, since=10586),
            P("StaticMacAddress", "boolean", default=True),
            P("ClusterMonitored", "boolean", default=True),
            P("InterruptModeration", "boolean", default=True, since=17134),
            P("MediaType", "uint32", default=0, since=17763),
            P("NumaAwarePlacement", "boolean", default=False, since=17763),
            P("AllowDirectTranslatedP2P", "boolean", default=False, since=20348),
        ),
    ),
    ClassDef(
        "Msvm_EmulatedEthernetPortSettingData",
        "CIM_EthernetPortAllocationSettingData",
        props=(
            P("StaticMacAddress", "boolean", default=True),
            P("ClusterMonitored", "boolean", default=True),
        ),
    ),
    ClassDef(
        "Msvm_EthernetPortAllocationSettingData",
        "CIM_EthernetPortAllocationSettingData",
        props=(
            P("EnabledState", "uint16", values=V.CONNECTION_ENABLED_STATE),
            P("LastKnownSwitchName", "string", since=10240),
            P("RequiredFeatures", "string", array=True),
            P("RequiredFeatureHints", "string", array=True),
            P("TestReplicaPoolID", "string"),
            P("TestReplicaSwitchName", "string"),
            P("CompartmentGuid", "string", since=10240),
            P("PortName", "string", since=20348),
        ),
    ),
    ClassDef(
        "Msvm_SyntheticEthernetPort",
        "CIM_EthernetPort",
        methods=(
            C.DEVICE_REQUEST_STATE_CHANGE,
            C.DEVICE_RESET,
        ),
    ),
    ClassDef(
        "Msvm_EmulatedEthernetPort",
        "CIM_EthernetPort",
        methods=(
            C.DEVICE_REQUEST_STATE_CHANGE,
            C.DEVICE_RESET,
        ),
    ),
    ClassDef(
        "Msvm_ExternalEthernetPort",
        "CIM_EthernetPort",
        props=(P("IsBound", "boolean"),),
        methods=(
            C.DEVICE_REQUEST_STATE_CHANGE,
            C.DEVICE_RESET,
        ),
    ),
    ClassDef(
        "Msvm_InternalEthernetPort",
        "CIM_EthernetPort",
        methods=(
            C.DEVICE_REQUEST_STATE_CHANGE,
            C.DEVICE_RESET,
        ),
    ),
    ClassDef(
        "Msvm_EthernetSwitchPort",
        "CIM_EthernetPort",
        props=(
            P("VMQOffloadUsage", "uint32"),
            P("IOVOffloadUsage", "uint32"),
        ),
        methods=(
            C.DEVICE_REQUEST_STATE_CHANGE,
            C.DEVICE_RESET,
        ),
    ),
    ClassDef(
        "Msvm_LANEndpoint",
        "CIM_LANEndpoint",
        props=(P("Connected", "boolean"),),
        methods=(C.DEVICE_REQUEST_STATE_CHANGE,),
    ),
    ClassDef(
        "Msvm_VLANEndpoint",
        "CIM_VLANEndpoint",
        props=(P("SupportedEndpointModes", "uint16", array=True),),
        methods=(C.DEVICE_REQUEST_STATE_CHANGE,),
    ),
    ClassDef(
        "Msvm_ExternalEthernetPortCapabilities",
        "CIM_Capabilities",
        props=(
            P("IOVSupport", "boolean"),
            P("IOVSupportReasons", "string", array=True),
        ),
    ),
    ClassDef(
        "Msvm_FailoverNetworkAdapterSettingData",
        "CIM_SettingData",
        props=(
            P("ProtocolIFType", "uint16"),
            P("DHCPEnabled", "boolean"),
            P("IPAddresses", "string", array=True),
            P("Subnets", "string", array=True),
            P("DefaultGateways", "string", array=True),
            P("DNSServers", "string", array=True),
        ),
    ),
    ClassDef(
        "Msvm_TransparentBridgingService",
        "CIM_TransparentBridgingService",
        methods=(
            C.DEVICE_REQUEST_STATE_CHANGE,
            C.START_SERVICE,
            C.STOP_SERVICE,
        ),
    ),
    ClassDef(
        "Msvm_DynamicForwardingEntry",
        "CIM_DynamicForwardingEntry",
        props=(P("VlanId", "uint16"),),
    ),
    ClassDef(
        "Msvm_NetworkConnectionDiagnosticSettingData",
        "CIM_SettingData",
        props=(
            P("IsSender", "boolean"),
            P("SenderIP", "string"),
            P("ReceiverIP", "string"),
            P("ReceiverMac", "string"),
            P("IsolationId", "uint32"),
            P("SequenceNumber", "uint32"),
            P("PayloadSize", "uint32"),
        ),
        since=14393,
    ),
    ClassDef(
        "Msvm_NetworkConnectionDiagnosticInformation",
        None,
        props=(P("RoundTripTime", "uint32"),),
        since=14393,
    ),
]
