"""Checkpoints: the snapshot service and its setting data."""

from hyperv_emulator.schema import common as C
from hyperv_emulator.schema import values as V
from hyperv_emulator.schema.model import (
    IN,
    IN_REF,
    JOB,
    KEY,
    ClassDef,
    Method,
    P,
    Param,
)

CLASSES = [
    ClassDef(
        "CIM_VirtualSystemSnapshotService",
        "CIM_Service",
        methods=(
            Method(
                "CreateSnapshot",
                (
                    IN_REF("AffectedSystem", "CIM_ComputerSystem"),
                    IN("SnapshotSettings", "string"),
                    IN("SnapshotType", "uint16"),
                    Param(
                        "ResultingSnapshot",
                        "ref",
                        "inout",
                        ref_class="CIM_VirtualSystemSettingData",
                    ),
                    JOB,
                ),
                return_codes=C.DMTF_MODIFY,
            ),
            Method(
                "DestroySnapshot",
                (
                    IN_REF("AffectedSnapshot", "CIM_VirtualSystemSettingData"),
                    JOB,
                ),
                return_codes=C.DMTF_MODIFY,
            ),
            Method(
                "ApplySnapshot",
                (
                    IN_REF("Snapshot", "CIM_VirtualSystemSettingData"),
                    JOB,
                ),
                return_codes=C.DMTF_MODIFY,
            ),
        ),
        abstract=True,
    ),
    ClassDef(
        "Msvm_VirtualSystemSnapshotService",
        "CIM_VirtualSystemSnapshotService",
        methods=(
            Method(
                "CreateSnapshot",
                (
                    IN_REF("AffectedSystem", "CIM_ComputerSystem"),
                    IN("SnapshotSettings", "string"),
                    IN("SnapshotType", "uint16", values=V.SNAPSHOT_TYPE),
                    Param(
                        "ResultingSnapshot",
                        "ref",
                        "inout",
                        ref_class="CIM_VirtualSystemSettingData",
                    ),
                    JOB,
                ),
                return_codes=C.DMTF_MODIFY,
                until=9600,
            ),
            Method(
                "CreateSnapshot",
                (
                    IN_REF("AffectedSystem", "CIM_ComputerSystem"),
                    IN(
                        "SnapshotSettings",
                        "string",
                        embedded="Msvm_VirtualSystemSnapshotSettingData",
                    ),
                    IN("SnapshotType", "uint16", values=V.SNAPSHOT_TYPE),
                    Param(
                        "ResultingSnapshot",
                        "ref",
                        "inout",
                        ref_class="CIM_VirtualSystemSettingData",
                    ),
                    JOB,
                ),
                return_codes=C.DMTF_MODIFY,
                since=10240,
            ),
            Method(
                "ApplySnapshot",
                (
                    IN_REF("Snapshot", "CIM_VirtualSystemSettingData"),
                    JOB,
                ),
                return_codes=C.DMTF_MODIFY,
            ),
            Method(
                "DestroySnapshot",
                (
                    IN_REF("AffectedSnapshot", "CIM_VirtualSystemSettingData"),
                    JOB,
                ),
                return_codes=C.DMTF_MODIFY,
            ),
            Method(
                "DestroySnapshotTree",
                (
                    IN_REF("SnapshotSettingData", "CIM_VirtualSystemSettingData"),
                    JOB,
                ),
                return_codes=C.VENDOR,
            ),
            Method(
                "ClearSnapshotState",
                (
                    IN_REF("SnapshotSettingData", "CIM_VirtualSystemSettingData"),
                    JOB,
                ),
                return_codes=C.VENDOR,
            ),
            C.DEVICE_REQUEST_STATE_CHANGE,
            Method(
                "ConvertToReferencePoint",
                (
                    IN_REF("AffectedSnapshot", "CIM_VirtualSystemSettingData"),
                    IN("ReferencePointSettings", "string"),
                    Param(
                        "ResultingReferencePoint",
                        "ref",
                        "inout",
                        ref_class="Msvm_VirtualSystemReferencePoint",
                    ),
                    JOB,
                ),
                return_codes=C.DMTF_MODIFY,
                since=10240,
            ),
        ),
    ),
    ClassDef(
        "Msvm_VirtualSystemSnapshotSettingData",
        "CIM_SettingData",
        props=(
            P("ConsistencyLevel", "uint8", values=V.CONSISTENCY_LEVEL),
            P("IgnoreNonSnapshottableDisks", "boolean"),
            P("GuestBackupType", "uint8", values=V.GUEST_BACKUP_TYPE, since=14393),
        ),
        since=10240,
    ),
    ClassDef(
        "Msvm_VirtualSystemReferencePoint",
        "CIM_ManagedElement",
        props=(
            KEY("InstanceID", max_len=256),
            P("ReferencePointType", "uint16"),
            P("ConsistencyLevel", "uint16"),
            KEY("VirtualSystemIdentifier"),
            P("HasAssociatedData", "boolean"),
            P("VirtualDiskIdentifiers", "string", array=True),
            P("ResilientChangeTrackingIdentifiers", "string", array=True),
        ),
        since=10240,
    ),
]
