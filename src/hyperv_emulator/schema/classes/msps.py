"""root/msps: shielded VM provisioning files (PDK, FSK) and the provisioning service.

Msps_ProvisioningJob is a DMTF CIM_ConcreteJob; that chain is our v2 definition of the
same DMTF classes, copied into root/msps (which exists from Windows Server 2016 on).
"""

from dataclasses import replace

from hyperv_emulator.schema.classes import cim_core, jobs
from hyperv_emulator.schema.model import (
    IN,
    NS_MSPS,
    OUT,
    ClassDef,
    Method,
    P,
    in_namespace,
)

_DMTF = [
    replace(definition, since=14393)
    for definition in in_namespace(
        NS_MSPS,
        [*cim_core.CLASSES, *jobs.CLASSES],
        (
            "CIM_ManagedElement",
            "CIM_ManagedSystemElement",
            "CIM_LogicalElement",
            "CIM_Job",
            "CIM_ConcreteJob",
            "CIM_Error",
        ),
    )
]

CLASSES = [
    *_DMTF,
    ClassDef(
        "Msps_ProvisioningJob",
        "CIM_ConcreteJob",
        props=(P("AdditionalIdentifier", "string"),),
        methods=(
            Method(
                "RequestStateChange",
                (IN("RequestedState", "uint16"), IN("TimeoutPeriod", "datetime")),
            ),
        ),
        namespace=NS_MSPS,
        since=14393,
    ),
    ClassDef(
        "Msps_ProvisioningFile",
        None,
        props=(P("RawData", "uint8", array=True),),
        abstract=True,
        namespace=NS_MSPS,
        since=14393,
    ),
    ClassDef(
        "Msps_PDK",
        "Msps_ProvisioningFile",
        props=(
            P("KeyProtector", "uint8", array=True),
            P("VolumeIDFilters", "object", array=True, embedded="Msps_VolumeIDFilter"),
            P("PolicyData", "uint8", array=True),
        ),
        namespace=NS_MSPS,
        since=14393,
    ),
    ClassDef(
        "Msps_FSK",
        "Msps_ProvisioningFile",
        props=(P("FabricDataPairs", "object", array=True, embedded="Msps_FabricData"),),
        namespace=NS_MSPS,
        since=14393,
    ),
    ClassDef(
        "Msps_VSC",
        "Msps_ProvisioningFile",
        props=(P("VolumeID", "object", embedded="Msps_VolumeID"),),
        namespace=NS_MSPS,
        since=14393,
    ),
    ClassDef(
        "Msps_FabricData",
        None,
        props=(
            P("key", "string"),
            P("Value", "string"),
        ),
        namespace=NS_MSPS,
        since=14393,
    ),
    ClassDef(
        "Msps_VolumeID",
        None,
        props=(
            P("VolumeID", "string"),
            P("Version", "string"),
            P("Certificate", "uint8", array=True),
        ),
        namespace=NS_MSPS,
        since=14393,
    ),
    ClassDef(
        "Msps_VolumeIDFilter",
        None,
        props=(
            P("VolumeID", "object", embedded="Msps_VolumeID"),
            P("VersionRule", "uint8"),
        ),
        namespace=NS_MSPS,
        since=14393,
    ),
    ClassDef(
        "Msps_ProvisioningFileProcessor",
        None,
        methods=(
            Method(
                "QueryPolicyValue",
                (
                    IN("PolicyData", "uint8", array=True),
                    IN("PolicyGUID", "string"),
                    OUT("PolicyValue", "uint8", array=True),
                ),
                static=True,
            ),
            Method(
                "PdkVscApplicabilityCheck",
                (
                    IN("Vsc", "object", embedded="Msps_VSC"),
                    IN("Pdk", "object", embedded="Msps_PDK"),
                    OUT("Applicable", "boolean"),
                ),
                static=True,
            ),
            Method(
                "PopulateFromFile",
                (
                    IN("FilePath", "string"),
                    OUT("ProvisioningFile", "object", embedded="Msps_ProvisioningFile"),
                ),
                static=True,
            ),
            Method(
                "PopulateFromStream",
                (
                    IN("Data", "uint8", array=True),
                    OUT("ProvisioningFile", "object", embedded="Msps_ProvisioningFile"),
                ),
                static=True,
            ),
            Method(
                "SerializeToFile",
                (
                    IN("FilePath", "string"),
                    IN("ProvisioningFile", "object", embedded="Msps_ProvisioningFile"),
                ),
                static=True,
            ),
        ),
        namespace=NS_MSPS,
        since=14393,
    ),
    ClassDef(
        "Msps_ProvisioningService",
        None,
        methods=(
            Method(
                "PrepareSpecializedMachine",
                (
                    IN("TemplateUtilityDiskPath", "string"),
                    IN("MachineID", "string"),
                    OUT("PreparationJob", "object", embedded="Msps_ProvisioningJob"),
                ),
                static=True,
            ),
            Method(
                "ProvisionMachine",
                (
                    IN("PDKPath", "string"),
                    IN("FSKPath", "string"),
                    IN("MachineID", "string"),
                    OUT("ProvisioningJob", "object", embedded="Msps_ProvisioningJob"),
                ),
                static=True,
            ),
        ),
        namespace=NS_MSPS,
        since=14393,
    ),
]
