"""The shape of a CIM class definition, and the registry that resolves inheritance.

Class definitions are data written in our own words from Microsoft's MOF documentation
(MicrosoftDocs/win32, desktop-src/HyperV_v2). Each definition lists only the properties
and methods its class *declares*; the registry flattens the superclass chain the way
WMI does, so `Msvm_ProcessorSettingData` answers for `InstanceID` through
`CIM_SettingData`. A definition may carry the first (and last) Windows build that has
it: an emulated ws2012r2 host (build 9600) then has no `Msvm_SerialPortSettingData`,
exactly like the real one. A class whose shape changed between builds (a new
superclass) is two definitions of the same name with disjoint build ranges.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

NS_VIRTUALIZATION = "root/virtualization/v2"
NS_CIMV2 = "root/cimv2"
NS_STANDARD_CIMV2 = "root/StandardCimv2"
NS_STORAGE = "root/Microsoft/Windows/Storage"
NS_HGS = "root/Microsoft/Windows/Hgs"
NS_MSPS = "root/msps"

# CIM intrinsic types as MOF spells them (lower case). `ref` is a reference to
# `ref_class`; `object` is an embedded object of class `embedded` (the
# Msvm_SummaryInformationBase outputs of GetSummaryInformation, for example).
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


def _check_typed(what: str, type_: str, ref_class: str | None, embedded: str | None) -> None:
    if type_ not in CIM_TYPES:
        raise SchemaError(f"{what}: unknown CIM type {type_!r}")
    if (type_ == "ref") != (ref_class is not None):
        raise SchemaError(f"{what}: ref_class goes with type 'ref' only")
    if type_ == "object" and embedded is None:
        raise SchemaError(f"{what}: an 'object' needs the embedded class it holds")
    if embedded is not None and type_ not in ("string", "object"):
        raise SchemaError(f"{what}: only strings and objects hold embedded instances")


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
    # Embedded-instance class for string properties that hold CIM-XML, and the class
    # of an `object` property.
    embedded: str | None = None
    since: int | None = None
    until: int | None = None
    # The MOF MaxLen qualifier of a string, where Hyper-V enforces one.
    max_len: int | None = None

    def __post_init__(self) -> None:
        _check_typed(f"property {self.name}", self.type, self.ref_class, self.embedded)


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    direction: str = "in"
    array: bool = False
    ref_class: str | None = None
    embedded: str | None = None
    # The ValueMap the emulator enforces on inputs, value -> label. None: not enforced.
    values: Mapping[int, str] | None = None

    def __post_init__(self) -> None:
        _check_typed(f"parameter {self.name}", self.type, self.ref_class, self.embedded)
        if self.direction not in _DIRECTIONS:
            raise SchemaError(f"parameter {self.name}: direction must be in, out or inout")

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
    # A singleton class has one keyless instance, addressed as `Class=@`.
    singleton: bool = False


def in_namespace(
    namespace: str, definitions: Iterable[ClassDef], names: Iterable[str]
) -> list[ClassDef]:
    """The named classes again in another namespace (each WMI namespace has its own copy
    of the DMTF classes it builds on)."""
    by_name = {d.name.lower(): d for d in definitions}
    found = []
    for name in names:
        definition = by_name.get(name.lower())
        if definition is None:
            raise SchemaError(f"cannot copy {name} into {namespace}: it is not defined")
        found.append(replace(definition, namespace=namespace))
    return found


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
        self._all: list[ClassDef] = []
        by_name: dict[tuple[str, str], list[ClassDef]] = {}
        for definition in definitions:
            key = (_ns(definition.namespace), definition.name.lower())
            for other in by_name.get(key, ()):
                if _overlap(other, definition):
                    raise SchemaError(f"class {definition.name} is defined twice")
            by_name.setdefault(key, []).append(definition)
            self._all.append(definition)
        # The one definition of each class that exists on this build.
        self._defs: dict[tuple[str, str], ClassDef] = {
            key: definition
            for key, versions in by_name.items()
            for definition in versions
            if available(definition, build)
        }
        self._resolved: dict[tuple[str, str], ResolvedClass] = {
            key: self._resolve(definition) for key, definition in self._defs.items()
        }
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
                    f" on build {self.build}"
                )
            current = parent
        for cls in chain:
            _check_unique(cls)
        props: dict[str, Prop] = {}
        methods: dict[str, tuple[str, Method]] = {}
        # Root first so that a subclass's redeclaration (an override) wins. A key stays
        # a key: WMI's Key qualifier cannot be overridden away, and the real MOF's
        # overrides (CIM_Dependency.Antecedent in every association) do not repeat it.
        for cls in reversed(chain):
            for prop in cls.props:
                if available(prop, self.build):
                    inherited = props.get(prop.name.lower())
                    if inherited is not None and inherited.key and not prop.key:
                        prop = replace(prop, key=True)
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
        """Every definition given, whatever its builds."""
        return list(self._all)


def _check_unique(definition: ClassDef) -> None:
    """WMI names are case-insensitive: a class cannot declare one name twice on a build."""
    seen: dict[tuple[str, str], list[Prop | Method]] = {}
    for item in (*definition.props, *definition.methods):
        kind = "property" if isinstance(item, Prop) else "method"
        for other in seen.get((kind, item.name.lower()), ()):
            if _overlap(other, item):
                raise SchemaError(f"class {definition.name} declares {kind} {item.name} twice")
        seen.setdefault((kind, item.name.lower()), []).append(item)


def _overlap(a: ClassDef | Prop | Method, b: ClassDef | Prop | Method) -> bool:
    never = 1 << 31
    low = max(a.since or 0, b.since or 0)
    high = min(never if a.until is None else a.until, never if b.until is None else b.until)
    return low <= high


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


def CODES(*spec: int | tuple[int, int]) -> frozenset[int]:
    """A method's return codes from single values and inclusive (low, high) runs."""
    found: set[int] = set()
    for item in spec:
        if isinstance(item, tuple):
            found.update(range(item[0], item[1] + 1))
        else:
            found.add(item)
    return frozenset(found)


# Return-code families (see reference notes §1.2): DMTF-style service methods and
# Hyper-V's vendor-style codes.
DMTF_CODES = frozenset({0, 1, 2, 3, 4, 5, 6, 4096})
VENDOR_CODES = frozenset({0, 4096, *range(32768, 32783)})
