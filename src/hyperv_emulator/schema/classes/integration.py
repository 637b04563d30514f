"""Integration components: their settings (RASDs) and their in-VM devices."""

from hyperv_emulator.schema import common as C
from hyperv_emulator.schema.model import (
    CODES,
    ClassDef,
    Method,
    P,
)

CLASSES = [
    ClassDef(
        "Msvm_ShutdownComponentSettingData",
        "CIM_ResourceAllocationSettingData",
        props=(P("EnabledState", "uint16", default=2),),
    ),
    ClassDef(
        "Msvm_TimeSyncComponentSettingData",
        "CIM_ResourceAllocationSettingData",
        props=(P("EnabledState", "uint16", default=2),),
    ),
    ClassDef(
        "Msvm_KvpExchangeComponentSettingData",
        "CIM_ResourceAllocationSettingData",
        props=(
            P("DisableHostKVPItems", "boolean", since=15063),
            P("EnabledState", "uint16", default=2),
            P("HostExchangeItems", "string", array=True, embedded="Msvm_KvpExchangeDataItem"),
            P("HostOnlyItems", "string", array=True, embedded="Msvm_KvpExchangeDataItem"),
        ),
    ),
    ClassDef(
        "Msvm_VssComponentSettingData",
        "CIM_ResourceAllocationSettingData",
        props=(P("EnabledState", "uint16", default=2),),
    ),
    ClassDef(
        "Msvm_HeartbeatComponentSettingData",
        "CIM_ResourceAllocationSettingData",
        props=(
            P("EnabledState", "uint16", default=2),
            P("ErrorThreshold", "uint32"),
            P("Interval", "uint32"),
            P("Latency", "uint32"),
        ),
    ),
    ClassDef(
        "Msvm_GuestServiceInterfaceComponentSettingData",
        "CIM_ResourceAllocationSettingData",
        props=(
            P("EnabledState", "uint16", default=3),
            P("DefaultEnabledStatePolicy", "uint16", default=2, since=10240),
        ),
    ),
    ClassDef(
        "Msvm_RdvComponentSettingData",
        "CIM_ResourceAllocationSettingData",
        props=(P("EnabledState", "uint16", default=2),),
    ),
    ClassDef(
        "Msvm_HeartbeatComponent",
        "CIM_LogicalDevice",
        props=(P("OperationalStatus", "uint16", array=True),),
        methods=(
            C.DEVICE_REQUEST_STATE_CHANGE,
            C.DEVICE_RESET,
        ),
    ),
    ClassDef(
        "Msvm_KvpExchangeComponent",
        "CIM_LogicalDevice",
        props=(
            P("GuestExchangeItems", "string", array=True, embedded="Msvm_KvpExchangeDataItem"),
            P(
                "GuestIntrinsicExchangeItems",
                "string",
                array=True,
                embedded="Msvm_KvpExchangeDataItem",
            ),
            P(
                "GuestIntrinsicExchangeItemsHypervisorOnly",
                "string",
                array=True,
                embedded="Msvm_KvpExchangeDataItem",
                since=26100,
            ),
        ),
        methods=(
            C.DEVICE_REQUEST_STATE_CHANGE,
            C.DEVICE_RESET,
        ),
    ),
    ClassDef(
        "Msvm_TimeSyncComponent",
        "CIM_LogicalDevice",
        methods=(
            C.DEVICE_REQUEST_STATE_CHANGE,
            C.DEVICE_RESET,
        ),
    ),
    ClassDef(
        "Msvm_VssComponent",
        "CIM_LogicalDevice",
        methods=(
            C.DEVICE_REQUEST_STATE_CHANGE,
            C.DEVICE_RESET,
        ),
    ),
    ClassDef(
        "Msvm_GuestServiceInterfaceComponent",
        "CIM_LogicalDevice",
        methods=(C.DEVICE_REQUEST_STATE_CHANGE,),
    ),
    ClassDef(
        "Msvm_RdvComponent",
        "CIM_LogicalDevice",
        methods=(Method("EnableEndPoints", return_codes=CODES(0, 4096, (32768, 32782))),),
    ),
]
