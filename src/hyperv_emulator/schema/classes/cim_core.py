"""The root CIM classes everything else derives from."""

from hyperv_emulator.schema.model import KEY, ClassDef, P

CLASSES = [
    ClassDef(
        "CIM_ManagedElement",
        None,
        props=(
            P("InstanceID", "string"),
            P("Caption", "string"),
            P("Description", "string"),
            P("ElementName", "string"),
        ),
        abstract=True,
    ),
    ClassDef(
        "CIM_SettingData",
        "CIM_ManagedElement",
        props=(
            KEY("InstanceID"),
            P("ElementName", "string"),
            P("ChangeableType", "uint16"),
            P("ConfigurationName", "string"),
            P("Generation", "uint64"),
            P("ComponentSetting", "string", array=True),
            P("SoID", "string"),
            P("SoOrgID", "string"),
        ),
        abstract=True,
    ),
]
