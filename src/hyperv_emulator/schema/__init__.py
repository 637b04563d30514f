"""The emulated host's CIM schema: class definitions plus the registry that serves them."""

from hyperv_emulator.schema.model import (
    NS_CIMV2,
    NS_VIRTUALIZATION,
    ClassDef,
    Method,
    Param,
    Prop,
    Registry,
    ResolvedClass,
    SchemaError,
)

__all__ = [
    "NS_CIMV2",
    "NS_VIRTUALIZATION",
    "ClassDef",
    "Method",
    "Param",
    "Prop",
    "Registry",
    "ResolvedClass",
    "SchemaError",
]
