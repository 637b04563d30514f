"""root/StandardCimv2: the host's network adapters.

MSFT_NetAdapter derives from the DMTF CIM_NetworkPort chain, which this namespace ships
like root/virtualization/v2 does; the chain is taken from our v2 definitions (the same
DMTF classes) rather than written twice.
"""

from hyperv_emulator.schema.classes import cim_core, cim_devices, jobs
from hyperv_emulator.schema.model import (
    IN,
    NS_STANDARD_CIMV2,
    OUT,
    ClassDef,
    Method,
    P,
    in_namespace,
)

_CHAIN = (
    "CIM_ManagedElement",
    "CIM_ManagedSystemElement",
    "CIM_LogicalElement",
    "CIM_EnabledLogicalElement",
    "CIM_LogicalDevice",
    "CIM_LogicalPort",
    "CIM_NetworkPort",
    # What the chain's RequestStateChange answers with.
    "CIM_Job",
    "CIM_ConcreteJob",
    "CIM_Error",
)

CLASSES = [
    *in_namespace(
        NS_STANDARD_CIMV2, [*cim_core.CLASSES, *cim_devices.CLASSES, *jobs.CLASSES], _CHAIN
    ),
    ClassDef(
        "MSFT_NetAdapter",
        "CIM_NetworkPort",
        props=(
            P("ConfigManagerErrorCode", "uint32"),
            P("ConfigManagerUserConfig", "boolean"),
            P("InterfaceDescription", "string"),
            P("InterfaceName", "string"),
            P("NetLuid", "uint64"),
            P("InterfaceGuid", "string"),
            P("InterfaceIndex", "uint32"),
            P("DeviceName", "string"),
            P("NetLuidIndex", "uint32"),
            P("Virtual", "boolean"),
            P("Hidden", "boolean"),
            P("NotUserRemovable", "boolean"),
            P("IMFilter", "boolean"),
            P("InterfaceType", "uint32"),
            P("HardwareInterface", "boolean"),
            P("WdmInterface", "boolean"),
            P("EndPointInterface", "boolean"),
            P("iSCSIInterface", "boolean"),
            P("State", "uint32"),
            P("NdisMedium", "uint32"),
            P("NdisPhysicalMedium", "uint32"),
            P("InterfaceOperationalStatus", "uint32"),
            P("OperationalStatusDownDefaultPortNotAuthenticated", "boolean"),
            P("OperationalStatusDownMediaDisconnected", "boolean"),
            P("OperationalStatusDownInterfacePaused", "boolean"),
            P("OperationalStatusDownLowPowerState", "boolean"),
            P("InterfaceAdminStatus", "uint32"),
            P("MediaConnectState", "uint32"),
            P("MtuSize", "uint32"),
            P("VlanID", "uint16"),
            P("TransmitLinkSpeed", "uint64"),
            P("ReceiveLinkSpeed", "uint64"),
            P("PromiscuousMode", "boolean"),
            P("DeviceWakeUpEnable", "boolean"),
            P("ConnectorPresent", "boolean"),
            P("MediaDuplexState", "uint32"),
            P("DriverDate", "string"),
            P("DriverDateData", "uint64"),
            P("DriverVersionString", "string"),
            P("DriverName", "string"),
            P("DriverDescription", "string"),
            P("MajorDriverVersion", "uint16"),
            P("MinorDriverVersion", "uint16"),
            P("DriverMajorNdisVersion", "uint8"),
            P("DriverMinorNdisVersion", "uint8"),
            P("PnPDeviceID", "string"),
            P("DriverProvider", "string"),
            P("ComponentID", "string"),
            P("LowerLayerInterfaceIndices", "uint32", array=True),
            P("HigherLayerInterfaceIndices", "uint32", array=True),
            P("AdminLocked", "boolean"),
        ),
        methods=(
            Method("Disable", (OUT("CmdletOutput", "string", embedded="MSFT_NetAdapter"),)),
            Method("Enable", (OUT("CmdletOutput", "string", embedded="MSFT_NetAdapter"),)),
            Method("Lock", (OUT("CmdletOutput", "string", embedded="MSFT_NetAdapter"),)),
            Method(
                "Rename",
                (
                    IN("NewName", "string"),
                    OUT("CmdletOutput", "string", embedded="MSFT_NetAdapter"),
                ),
            ),
            Method("Restart", (OUT("CmdletOutput", "string", embedded="MSFT_NetAdapter"),)),
            Method("Unlock", (OUT("CmdletOutput", "string", embedded="MSFT_NetAdapter"),)),
        ),
        namespace=NS_STANDARD_CIMV2,
    ),
]
