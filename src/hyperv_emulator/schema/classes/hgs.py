"""root/Microsoft/Windows/Hgs: whether the host is guarded (Host Guardian Service client)."""

from hyperv_emulator.schema.model import IN, NS_HGS, OUT, ClassDef, Method, P

CLASSES = [
    ClassDef(
        "MSFT_HgsClientConfiguration",
        None,
        props=(
            P("Mode", "uint16"),
            P("IsHostGuarded", "boolean"),
            P("KeyProtectionServerUrl", "string"),
            P("AttestationServerUrl", "string"),
            P("AttestationOperationMode", "uint16"),
            P("AttestationStatus", "uint16"),
            P("AttestationSubstatus", "uint64"),
        ),
        methods=(
            Method(
                "Get",
                (OUT("cmdletOutput", "object", embedded="MSFT_HgsClientConfiguration"),),
                static=True,
            ),
            Method(
                "SetByChangeToLocalMode",
                (
                    IN("EnableLocalMode", "boolean"),
                    OUT("cmdletOutput", "object", embedded="MSFT_HgsClientConfiguration"),
                ),
                static=True,
            ),
            Method(
                "SetBySecureHostingServiceMode",
                (
                    IN("KeyProtectionServerUrl", "string"),
                    IN("AttestationServerUrl", "string"),
                    OUT("cmdletOutput", "object", embedded="MSFT_HgsClientConfiguration"),
                ),
                static=True,
            ),
        ),
        namespace=NS_HGS,
        since=14393,
    ),
]
