"""Embedded instances as DMTF CIM-XML (DSP0201), both ways.

Hyper-V's service methods take their settings as embedded instances: strings holding
one `<INSTANCE>` element. Clients produce them two ways, and both must be accepted:

- PyMI's `GetText_` (the MI serializer, "MI_XML"): plain PROPERTY / PROPERTY.ARRAY /
  PROPERTY.REFERENCE elements, a property without VALUE meaning NULL;
- the classic wmi module's `GetText_(1)` (WMI's DTD 2.0 text): the same elements plus
  QUALIFIER children, CLASSORIGIN / PROPAGATED attributes and system properties
  (`__PATH`, `__CLASS`, ...), which carry no settings and are skipped.

A missing VALUE (or a property left out) reads as NULL; an empty VALUE.ARRAY is an
empty array, which is a value (`HostResource = []` ejects an ISO). Values are parsed
by the property's declared type, not by the TYPE attribute a client wrote.

`to_cimxml` writes what a real host writes: every property of the class in
declaration order, with its declared TYPE, so output parsed by ElementTree
(`PROPERTY[@NAME=...]/VALUE`, as old os-win did) finds what it looks for.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from hyperv_emulator.errors import WBEM_E_INVALID_PARAMETER, CimError, invalid_property
from hyperv_emulator.instances import Instance
from hyperv_emulator.paths import ObjectPath, parse_path
from hyperv_emulator.schema.model import Prop, Registry

_PROPERTY_TAGS = ("PROPERTY", "PROPERTY.ARRAY", "PROPERTY.REFERENCE")


# -- writing ------------------------------------------------------------------------


def to_cimxml(instance: Instance) -> str:
    return ET.tostring(_instance_element(instance), encoding="unicode")


def _instance_element(instance: Instance) -> ET.Element:
    root = ET.Element("INSTANCE", CLASSNAME=instance.class_name)
    for lowered, prop in instance.cls.props.items():
        value = instance.raw.get(lowered)
        root.append(_property_element(prop, value))
    return root


def _property_element(prop: Prop, value: Any) -> ET.Element:
    if prop.type == "ref":
        element = ET.Element("PROPERTY.REFERENCE", NAME=prop.name)
        if prop.ref_class:
            element.set("REFERENCECLASS", prop.ref_class)
        if value is not None:
            element.append(_reference_element(value))
        return element
    cim_type = "string" if prop.type == "object" else prop.type
    if prop.array:
        element = ET.Element("PROPERTY.ARRAY", NAME=prop.name, TYPE=cim_type)
        if prop.type == "object":
            element.set("EmbeddedObject", "object")
        if value is not None:
            array = ET.SubElement(element, "VALUE.ARRAY")
            for item in value:
                ET.SubElement(array, "VALUE").text = _text(prop, item)
        return element
    element = ET.Element("PROPERTY", NAME=prop.name, TYPE=cim_type)
    if prop.type == "object":
        element.set("EmbeddedObject", "object")
    if value is not None:
        ET.SubElement(element, "VALUE").text = _text(prop, value)
    return element


def _text(prop: Prop, value: Any) -> str:
    if prop.type == "boolean":
        return "true" if value else "false"
    if prop.type == "object":
        return to_cimxml(value)
    if prop.type in ("real32", "real64"):
        return repr(float(value))
    return str(value)


def _reference_element(path_text: str) -> ET.Element:
    path = parse_path(path_text)
    reference = ET.Element("VALUE.REFERENCE")
    if path.namespace is not None:
        if path.server is not None:
            outer = ET.SubElement(reference, "INSTANCEPATH")
            nspath = ET.SubElement(outer, "NAMESPACEPATH")
            ET.SubElement(nspath, "HOST").text = path.server
            local = ET.SubElement(nspath, "LOCALNAMESPACEPATH")
        else:
            outer = ET.SubElement(reference, "LOCALINSTANCEPATH")
            local = ET.SubElement(outer, "LOCALNAMESPACEPATH")
        for part in path.namespace.replace("\\", "/").split("/"):
            if part:
                ET.SubElement(local, "NAMESPACE", NAME=part)
    else:
        outer = reference
    name = ET.SubElement(outer, "INSTANCENAME", CLASSNAME=path.class_name)
    for key, value in path.keys:
        binding = ET.SubElement(name, "KEYBINDING", NAME=key)
        if isinstance(value, bool):
            ET.SubElement(binding, "KEYVALUE", VALUETYPE="boolean").text = (
                "true" if value else "false"
            )
        elif isinstance(value, int):
            ET.SubElement(binding, "KEYVALUE", VALUETYPE="numeric").text = str(value)
        else:
            ET.SubElement(binding, "KEYVALUE", VALUETYPE="string").text = value
    return reference


# -- reading ------------------------------------------------------------------------


def _bad(why: str) -> CimError:
    return CimError(WBEM_E_INVALID_PARAMETER, f"embedded instance: {why}")


def from_cimxml(text: str, registry: Registry, namespace: str) -> Instance:
    """Parse one embedded instance; the class is looked up in `namespace`."""
    if not isinstance(text, str) or not text.strip():
        raise _bad("empty text where an <INSTANCE> element was expected")
    body = text.strip()
    if body.startswith("<?xml"):
        # A declaration naming an encoding (utf-16 from some serializers) means nothing
        # for text that is already decoded, and expat refuses it in a str.
        body = body[body.find("?>") + 2:].lstrip()
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise _bad(f"not well-formed XML ({exc})") from None
    return _read_instance(root, registry, namespace)


def _read_instance(root: ET.Element, registry: Registry, namespace: str) -> Instance:
    if root.tag == "VALUE.NAMEDINSTANCE" or root.tag == "VALUE.OBJECT":
        inner = root.find("INSTANCE")
        if inner is None:
            raise _bad(f"<{root.tag}> without an <INSTANCE>")
        root = inner
    if root.tag != "INSTANCE":
        raise _bad(f"the root element is <{root.tag}>, not <INSTANCE>")
    class_name = root.get("CLASSNAME")
    if not class_name:
        raise _bad("<INSTANCE> has no CLASSNAME")
    cls = registry.get(class_name, namespace)
    if cls is None:
        raise CimError(
            WBEM_E_INVALID_PARAMETER,
            f"embedded instance of class {class_name}, which does not exist in {namespace}",
        )
    instance = Instance(cls)
    for element in root:
        if element.tag not in _PROPERTY_TAGS:
            continue  # QUALIFIER and the like
        name = element.get("NAME") or ""
        if name.startswith("__"):
            continue  # system properties of WMI's own text
        prop = cls.prop(name)
        if prop is None:
            raise invalid_property(cls.name, name)
        value = _read_value(element, prop, registry, namespace)
        if value is not None:
            instance[prop.name] = value
    return instance


def _read_value(element: ET.Element, prop: Prop, registry: Registry, namespace: str) -> Any:
    if element.tag == "PROPERTY.REFERENCE" or prop.type == "ref":
        reference = element.find("VALUE.REFERENCE")
        if reference is not None:
            return str(_read_reference(reference))
        plain = element.find("VALUE")
        return None if plain is None else (plain.text or "")
    if prop.array:
        array = element.find("VALUE.ARRAY")
        if array is None:
            return None
        return [_scalar(v, prop, registry, namespace) for v in array.findall("VALUE")]
    value = element.find("VALUE")
    if value is None:
        return None
    return _scalar(value, prop, registry, namespace)


def _scalar(value: ET.Element, prop: Prop, registry: Registry, namespace: str) -> Any:
    if prop.type == "object":
        inner = value.find("INSTANCE")
        if inner is not None:
            return _read_instance(inner, registry, namespace)
        return from_cimxml(value.text or "", registry, namespace)
    return value.text or ""


def _read_reference(reference: ET.Element) -> ObjectPath:
    child = next(iter(reference), None)
    if child is None:
        raise _bad("<VALUE.REFERENCE> is empty")
    server = None
    namespace = None
    if child.tag == "INSTANCEPATH":
        host = child.find("NAMESPACEPATH/HOST")
        server = host.text if host is not None else None
        namespace = _namespace(child.find("NAMESPACEPATH/LOCALNAMESPACEPATH"))
        name = child.find("INSTANCENAME")
    elif child.tag == "LOCALINSTANCEPATH":
        namespace = _namespace(child.find("LOCALNAMESPACEPATH"))
        name = child.find("INSTANCENAME")
    elif child.tag == "INSTANCENAME":
        name = child
    else:
        raise _bad(f"<VALUE.REFERENCE> holds <{child.tag}>, not an instance path")
    if name is None or not name.get("CLASSNAME"):
        raise _bad("an instance path without INSTANCENAME/CLASSNAME")
    keys: list[tuple[str, Any]] = []
    for binding in name.findall("KEYBINDING"):
        key_value = binding.find("KEYVALUE")
        nested = binding.find("VALUE.REFERENCE")
        if nested is not None:
            keys.append((binding.get("NAME", ""), str(_read_reference(nested))))
        elif key_value is not None:
            keys.append((binding.get("NAME", ""), _key_value(key_value)))
    return ObjectPath.build(namespace, name.get("CLASSNAME", ""), keys, server)


def _key_value(element: ET.Element) -> Any:
    text = element.text or ""
    kind = element.get("VALUETYPE", "string")
    if kind == "boolean":
        return text.strip().lower() == "true"
    if kind == "numeric":
        return int(text)
    return text


def _namespace(element: ET.Element | None) -> str | None:
    if element is None:
        return None
    parts = [n.get("NAME", "") for n in element.findall("NAMESPACE")]
    return "\\".join(p for p in parts if p) or None
