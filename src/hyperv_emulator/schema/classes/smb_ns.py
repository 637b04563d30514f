"""root/Microsoft/Windows/SMB: the host's SMB client mappings (what New-SmbMapping makes).

Written from the SMB provider's MOF documentation (MSFT_SmbMapping); only what a Hyper-V
compute driver uses to reach volumes on file shares.
"""

from hyperv_emulator.schema.model import IN, KEY, OUT, ClassDef, Method, P

NS_SMB = "root/Microsoft/Windows/SMB"

CLASSES = [
    ClassDef(
        "MSFT_SmbMapping",
        None,
        props=(
            KEY("LocalPath"),
            KEY("RemotePath"),
            P("Status", "uint32"),
            P("UserName", "string"),
            P("ShareType", "uint32"),
            P("RequireIntegrity", "boolean"),
            P("RequirePrivacy", "boolean"),
        ),
        methods=(
            Method(
                "Create",
                (
                    IN("LocalPath", "string"),
                    IN("RemotePath", "string"),
                    IN("UserName", "string"),
                    IN("Password", "string"),
                    IN("Persistent", "boolean"),
                    IN("SaveCredentials", "boolean"),
                    OUT("CreatedMapping", "object", embedded="MSFT_SmbMapping"),
                ),
                static=True,
            ),
            Method("Remove", (IN("UpdateProfile", "boolean"), IN("Force", "boolean"))),
        ),
        namespace=NS_SMB,
    ),
]
