"""root/WMI: the Fibre Channel HBA API's WMI face (MSFC_HBAFCPInfo), which says which host
disk each LUN of each FC target is.

Written from Microsoft's storage driver documentation (Hbaapi.mof: MSFC_HBAFCPInfo and
its GetFcpTargetMapping method, HBAFCPScsiEntry, HBAFCPID, HBAScsiID). WMI data blocks
are keyed by InstanceName (the adapter's device instance plus `_<n>`) and carry
`Active`. Only what a compute driver needs to find an FC volume's disk is modelled.
"""

from hyperv_emulator.schema.model import IN, KEY, OUT, ClassDef, Method, P

NS_WMI = "root/WMI"

# HBA_STATUS values (Fibre Channel HBA API) GetFcpTargetMapping reports.
HBA_STATUS_OK = 0
HBA_STATUS_ERROR_ILLEGAL_WWN = 5
HBA_STATUS_ERROR_MORE_DATA = 7

CLASSES = [
    ClassDef(
        "HBAFCPID",
        None,
        props=(
            P("Fcid", "uint32"),
            P("NodeWWN", "uint8", array=True),
            P("PortWWN", "uint8", array=True),
            P("FcpLun", "uint64"),
        ),
        namespace=NS_WMI,
    ),
    ClassDef(
        "HBAScsiID",
        None,
        props=(
            P("ScsiBusNumber", "uint32"),
            P("ScsiTargetNumber", "uint32"),
            P("ScsiOSLun", "uint32"),
            # A WCHAR array (MOF: uint16 OSDeviceName[], MAX(257)), NUL padded.
            P("OSDeviceName", "uint16", array=True),
        ),
        namespace=NS_WMI,
    ),
    ClassDef(
        "HBAFCPScsiEntry",
        None,
        props=(
            P("FCPId", "object", embedded="HBAFCPID"),
            P("Luid", "uint8", array=True),
            P("ScsiId", "object", embedded="HBAScsiID"),
        ),
        namespace=NS_WMI,
    ),
    ClassDef(
        "MSFC_HBAFCPInfo",
        None,
        props=(
            KEY("InstanceName"),
            P("Active", "boolean"),
        ),
        methods=(
            Method(
                "GetFcpTargetMapping",
                (
                    IN("HbaPortWWN", "uint8", array=True),
                    IN("InEntryCount", "uint32"),
                    OUT("HBAStatus", "uint32"),
                    OUT("TotalEntryCount", "uint32"),
                    OUT("OutEntryCount", "uint32"),
                    OUT("Entry", "object", array=True, embedded="HBAFCPScsiEntry"),
                ),
            ),
        ),
        namespace=NS_WMI,
    ),
]
