"""The host: NUMA nodes, memory, processors, resource pools, capabilities."""

from hyperv_emulator.schema import common as C
from hyperv_emulator.schema.model import (
    CODES,
    IN,
    IN_REF,
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
        "Msvm_NumaNode",
        "CIM_EnabledLogicalElement",
        props=(
            KEY("SystemCreationClassName", max_len=256),
            KEY("SystemName", max_len=256),
            KEY("CreationClassName", max_len=256),
            KEY("NodeID"),
            P("NumberOfProcessorCores", "uint32"),
            P("NumberOfLogicalProcessors", "uint32"),
            P("CurrentlyConsumableMemoryBlocks", "uint64"),
            P("CurrentlyAssignedVirtualProcessors", "uint32", since=18362),
        ),
    ),
    ClassDef(
        "Msvm_Memory",
        "CIM_Memory",
        props=(P("MemoryEncryption", "boolean", since=20348),),
        methods=(
            C.DEVICE_REQUEST_STATE_CHANGE,
            C.DEVICE_RESET,
        ),
    ),
    ClassDef(
        "Msvm_Processor",
        "CIM_Processor",
        props=(P("LoadPercentageHistory", "uint16", array=True),),
        methods=(
            C.DEVICE_REQUEST_STATE_CHANGE,
            C.DEVICE_RESET,
        ),
    ),
    ClassDef(
        "CIM_ResourcePool",
        "CIM_LogicalElement",
        props=(
            KEY("InstanceID"),
            P("PoolID", "string"),
            P("Primordial", "boolean", default=False),
            P("Capacity", "uint64"),
            P("Reserved", "uint64"),
            P("ResourceType", "uint16"),
            P("OtherResourceType", "string"),
            P("ResourceSubType", "string"),
            P("AllocationUnits", "string"),
            P("ConsumedResourceUnits", "string", default="count"),
            P("CurrentlyConsumedResource", "uint64"),
            P("MaxConsumableResource", "uint64"),
        ),
        abstract=True,
    ),
    ClassDef(
        "Msvm_ResourcePool",
        "CIM_ResourcePool",
        props=(P("OperationalStatus", "uint16", array=True),),
    ),
    ClassDef(
        "Msvm_ProcessorPool",
        "CIM_ResourcePool",
        methods=(Method("CalculatePossibleReserve", (IN("ProcessorCount", "uint16"),)),),
    ),
    ClassDef(
        "CIM_AllocationCapabilities",
        "CIM_Capabilities",
        props=(
            P("ResourceType", "uint16"),
            P("OtherResourceType", "string"),
            P("ResourceSubType", "string"),
            P("RequestTypesSupported", "uint16"),
            P("SharingMode", "uint16"),
            P("SupportedAddStates", "uint16", array=True),
            P("SupportedRemoveStates", "uint16", array=True),
        ),
        abstract=True,
    ),
    ClassDef(
        "Msvm_AllocationCapabilities",
        "CIM_AllocationCapabilities",
    ),
    ClassDef(
        "Msvm_AbstractResourcePoolSettingData",
        "CIM_SettingData",
        props=(
            P("PoolID", "string"),
            P("ResourceType", "uint16"),
            P("OtherResourceType", "string"),
            P("ResourceSubType", "string"),
            P("LoadBalancingBehavior", "uint16"),
            P("MappingBehavior", "uint16"),
            P("MappingOrder", "string", array=True),
            P("Notes", "string"),
        ),
        abstract=True,
    ),
    ClassDef(
        "Msvm_ResourcePoolSettingData",
        "Msvm_AbstractResourcePoolSettingData",
    ),
    ClassDef(
        "Msvm_ResourcePoolConfigurationService",
        "CIM_Service",
        methods=(
            Method(
                "CreatePool",
                (
                    IN("PoolSettings", "string", embedded="Msvm_ResourcePoolSettingData"),
                    IN_REF("ParentPools", "CIM_ResourcePool", array=True),
                    IN(
                        "AllocationSettings",
                        "string",
                        array=True,
                        embedded="Msvm_ResourceAllocationSettingData",
                    ),
                    OUT_REF("Pool", "CIM_ResourcePool"),
                    JOB,
                ),
                return_codes=CODES(0, 4096, (32768, 32779), 32780, 32788),
            ),
            Method(
                "ModifyPoolResources",
                (
                    IN_REF("ChildPool", "CIM_ResourcePool"),
                    IN_REF("ParentPools", "CIM_ResourcePool", array=True),
                    IN(
                        "AllocationSettings",
                        "string",
                        array=True,
                        embedded="Msvm_ResourceAllocationSettingData",
                    ),
                    JOB,
                ),
                return_codes=CODES(0, 4096, (32768, 32779), 32780, 32788),
            ),
            Method(
                "ModifyPoolSettings",
                (
                    IN_REF("ChildPool", "CIM_ResourcePool"),
                    IN("PoolSettings", "string", embedded="Msvm_ResourcePoolSettingData"),
                    JOB,
                ),
                return_codes=CODES(0, 4096, (32768, 32779), 32780, 32788),
            ),
            Method(
                "DeletePool",
                (
                    IN_REF("Pool", "CIM_ResourcePool"),
                    JOB,
                ),
                return_codes=CODES(0, 4096, (32768, 32779), 32780, 32788),
            ),
        ),
    ),
    ClassDef(
        "Msvm_ResourcePoolConfigurationCapabilities",
        "CIM_Capabilities",
        props=(
            P("AsynchronousMethodsSupported", "uint32", array=True),
            P("SynchronousMethodsSupported", "uint32", array=True),
        ),
    ),
    ClassDef(
        "Msvm_TerminalService",
        "CIM_Service",
        methods=(
            Method(
                "ModifyServiceSettings",
                (
                    IN("ServiceSettingData", "string"),
                    JOB,
                ),
                return_codes=C.VENDOR,
            ),
            C.DEVICE_REQUEST_STATE_CHANGE,
            C.START_SERVICE,
            C.STOP_SERVICE,
            Method(
                "GrantInteractiveSessionAccess",
                (
                    IN_REF("ComputerSystem", "CIM_ComputerSystem"),
                    IN("Trustees", "string", array=True),
                    JOB,
                ),
                return_codes=C.DMTF_MODIFY,
            ),
            Method(
                "RevokeInteractiveSessionAccess",
                (
                    IN_REF("ComputerSystem", "CIM_ComputerSystem"),
                    IN("Trustees", "string", array=True),
                    JOB,
                ),
                return_codes=C.DMTF_MODIFY,
            ),
            Method(
                "GetInteractiveSessionACL",
                (
                    IN_REF("ComputerSystem", "CIM_ComputerSystem"),
                    OUT(
                        "AccessControlList",
                        "string",
                        array=True,
                        embedded="Msvm_InteractiveSessionACE",
                    ),
                ),
                return_codes=C.DMTF_MODIFY,
            ),
        ),
    ),
    ClassDef(
        "Msvm_TerminalServiceSettingData",
        "CIM_SettingData",
        props=(
            P("ListenerPort", "uint32"),
            P("DisableSelfSignedCertificateGeneration", "boolean"),
            P("AuthCertificateHash", "uint8", array=True),
            P("TrustedIssuerCertificateHashes", "string", array=True),
            P("AllowedHashAlgorithms", "string", array=True),
        ),
    ),
    ClassDef(
        "Msvm_TerminalConnection",
        "CIM_EnabledLogicalElement",
        props=(KEY("ConnectionID"),),
        methods=(C.DEVICE_REQUEST_STATE_CHANGE,),
    ),
    ClassDef(
        "Msvm_InteractiveSessionACE",
        None,
        props=(
            P("Trustee", "string"),
            P("AccessType", "uint16"),
        ),
    ),
]
