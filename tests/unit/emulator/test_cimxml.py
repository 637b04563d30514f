"""Embedded instances: what we write is DSP0201, and both PyMI's and wmi.py's text parse."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from hyperv_emulator.cimxml import from_cimxml, to_cimxml
from hyperv_emulator.errors import WBEM_E_INVALID_PARAMETER, WBEM_E_INVALID_PROPERTY, CimError
from hyperv_emulator.instances import Instance
from hyperv_emulator.schema.model import Registry

NS = "root/virtualization/v2"


def _setting(reg: Registry, **values: object) -> Instance:
    cls = reg.get("Test_Setting")
    assert cls is not None
    return Instance(cls, values)


def test_writes_every_property_with_its_declared_type(reg: Registry) -> None:
    text = to_cimxml(_setting(reg, InstanceID="Microsoft:A\\B", Count=5, Flag=True,
                              Names=["x", "y"], When="20240101000000.000000+000"))
    root = ET.fromstring(text)
    assert root.tag == "INSTANCE" and root.get("CLASSNAME") == "Test_Setting"
    props = {p.get("NAME"): p for p in root}
    assert props["Count"].get("TYPE") == "uint16"
    assert props["Count"].find("VALUE").text == "5"
    assert props["Flag"].find("VALUE").text == "true"
    assert props["Size"].find("VALUE") is None  # NULL: no VALUE
    assert props["Names"].tag == "PROPERTY.ARRAY"
    assert [v.text for v in props["Names"].findall("VALUE.ARRAY/VALUE")] == ["x", "y"]
    assert props["InstanceID"].find("VALUE").text == "Microsoft:A\\B"


def test_round_trip_keeps_values_nulls_and_empty_arrays(reg: Registry) -> None:
    original = _setting(reg, InstanceID="i", Count=0, Flag=False, Names=[], Ratio=0.25,
                        Letter="Z", Level=-3)
    back = from_cimxml(to_cimxml(original), reg, NS)
    assert back == original
    assert back["Names"] == ()  # an empty array is a value ...
    assert back["Size"] is None  # ... a missing one is NULL


def test_reads_classic_wmi_text_with_qualifiers_and_system_properties(reg: Registry) -> None:
    text = (
        '<INSTANCE CLASSNAME="Test_Setting">'
        '<QUALIFIER NAME="dynamic" PROPAGATED="true" TYPE="boolean" TOINSTANCE="true">'
        "<VALUE>TRUE</VALUE></QUALIFIER>"
        '<PROPERTY NAME="__PATH" CLASSORIGIN="___SYSTEM" TYPE="string">'
        "<VALUE>\\\\H\\root\\virtualization\\v2:Test_Setting.InstanceID=\"i\"</VALUE></PROPERTY>"
        '<PROPERTY NAME="count" CLASSORIGIN="Test_Setting" TYPE="uint16">'
        '<QUALIFIER NAME="CIMTYPE" PROPAGATED="true" TYPE="string" TOINSTANCE="true">'
        "<VALUE>uint16</VALUE></QUALIFIER><VALUE>5</VALUE></PROPERTY>"
        '<PROPERTY.ARRAY NAME="Names" CLASSORIGIN="Test_Setting" TYPE="string">'
        "<VALUE.ARRAY><VALUE>a</VALUE><VALUE>b</VALUE></VALUE.ARRAY></PROPERTY.ARRAY>"
        '<PROPERTY NAME="Flag" CLASSORIGIN="Test_Setting" PROPAGATED="true" TYPE="boolean">'
        "<VALUE>TRUE</VALUE></PROPERTY>"
        '<PROPERTY NAME="Size" TYPE="uint64"></PROPERTY>'
        "</INSTANCE>"
    )
    instance = from_cimxml(text, reg, NS)
    assert instance.assigned() == {"Count": 5, "Names": ("a", "b"), "Flag": True}


def test_references_use_value_reference_both_ways(reg: Registry) -> None:
    cls = reg.get("Test_Link")
    system = '\\\\H\\root\\virtualization\\v2:Test_System.CreationClassName="Test_System",Name="A"'
    setting = '\\\\H\\root\\virtualization\\v2:Test_Setting.InstanceID="x\\\\y"'
    link = Instance(cls, {"Antecedent": system, "Dependent": setting})
    text = to_cimxml(link)
    assert "<VALUE.REFERENCE><INSTANCEPATH><NAMESPACEPATH><HOST>H</HOST>" in text
    assert from_cimxml(text, reg, NS) == link
    local = text.replace("<INSTANCEPATH><NAMESPACEPATH><HOST>H</HOST>", "<LOCALINSTANCEPATH>")
    local = local.replace("</LOCALNAMESPACEPATH></NAMESPACEPATH>", "</LOCALNAMESPACEPATH>")
    local = local.replace("</INSTANCEPATH>", "</LOCALINSTANCEPATH>")
    assert from_cimxml(local, reg, NS)["Antecedent"].startswith("root\\virtualization\\v2:")


@pytest.mark.parametrize(
    ("text", "hresult", "fragment"),
    [
        ("", WBEM_E_INVALID_PARAMETER, "empty"),
        ("<INSTANCE", WBEM_E_INVALID_PARAMETER, "well-formed"),
        ("<CLASS NAME='x'/>", WBEM_E_INVALID_PARAMETER, "<CLASS>"),
        ('<INSTANCE CLASSNAME="Nope"/>', WBEM_E_INVALID_PARAMETER, "Nope"),
        ('<INSTANCE CLASSNAME="Test_Setting"><PROPERTY NAME="Bogus" TYPE="string">'
         "<VALUE>1</VALUE></PROPERTY></INSTANCE>", WBEM_E_INVALID_PROPERTY, "Bogus"),
    ],
)
def test_bad_embedded_instances_are_refused(
    reg: Registry, text: str, hresult: int, fragment: str
) -> None:
    with pytest.raises(CimError) as info:
        from_cimxml(text, reg, NS)
    assert info.value.hresult == hresult and fragment in info.value.message


def test_values_are_typed_by_the_schema_not_the_type_attribute(reg: Registry) -> None:
    text = ('<INSTANCE CLASSNAME="Test_Setting"><PROPERTY NAME="Count" TYPE="string">'
            "<VALUE>70000</VALUE></PROPERTY></INSTANCE>")
    with pytest.raises(CimError, match=r"0\.\.65535"):
        from_cimxml(text, reg, NS)


def test_an_xml_declaration_is_accepted(reg: Registry) -> None:
    text = ('<?xml version="1.0" encoding="utf-16"?>\n<INSTANCE CLASSNAME="Test_Setting">'
            '<PROPERTY NAME="Count" TYPE="uint16" MODIFIED="TRUE"><VALUE>4</VALUE></PROPERTY>'
            "</INSTANCE>")
    assert from_cimxml(text, reg, NS)["Count"] == 4
