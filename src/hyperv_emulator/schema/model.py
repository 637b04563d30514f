"""The shape of a CIM class definition, and the registry that resolves inheritance.

Class definitions are data written in our own words from Microsoft's MOF documentation
(MicrosoftDocs/win32, desktop-src/HyperV_v2). Each definition lists only the properties
and methods its class *declares*; the registry flattens the superclass chain the way
WMI does, so `Msvm_ProcessorSettingData` answers for `InstanceID` through
`CIM_SettingData`. A definition may carry the first (and last) Windows build that has
it: an emulated ws2012r2 host (build 9600) then has no `Msvm_SerialPortSettingData`,
exactly like the real one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

NS_VIRTUALIZATION = "root/virtualization/v2"
NS_CIMV2 = "root/cimv2"

# CIM intrinsic types as MOF spells them (lower case). `ref` is a reference to
# `ref_class`; `object` is an embedded object (Msvm_SummaryInformationBase outputs).
CIM_TYPES = frozenset(
    {
        "boolean", "string", "char16", "datetime",
        "uint8", "sint8", "uint16", "sint16", "uint32", "sint32", "uint64", "sint64",
        "real32", "real64", "ref", "object",
    }
)

_DIRECTIONS = frozenset({"in", "out", "inout"})


class SchemaError(ValueError):
    """A class definition is inconsistent (a bug in our schema data, not a client error)."""


@dataclass(frozen=True)
class Prop:
    name: str
    type: str
    array: bool = False
    ref_class: str | None = None
    key: bool = False
    default: Any = None
    # The ValueMap the emulator enforces on writes, value -> label. None: not enforced.
    values: Mapping[int, str] | None = None
    # Embedded-instance class for string properties that hold CIM-XML.
    embedded: str | None = None
    since: int | None = None
    until: int | None = None

    def __post_init__(self) -> None:
        if self.type not in CIM_TYPES:
            raise SchemaError(f"property {self.name}: unknown CIM type {self.type!r}")
        if (self.type == "ref") != (self.ref_class is not None):
            raise SchemaError(f"property {self.name}: ref_class goes with type 'ref' only")


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    direction: str = "in"
    array: bool = False
    ref_class: str | None = None
    embedded: str | None = None

    def __post_init__(self) -> None:
        if self.type not in CIM_TYPES:
            raise SchemaError(f"parameter {self.name}: unknown CIM type {self.type!r}")
        if self.direction not in _DIRECTIONS:
            raise SchemaError(f"parameter {self.name}: direction must be in, out or inout")
        if (self.type == "ref") != (self.ref_class is not None):
            raise SchemaError(f"parameter {self.name}: ref_class goes with type 'ref' only")

    @property
    def is_input(self) -> bool:
        return self.direction in ("in", "inout")

    @property
    def is_output(self) -> bool:
        return self.direction in ("out", "inout")


@dataclass(frozen=True)
class Method:
    name: str
    params: tuple[Param, ...] = ()
    # Return codes the real MOF declares; None means "not enforced".
    return_codes: frozenset[int] | None = None
    static: bool = False
    since: int | None = None
    until: int | None = None

    def param(self, name: str) -> Param | None:
        lowered = name.lower()
        return next((p for p in self.params if p.name.lower() == lowered), None)

    @property
    def has_job(self) -> bool:
        return any(p.name == "Job" and p.is_output for p in self.params)


@dataclass(frozen=True)
class ClassDef:
    name: str
    superclass: str | None
    props: tuple[Prop, ...] = ()
    methods: tuple[Method, ...] = ()
    namespace: str = NS_VIRTUALIZATION
    association: bool = False
    abstract: bool = False
    since: int | None = None
    until: int | None = None


def available(item: ClassDef | Prop | Method, build: int) -> bool:
    """Whether a definition exists on a host of the given Windows build."""
    if item.since is not None and build < item.since:
        return False
    return not (item.until is not None and build > item.until)


@dataclass(frozen=True)
class ResolvedClass:
    """A class as a client sees it on one host build: inherited members flattened."""

    definition: ClassDef
    chain: tuple[str, ...]  # this class first, then its superclasses
    props: Mapping[str, Prop]  # lower-cased name -> Prop, in declaration order
    methods: Mapping[str, tuple[str, Method]]  # lower-cased name -> (declaring class, Method)
    keys: tuple[str, ...] = field(default=())

    @property
    def name(self) -> str:
        return self.definition.name

    @property
    def namespace(self) -> str:
        return self.definition.namespace

    def prop(self, name: str) -> Prop | None:
        return self.props.get(name.lower())

    def method(self, name: str) -> Method | None:
        found = self.methods.get(name.lower())
        return found[1] if found else None

    def is_a(self, other: str) -> bool:
        lowered = other.lower()
        return any(c.lower() == lowered for c in self.chain)


class Registry:
    """All classes of one host build, by namespace, with case-insensitive lookups."""

    def __init__(self, definitions: Iterable[ClassDef], build: int) -> None:
        self.build = build
        self._defs: dict[tuple[str, str], ClassDef] = {}
        for definition in definitions:
            key = (_ns(definition.namespace), definition.name.lower())
            if key in self._defs:
                raise SchemaError(f"class {definition.name} is defined twice")
            self._defs[key] = definition
        self._resolved: dict[tuple[str, str], ResolvedClass] = {}
        for (ns, lowered), definition in self._defs.items():
            if available(definition, build):
                self._resolved[(ns, lowered)] = self._resolve(definition)
        self._subclasses: dict[tuple[str, str], list[ResolvedClass]] = {}
        for (ns, _), resolved in self._resolved.items():
            for ancestor in resolved.chain:
                self._subclasses.setdefault((ns, ancestor.lower()), []).append(resolved)

    def _resolve(self, definition: ClassDef) -> ResolvedClass:
        ns = _ns(definition.namespace)
        chain: list[ClassDef] = []
        current: ClassDef | None = definition
        while current is not None:
            chain.append(current)
            if current.superclass is None:
                break
            parent = self._defs.get((ns, current.superclass.lower()))
            if parent is None:
                raise SchemaError(
                    f"class {current.name}: superclass {current.superclass} is not defined"
                )
            current = parent
        props: dict[str, Prop] = {}
        methods: dict[str, tuple[str, Method]] = {}
        # Root first so that a subclass's redeclaration (an override) wins.
        for cls in reversed(chain):
            for prop in cls.props:
                if available(prop, self.build):
                    props[prop.name.lower()] = prop
            for method in cls.methods:
                if available(method, self.build):
                    methods[method.name.lower()] = (cls.name, method)
        keys = tuple(p.name for p in props.values() if p.key)
        return ResolvedClass(
            definition=definition,
            chain=tuple(c.name for c in chain),
            props=props,
            methods=methods,
            keys=keys,
        )

    def get(self, name: str, namespace: str = NS_VIRTUALIZATION) -> ResolvedClass | None:
        return self._resolved.get((_ns(namespace), name.lower()))

    def subclasses(self, name: str, namespace: str = NS_VIRTUALIZATION) -> list[ResolvedClass]:
        """The class and every class derived from it (what a polymorphic FROM returns)."""
        return list(self._subclasses.get((_ns(namespace), name.lower()), ()))

    def classes(self, namespace: str | None = None) -> list[ResolvedClass]:
        return [
            r for (ns, _), r in self._resolved.items()
            if namespace is None or ns == _ns(namespace)
        ]

    def definitions(self) -> list[ClassDef]:
        return list(self._defs.values())


def _ns(namespace: str) -> str:
    return namespace.replace("\\", "/").strip("/").lower()


# Small constructors so that definition modules read like a schema, not like plumbing.
def P(name: str, type_: str, **kw: Any) -> Prop:
    return Prop(name, type_, **kw)


def KEY(name: str, type_: str = "string", **kw: Any) -> Prop:
    return Prop(name, type_, key=True, **kw)


def REF(name: str, ref_class: str, **kw: Any) -> Prop:
    return Prop(name, "ref", ref_class=ref_class, **kw)


def IN(name: str, type_: str, **kw: Any) -> Param:
    return Param(name, type_, "in", **kw)


def OUT(name: str, type_: str, **kw: Any) -> Param:
    return Param(name, type_, "out", **kw)


def IN_REF(name: str, ref_class: str, **kw: Any) -> Param:
    return Param(name, "ref", "in", ref_class=ref_class, **kw)


def OUT_REF(name: str, ref_class: str, **kw: Any) -> Param:
    return Param(name, "ref", "out", ref_class=ref_class, **kw)


JOB = OUT_REF("Job", "CIM_ConcreteJob")

# Return-code families (see reference notes §1.2): DMTF-style service methods and
# Hyper-V's vendor-style codes.
DMTF_CODES = frozenset({0, 1, 2, 3, 4, 5, 6, 4096})
VENDOR_CODES = frozenset({0, 4096, *range(32768, 32783)})
