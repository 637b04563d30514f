"""Our schema against the real one: the oracle is a dump of real hosts' MOF.

`shared/hyperv-wmi-data/canonical.json` (beside the checkout, or wherever
HYPERV_WMI_CANONICAL points) records, for builds 9200..29617, every class of
root/virtualization/v2 with its locally declared properties and methods and the builds
each one exists on. For each preset's build, every class we define there must match the
real class member by member, both ways: nothing we declare is unknown to the real host,
and nothing the real class declares is missing from ours. All mismatches of a build are
reported together.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from hyperv_emulator.profiles import PRESETS
from hyperv_emulator.schema.classes import all_definitions
from hyperv_emulator.schema.model import (
    NS_VIRTUALIZATION,
    ClassDef,
    Method,
    Param,
    Prop,
    Registry,
    available,
)

REPO = Path(__file__).resolve().parents[3]
PRESET_BUILDS = sorted({profile.version_tuple[2] for profile in PRESETS.values()})
INTRINSIC = frozenset(
    {
        "boolean", "string", "char16", "datetime", "uint8", "sint8", "uint16", "sint16",
        "uint32", "sint32", "uint64", "sint64", "real32", "real64",
    }
)


def _canonical_path() -> Path:
    override = os.environ.get("HYPERV_WMI_CANONICAL")
    if override:
        return Path(override)
    return REPO.parent / "shared" / "hyperv-wmi-data" / "canonical.json"


# --- the real schema, reduced to what we compare ----------------------------------------


@dataclass(frozen=True)
class ValueSet:
    """A ValueMap: explicit values plus `a..b` ranges (open `..` entries are ignored)."""

    explicit: frozenset[int]
    ranges: tuple[tuple[int, int], ...]

    def __contains__(self, value: object) -> bool:
        if not isinstance(value, int):
            return False
        return value in self.explicit or any(lo <= value <= hi for lo, hi in self.ranges)

    @classmethod
    def parse(cls, entries: Iterable[str]) -> ValueSet:
        explicit: set[int] = set()
        ranges: list[tuple[int, int]] = []
        number = r"(0x[0-9a-fA-F]+|\d+)"
        for entry in entries:
            text = entry.strip()
            if re.fullmatch(number, text):
                explicit.add(_number(text))
            elif match := re.fullmatch(number + r"\.\." + number, text):
                ranges.append((_number(match[1]), _number(match[2])))
        return cls(frozenset(explicit), tuple(ranges))


def _number(text: str) -> int:
    return int(text, 16) if text.lower().startswith("0x") else int(text)


@dataclass(frozen=True)
class RealType:
    kind: str  # an intrinsic type, "ref" or "object"
    cls: str | None  # the referenced or embedded class, lower case
    array: bool

    def __str__(self) -> str:
        base = f"{self.kind} {self.cls}" if self.cls else self.kind
        return base + ("[]" if self.array else "")


@dataclass(frozen=True)
class RealProp:
    name: str
    type: RealType
    builds: frozenset[int]
    key: bool
    default: str | None
    values: ValueSet
    max_len: int | None
    embedded: str | None


@dataclass(frozen=True)
class RealParam:
    name: str
    direction: str
    type: RealType
    values: ValueSet
    embedded: str | None


@dataclass(frozen=True)
class RealMethod:
    name: str
    builds: frozenset[int]
    static: bool
    params: tuple[RealParam, ...]
    codes: ValueSet


@dataclass(frozen=True)
class RealClass:
    name: str
    superclass: str | None
    builds: frozenset[int]
    association: bool
    abstract: bool
    props: dict[str, RealProp]
    methods: dict[str, RealMethod]


def _real_type(type_: str, array: bool, ref: bool) -> RealType:
    lowered = type_.lower()
    if ref:
        return RealType("ref", lowered, array)
    if lowered in INTRINSIC:
        return RealType(lowered, None, array)
    return RealType("object", lowered, array)


def _qualifier(qualifiers: dict[str, Any], name: str) -> Any:
    lowered = name.lower()
    return next((v for k, v in qualifiers.items() if k.lower() == lowered), None)


def _builds(item: dict[str, Any]) -> frozenset[int]:
    return frozenset(int(b) for b in item["builds"])


def _parse_class(raw: dict[str, Any]) -> RealClass:
    props = {}
    for p in raw["properties"]:
        q = p["qualifiers"]
        max_len = _qualifier(q, "MaxLen")
        embedded = _qualifier(q, "EmbeddedInstance") or _qualifier(q, "HyperVEmbeddedInstance")
        props[p["name"].lower()] = RealProp(
            name=p["name"],
            type=_real_type(p["type"], p["array"], p["ref"]),
            builds=_builds(p),
            key=bool(_qualifier(q, "Key")),
            default=p["default"],
            values=ValueSet.parse(e["value"] for e in p["enum"]),
            max_len=int(max_len) if max_len is not None else None,
            embedded=embedded.lower() if isinstance(embedded, str) else None,
        )
    methods = {}
    for m in raw["methods"]:
        params = tuple(
            RealParam(
                name=a["name"],
                direction=a["direction"].lower().replace("/", ""),
                type=_real_type(a["type"], a["array"], a["ref"]),
                values=ValueSet.parse(e["value"] for e in a["enum"]),
                embedded=a["embedded"].lower() if a["embedded"] else None,
            )
            for a in m["parameters"]
        )
        methods[m["name"].lower()] = RealMethod(
            name=m["name"],
            builds=_builds(m),
            static=bool(_qualifier(m["qualifiers"], "Static")),
            params=params,
            codes=ValueSet.parse(c["value"] for c in m["return_codes"]),
        )
    q = raw["qualifiers"]
    return RealClass(
        name=raw["name"],
        superclass=raw["superclass"],
        builds=_builds(raw),
        association=bool(raw["is_association"]),
        abstract=bool(_qualifier(q, "Abstract")),
        props=props,
        methods=methods,
    )


@cache
def real_schema() -> dict[str, RealClass]:
    path = _canonical_path()
    if not path.is_file():
        pytest.skip(
            f"the real schema dump is not at {path} (check out shared/ beside the repository"
            " or set HYPERV_WMI_CANONICAL)"
        )
    data = json.loads(path.read_text(encoding="utf-8"))
    return {raw["name"].lower(): _parse_class(raw) for raw in data["classes"]}


# --- comparison ------------------------------------------------------------------------


def _our_type(item: Prop | Param) -> RealType:
    if item.type == "ref":
        assert item.ref_class is not None
        return RealType("ref", item.ref_class.lower(), item.array)
    if item.type == "object":
        assert item.embedded is not None
        return RealType("object", item.embedded.lower(), item.array)
    return RealType(item.type, None, item.array)


def _mof_default(value: Any) -> str:
    """Our default as the dump writes a MOF default (TRUE, 5, "text", {1,2})."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, (tuple, list)):
        return "{" + ",".join(_mof_default(v) for v in value) + "}"
    raise TypeError(f"unexpected default {value!r}")


def _same_default(ours: Any, real: str | None) -> bool:
    if ours is None or real is None:
        return ours is None and real is None
    return _mof_default(ours).replace(" ", "").lower() == real.replace(" ", "").lower()


def _check_prop(where: str, ours: Prop, real: RealProp) -> Iterator[str]:
    if ours.name != real.name:
        yield f"{where}: spelled {ours.name!r}, real {real.name!r}"
    if _our_type(ours) != real.type:
        yield f"{where}: type {_our_type(ours)}, real {real.type}"
    if ours.key != real.key:
        yield f"{where}: key={ours.key}, real key={real.key}"
    if not _same_default(ours.default, real.default):
        yield f"{where}: default {ours.default!r}, real MOF default {real.default}"
    if ours.values is not None:
        unknown = sorted(v for v in ours.values if v not in real.values)
        if unknown:
            yield f"{where}: values {unknown} are not in the real ValueMap"
    if ours.max_len is not None and ours.max_len != real.max_len:
        yield f"{where}: MaxLen {ours.max_len}, real {real.max_len}"
    if ours.type == "string" and real.embedded and (ours.embedded or "").lower() != real.embedded:
        yield f"{where}: embeds {ours.embedded}, real {real.embedded}"


def _check_method(
    where: str, ours: Method, real: RealMethod, exists: Callable[[str], bool]
) -> Iterator[str]:
    if ours.name != real.name:
        yield f"{where}: spelled {ours.name!r}, real {real.name!r}"
    if ours.static != real.static:
        yield f"{where}: static={ours.static}, real static={real.static}"

    # The dump records today's signature; a class it names that did not exist yet on this
    # build (Msvm_SummaryInformationBase on 2012 R2) cannot be compared, only its kind.
    def shown(type_: RealType, real_type: RealType | None) -> str:
        if real_type is not None and real_type.cls is not None and not exists(real_type.cls):
            return str(RealType(type_.kind, "(not on this build)", type_.array))
        return str(type_)

    twins: list[RealType | None] = [p.type for p in real.params]
    twins += [None] * len(ours.params)
    our_sig = [
        (p.name, p.direction, shown(_our_type(p), twins[i])) for i, p in enumerate(ours.params)
    ]
    real_sig = [(p.name, p.direction, shown(p.type, p.type)) for p in real.params]
    if our_sig != real_sig:
        yield f"{where}: parameters {our_sig}, real {real_sig}"
    else:
        for ours_p, real_p in zip(ours.params, real.params, strict=True):
            if ours_p.values is not None:
                unknown = sorted(v for v in ours_p.values if v not in real_p.values)
                if unknown:
                    yield f"{where}({ours_p.name}): values {unknown} not in the real ValueMap"
            if real_p.embedded and (ours_p.embedded or "").lower() != real_p.embedded:
                yield f"{where}({ours_p.name}): embeds {ours_p.embedded}, real {real_p.embedded}"
    if ours.return_codes is None:
        if real.codes.explicit:
            yield f"{where}: return codes not declared, real {sorted(real.codes.explicit)}"
    else:
        unknown = sorted(c for c in ours.return_codes if c not in real.codes)
        if unknown:
            yield f"{where}: return codes {unknown} are not in the real ValueMap"
        missing = sorted(real.codes.explicit - ours.return_codes)
        if missing:
            yield f"{where}: real return codes {missing} are missing"


def _local_members(
    versions: list[ClassDef], build: int
) -> tuple[dict[str, Prop], dict[str, Method]]:
    props: dict[str, Prop] = {}
    methods: dict[str, Method] = {}
    for definition in versions:
        if available(definition, build):
            props.update({p.name.lower(): p for p in definition.props if available(p, build)})
            methods.update(
                {m.name.lower(): m for m in definition.methods if available(m, build)}
            )
    return props, methods


def _check_class(
    name: str, versions: list[ClassDef], real: RealClass, build: int, real_all: dict
) -> Iterator[str]:
    current = next((d for d in versions if available(d, build)), None)
    if current is None:
        if build in real.builds:
            yield f"{name}: exists on real build {build}, ours does not"
        return
    if build not in real.builds:
        yield f"{name}: ours exists on {build}, the real class does not"
        return
    real_super = real_all.get((real.superclass or "").lower())
    if real_super is not None and build in real_super.builds:
        if (current.superclass or "").lower() != (real.superclass or "").lower():
            yield f"{name}: superclass {current.superclass}, real {real.superclass}"
    elif real.superclass is None and current.superclass is not None:
        yield f"{name}: superclass {current.superclass}, real has none"
    if current.association != real.association:
        yield f"{name}: association={current.association}, real {real.association}"
    if current.abstract != real.abstract:
        yield f"{name}: abstract={current.abstract}, real {real.abstract}"
    props, methods = _local_members(versions, build)

    def exists_on_build(cls: str) -> bool:
        found = real_all.get(cls.lower())
        return found is None or build in found.builds

    for lowered, prop in props.items():
        real_prop = real.props.get(lowered)
        if real_prop is None or build not in real_prop.builds:
            yield f"{name}.{prop.name}: not declared by the real class on {build}"
        else:
            yield from _check_prop(f"{name}.{prop.name}", prop, real_prop)
    for lowered, real_prop in real.props.items():
        if build in real_prop.builds and lowered not in props:
            yield f"{name}.{real_prop.name}: real {real_prop.type} missing from ours"
    for lowered, method in methods.items():
        real_method = real.methods.get(lowered)
        if real_method is None or build not in real_method.builds:
            yield f"{name}.{method.name}(): not declared by the real class on {build}"
        else:
            yield from _check_method(
                f"{name}.{method.name}()", method, real_method, exists_on_build
            )
    for lowered, real_method in real.methods.items():
        if build in real_method.builds and lowered not in methods:
            yield f"{name}.{real_method.name}(): real method missing from ours"


def mismatches(build: int) -> list[str]:
    real_all = real_schema()
    ours: dict[str, list[ClassDef]] = {}
    for definition in all_definitions():
        if definition.namespace.lower() == NS_VIRTUALIZATION:
            ours.setdefault(definition.name.lower(), []).append(definition)
    found: list[str] = []
    for lowered, versions in sorted(ours.items()):
        real = real_all.get(lowered)
        if real is None:
            found.append(f"{versions[0].name}: no such class in the real schema")
            continue
        found.extend(_check_class(versions[0].name, versions, real, build, real_all))
    return found


@pytest.mark.parametrize("build", PRESET_BUILDS)
def test_schema_matches_the_real_hosts(build: int) -> None:
    Registry(all_definitions(), build)  # resolvable at all: the registry test says why not
    found = mismatches(build)
    assert not found, f"{len(found)} differences from the real schema on build {build}:\n" + (
        "\n".join(found)
    )


def test_the_oracle_catches_a_wrong_type() -> None:
    """The comparison itself works: a wrong type, key and unknown member are reported."""
    real = _parse_class(
        {
            "name": "Msvm_Probe",
            "superclass": None,
            "qualifiers": {},
            "is_association": False,
            "builds": ["9600"],
            "properties": [
                {
                    "name": "Size", "type": "uint64", "array": False, "ref": False,
                    "default": None, "qualifiers": {"Key": True}, "enum": [],
                    "builds": ["9600"],
                }
            ],
            "methods": [],
        }
    )
    wrong = ClassDef(
        "Msvm_Probe", None, props=(Prop("Size", "uint32"), Prop("Extra", "string"))
    )
    found = list(_check_class("Msvm_Probe", [wrong], real, 9600, {}))
    assert any("Size: type uint32, real uint64" in f for f in found)
    assert any("Size: key=False, real key=True" in f for f in found)
    assert any("Extra: not declared" in f for f in found)
