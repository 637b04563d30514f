"""root/cimv2 security descriptors, the embedded objects Win32_Share methods take.

Their real bases are WMI system classes (__SecurityDescriptor, __ACE, __Trustee) that
the emulator does not model, so each stands alone here with its full property list.
"""

from hyperv_emulator.schema.model import NS_CIMV2, ClassDef, P

CLASSES = [
    ClassDef(
        "Win32_Trustee",
        None,
        props=(
            P("Domain", "string"),
            P("Name", "string"),
            P("SID", "uint8", array=True),
            P("SidLength", "uint32"),
            P("SIDString", "string"),
            P("TIME_CREATED", "uint64"),
        ),
        namespace=NS_CIMV2,
    ),
    ClassDef(
        "Win32_ACE",
        None,
        props=(
            P("AccessMask", "uint32"),
            P("AceFlags", "uint32"),
            P("AceType", "uint32"),
            P("GuidInheritedObjectType", "string"),
            P("GuidObjectType", "string"),
            P("TIME_CREATED", "uint64"),
            P("Trustee", "object", embedded="Win32_Trustee"),
        ),
        namespace=NS_CIMV2,
    ),
    ClassDef(
        "Win32_SecurityDescriptor",
        None,
        props=(
            P("ControlFlags", "uint32"),
            P("DACL", "object", array=True, embedded="Win32_ACE"),
            P("Group", "object", embedded="Win32_Trustee"),
            P("Owner", "object", embedded="Win32_Trustee"),
            P("SACL", "object", array=True, embedded="Win32_ACE"),
            P("TIME_CREATED", "uint64"),
        ),
        namespace=NS_CIMV2,
    ),
]
