"""A CIM instance: a resolved class plus typed property values.

Property names are case-insensitive (os-win reads `vmsettings.InstanceId`), unknown
names are refused with WBEM_E_INVALID_PROPERTY, and every assignment goes through
`cimtypes.coerce`, so an instance never holds a value its class could not hold.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from hyperv_emulator.cimtypes import coerce
from hyperv_emulator.errors import CimError, invalid_property
from hyperv_emulator.paths import ObjectPath
from hyperv_emulator.schema.model import ResolvedClass


class Instance:
    __slots__ = ("_values", "cls", "server")

    def __init__(
        self,
        cls: ResolvedClass,
        values: Mapping[str, Any] | None = None,
        server: str | None = None,
    ) -> None:
        self.cls = cls
        self.server = server
        self._values: dict[str, Any] = {}
        if values:
            for name, value in values.items():
                self[name] = value

    @classmethod
    def trusted(
        cls, resolved: ResolvedClass, values: dict[str, Any], server: str | None
    ) -> Instance:
        """An instance from already-typed, lower-cased values (the store's own data)."""
        instance = cls.__new__(cls)
        instance.cls = resolved
        instance.server = server
        instance._values = values
        return instance

    # -- identity --------------------------------------------------------------

    @property
    def class_name(self) -> str:
        return self.cls.name

    @property
    def namespace(self) -> str:
        return self.cls.namespace

    @property
    def path(self) -> ObjectPath:
        if self.cls.definition.singleton:
            return ObjectPath(self.namespace, self.cls.name, (), self.server, True)
        keys = [(name, self._values.get(name.lower())) for name in self.cls.keys]
        return ObjectPath.build(
            self.namespace,
            self.cls.name,
            [(k, v) for k, v in keys if v is not None],
            self.server,
        )

    @property
    def has_keys(self) -> bool:
        return bool(self.cls.keys) and all(
            self._values.get(k.lower()) is not None for k in self.cls.keys
        )

    def is_a(self, class_name: str) -> bool:
        return self.cls.is_a(class_name)

    # -- values ----------------------------------------------------------------

    def _prop_name(self, name: str) -> str:
        lowered = name.lower()
        if lowered not in self.cls.props:
            raise invalid_property(self.cls.name, name)
        return lowered

    def __getitem__(self, name: str) -> Any:
        return self._values.get(self._prop_name(name))

    def get(self, name: str, default: Any = None) -> Any:
        value = self._values.get(self._prop_name(name))
        return default if value is None else value

    def __setitem__(self, name: str, value: Any) -> None:
        lowered = self._prop_name(name)
        prop = self.cls.props[lowered]
        typed = coerce(prop.type, prop.array, value, f"{self.cls.name}.{prop.name}")
        if typed is None:
            self._values.pop(lowered, None)
        else:
            self._values[lowered] = typed

    def update(self, values: Mapping[str, Any]) -> None:
        for name, value in values.items():
            self[name] = value

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self.cls.props

    def __iter__(self) -> Iterator[str]:
        return (prop.name for prop in self.cls.props.values())

    def items(self) -> Iterator[tuple[str, Any]]:
        """Every property of the class, in declaration order (None when unset)."""
        for lowered, prop in self.cls.props.items():
            yield prop.name, self._values.get(lowered)

    def assigned(self) -> dict[str, Any]:
        """Only the properties that hold a value, by declared name."""
        return {
            self.cls.props[k].name: v for k, v in self._values.items() if v is not None
        }

    @property
    def raw(self) -> dict[str, Any]:
        """The lower-cased value dict itself (for the store and the providers)."""
        return self._values

    def copy(self) -> Instance:
        return Instance.trusted(self.cls, dict(self._values), self.server)

    def project(self, names: Iterable[str]) -> Instance:
        """Only `names` plus the keys: what a `SELECT a, b FROM ...` row carries."""
        wanted = {n.lower() for n in names} | {k.lower() for k in self.cls.keys}
        return Instance.trusted(
            self.cls, {k: v for k, v in self._values.items() if k in wanted}, self.server
        )

    def to_xml(self) -> str:
        from hyperv_emulator.cimxml import to_cimxml

        return to_cimxml(self)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Instance)
            and other.cls.name == self.cls.name
            and other._values == self._values
        )

    __hash__ = None  # type: ignore[assignment]  (mutable: compare, don't hash)

    def __repr__(self) -> str:
        try:
            return f"<Instance {self.path}>"
        except CimError:
            return f"<Instance of {self.cls.name}>"
