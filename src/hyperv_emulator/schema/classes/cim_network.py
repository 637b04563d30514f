"""DMTF networking bases: access points, endpoints and forwarding services."""

from hyperv_emulator.schema.model import (
    KEY,
    ClassDef,
    P,
)

CLASSES = [
    ClassDef(
        "CIM_ServiceAccessPoint",
        "CIM_EnabledLogicalElement",
        props=(
            KEY("SystemCreationClassName", max_len=256),
            KEY("SystemName", max_len=256),
            KEY("CreationClassName", max_len=256),
            KEY("Name", max_len=256),
        ),
        abstract=True,
    ),
    ClassDef(
        "CIM_ProtocolEndpoint",
        "CIM_ServiceAccessPoint",
        props=(
            P("Description", "string"),
            P("OperationalStatus", "uint16", array=True),
            P("EnabledState", "uint16"),
            P("TimeOfLastStateChange", "datetime"),
            P("Name", "string", max_len=256),
            P("NameFormat", "string", max_len=256),
            P("ProtocolType", "uint16"),
            P("ProtocolIFType", "uint16"),
            P("OtherTypeDescription", "string", max_len=64),
        ),
        abstract=True,
    ),
    ClassDef(
        "CIM_LANEndpoint",
        "CIM_ProtocolEndpoint",
        props=(
            P("LANID", "string"),
            P("LANType", "uint16"),
            P("OtherLANType", "string"),
            P("MACAddress", "string", max_len=12),
            P("AliasAddresses", "string", array=True),
            P("GroupAddresses", "string", array=True),
            P("MaxDataSize", "uint32"),
        ),
        abstract=True,
    ),
    ClassDef(
        "CIM_SwitchPort",
        "CIM_ProtocolEndpoint",
        props=(P("PortNumber", "uint16"),),
        abstract=True,
    ),
    ClassDef(
        "CIM_VLANEndpoint",
        "CIM_ProtocolEndpoint",
        props=(
            P("DesiredEndpointMode", "uint16"),
            P("OtherEndpointMode", "string"),
            P("OperationalEndpointMode", "uint16"),
            P("DesiredVLANTrunkEncapsulation", "uint16"),
            P("OtherTrunkEncapsulation", "string"),
            P("OperationalVLANTrunkEncapsulation", "uint16"),
            P("GVRPStatus", "uint16"),
        ),
        abstract=True,
    ),
    ClassDef(
        "CIM_NetworkService",
        "CIM_Service",
        props=(
            P("Keywords", "string", array=True),
            P("ServiceURL", "string"),
            P("StartupConditions", "string", array=True),
            P("StartupParameters", "string", array=True),
        ),
        abstract=True,
    ),
    ClassDef(
        "CIM_ForwardingService",
        "CIM_NetworkService",
        props=(
            P("ProtocolType", "uint16"),
            P("OtherProtocolType", "string", max_len=32),
        ),
        abstract=True,
    ),
    ClassDef(
        "CIM_TransparentBridgingService",
        "CIM_ForwardingService",
        props=(
            P("AgingTime", "uint32", default=300),
            P("FID", "uint32"),
        ),
        abstract=True,
    ),
    ClassDef(
        "CIM_DynamicForwardingEntry",
        "CIM_LogicalElement",
        props=(
            KEY("SystemCreationClassName", max_len=256),
            KEY("SystemName", max_len=256),
            KEY("ServiceCreationClassName", max_len=256),
            KEY("ServiceName", max_len=256),
            KEY("CreationClassName", max_len=256),
            KEY("MACAddress", max_len=12),
            P("DynamicStatus", "uint16"),
        ),
        abstract=True,
    ),
]
