"""The registry flattens inheritance per build, case-insensitively."""

from __future__ import annotations

import pytest

from hyperv_emulator.schema.model import KEY, ClassDef, P, Registry, SchemaError

BASE = ClassDef("CIM_Base", None, props=(P("InstanceID", "string"), P("Caption", "string")))
SETTING = ClassDef("CIM_Setting", "CIM_Base", props=(KEY("InstanceID"),))
NEW = ClassDef(
    "Msvm_New",
    "CIM_Setting",
    props=(P("Old", "uint16"), P("Fresh", "boolean", since=10240)),
)
LATE = ClassDef("Msvm_Late", "CIM_Setting", since=10240)


def test_inheritance_is_flattened_and_overrides_win() -> None:
    registry = Registry([BASE, SETTING, NEW, LATE], build=14393)
    cls = registry.get("msvm_new")
    assert cls is not None
    assert list(cls.props) == ["instanceid", "caption", "old", "fresh"]
    assert cls.keys == ("InstanceID",)
    assert cls.is_a("CIM_BASE") and not cls.is_a("Msvm_Late")
    assert {c.name for c in registry.subclasses("cim_setting")} == {
        "CIM_Setting",
        "Msvm_New",
        "Msvm_Late",
    }


def test_members_missing_from_an_older_build() -> None:
    registry = Registry([BASE, SETTING, NEW, LATE], build=9600)
    assert registry.get("Msvm_Late") is None
    cls = registry.get("Msvm_New")
    assert cls is not None and cls.prop("Fresh") is None and cls.prop("old") is not None


def test_undefined_superclass_is_a_schema_error() -> None:
    with pytest.raises(SchemaError, match="superclass CIM_Nope"):
        Registry([ClassDef("X", "CIM_Nope")], build=9600)


def test_ref_and_type_checks() -> None:
    with pytest.raises(SchemaError, match="unknown CIM type"):
        P("X", "int")
    with pytest.raises(SchemaError, match="ref_class"):
        P("X", "ref")
