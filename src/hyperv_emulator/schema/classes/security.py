"""Virtual TPM, shielding and state encryption (the security service)."""

from hyperv_emulator.schema import common as C
from hyperv_emulator.schema.model import (
    IN,
    JOB,
    KEY,
    OUT,
    ClassDef,
    Method,
    P,
)

CLASSES = [
    ClassDef(
        "Msvm_SecuritySettingData",
        "CIM_SettingData",
        props=(
            P("TpmEnabled", "boolean"),
            P("KsdEnabled", "boolean", since=14393),
            P("ShieldingRequested", "boolean"),
            P("DataProtectionRequested", "boolean"),
            P("EncryptStateAndVmMigrationTraffic", "boolean", since=14393),
            P("VirtualizationBasedSecurityOptOut", "boolean", since=14393),
            P("BindToHostTpm", "boolean", since=17134),
            P("AppContainerLaunchOptOut", "boolean", since=19041),
        ),
        since=10586,
    ),
    ClassDef(
        "Msvm_SecurityService",
        "CIM_Service",
        methods=(
            Method(
                "ModifySecuritySettings",
                (
                    IN("SecuritySettingData", "string", embedded="Msvm_SecuritySettingData"),
                    JOB,
                ),
                return_codes=C.DMTF_MODIFY,
            ),
            Method(
                "SetKeyProtector",
                (
                    IN("SecuritySettingData", "string", embedded="Msvm_SecuritySettingData"),
                    IN("KeyProtector", "uint8", array=True),
                    JOB,
                ),
                return_codes=C.VENDOR,
            ),
            Method(
                "GetKeyProtector",
                (
                    IN("SecuritySettingData", "string", embedded="Msvm_SecuritySettingData"),
                    OUT("KeyProtector", "uint8", array=True),
                ),
                return_codes=C.VENDOR,
            ),
            Method(
                "RestoreLastKnownGoodKeyProtector",
                (
                    IN("SecuritySettingData", "string", embedded="Msvm_SecuritySettingData"),
                    JOB,
                ),
                return_codes=C.VENDOR,
            ),
            C.START_SERVICE,
            C.STOP_SERVICE,
            Method(
                "SetSecurityPolicy",
                (
                    IN("SecuritySettingData", "string", embedded="Msvm_SecuritySettingData"),
                    IN("SecurityPolicy", "uint8", array=True),
                    JOB,
                ),
                return_codes=C.VENDOR,
                since=14393,
            ),
        ),
        since=10586,
    ),
    ClassDef(
        "Msvm_SecurityElement",
        "CIM_EnabledLogicalElement",
        props=(
            KEY("SystemCreationClassName", max_len=256),
            KEY("SystemName", max_len=256),
            KEY("CreationClassName", max_len=256),
            P("Shielded", "boolean"),
            P("EncryptStateAndVmMigrationTrafficEnabled", "boolean", since=14393),
            P("DataProtected", "boolean", until=10586),
        ),
        since=10586,
    ),
    ClassDef(
        "Msvm_TPM",
        "CIM_TPM",
        since=10240,
    ),
]
