"""What a provider is: a function that gives one CIM method its Hyper-V semantics.

Providers are registered per class and method (`@method("Msvm_X", "DoIt")`) and found
through the target's class chain, so a method declared on a superclass can be served
once. Each call runs inside one write transaction; a provider reads and changes the
host through `Ctx`, sets output parameters with `ctx.output(...)` and returns the
ReturnValue. It says no by raising `Refused`: everything it changed is rolled back,
and the client gets either the code synchronously or, for methods with a Job output,
4096 and a job that ends in state 10 carrying the code, the way Hyper-V reports
failed adds and modifies. Later parts of the emulator (storage, security, devices,
runtime rules) add providers, device kinds and hooks here without touching the engine.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hyperv_emulator.cimxml import from_cimxml
from hyperv_emulator.errors import CimError
from hyperv_emulator.instances import Instance
from hyperv_emulator.paths import ObjectPath
from hyperv_emulator.profiles import HostProfile
from hyperv_emulator.schema.model import NS_VIRTUALIZATION, Method, Registry, ResolvedClass
from hyperv_emulator.store import INDEXED, Txn
from hyperv_emulator.wql import Hint

# Return codes used across providers (reference notes §1.2).
COMPLETED = 0
NOT_SUPPORTED = 1
FAILED_DMTF = 2
INVALID_PARAMETER_DMTF = 4
INVALID_STATE_DMTF = 5
JOB_STARTED = 4096
FAILED = 32768
ACCESS_DENIED = 32769
NOT_SUPPORTED_VENDOR = 32770
INVALID_PARAMETER = 32773
SYSTEM_IN_USE = 32774
INVALID_STATE = 32775
OUT_OF_MEMORY = 32778
FILE_NOT_FOUND = 32779


class Refused(Exception):
    """The method ran and Hyper-V says no; `code` is the ReturnValue or job ErrorCode.

    `job=None` lets the engine decide: a method with a Job output fails as a job
    (4096, state 10), one without returns the code directly.
    """

    def __init__(
        self,
        code: int,
        message: str,
        *,
        job: bool | None = None,
        job_type: int | None = None,
        affected: Iterable[Instance] = (),
        subject: str = "",
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.job = job
        self.job_type = job_type
        self.affected = list(affected)
        self.subject = subject


@dataclass(frozen=True)
class HostSettings:
    """Knobs of the emulated host (kept in the state file, shared by every process)."""

    job_polls: int = 0  # polls a job reports Running before it finishes (-1: until killed)
    latency_ms: float = 0.0  # added to every round trip
    unique_vm_names: bool = False  # opt-in: refuse a second VM with the same ElementName

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> HostSettings:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in (data or {}).items() if k in known})


class Args:
    """Method inputs, by case-insensitive name (absent and NULL read the same)."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = {k.lower(): v for k, v in values.items()}

    def get(self, name: str, default: Any = None) -> Any:
        value = self._values.get(name.lower())
        return default if value is None else value

    def given(self, name: str) -> bool:
        return self._values.get(name.lower()) is not None


Provider = Callable[["Ctx", Instance | None, Args], int]
Continuation = Callable[["Ctx", dict[str, Any]], None]
ReadHook = Callable[["Ctx", Instance], None]

_METHODS: dict[tuple[str, str], Provider] = {}
# Run before every provider, inside its transaction but before the call's savepoint:
# a hook may raise Refused (a fault injected by a test) or change what the provider
# will see, and what it writes stays even when the call is refused (a fault's count).
CallHook = Callable[["Ctx", ResolvedClass, Method, Instance | None, "Args"], None]
CALL_HOOKS: list[CallHook] = []
# Run in the calling process after a write transaction committed, with the host and
# the transaction's notes (`Txn.notes`): work outside the state file, such as the
# serial endpoints of a VM that started. Only called when the notes are not empty.
AfterCommitHook = Callable[[Any, dict[str, Any]], None]
AFTER_COMMIT_HOOKS: list[AfterCommitHook] = []
# Run when a process opens a session on a host (taking over what another process
# left behind, such as the endpoints of running VMs whose server has gone).
SessionHook = Callable[[Any], None]
SESSION_HOOKS: list[SessionHook] = []
CONTINUATIONS: dict[str, Continuation] = {}
CANCELLERS: dict[str, Continuation] = {}
READ_HOOKS: dict[str, ReadHook] = {}


def method(class_name: str, method_name: str) -> Callable[[Provider], Provider]:
    def register(fn: Provider) -> Provider:
        _METHODS[(class_name.lower(), method_name.lower())] = fn
        return fn

    return register


def continuation(name: str, cancel: Continuation | None = None) -> Callable[
        [Continuation], Continuation]:
    """Work a job finishes later (when job_polls > 0), by name so any process can run it."""

    def register(fn: Continuation) -> Continuation:
        CONTINUATIONS[name] = fn
        if cancel is not None:
            CANCELLERS[name] = cancel
        return fn

    return register


def read_hook(class_name: str) -> Callable[[ReadHook], ReadHook]:
    """Values computed when an instance is read (uptime and the like)."""

    def register(fn: ReadHook) -> ReadHook:
        READ_HOOKS[class_name.lower()] = fn
        return fn

    return register


def after_commit(host: Any, notes: dict[str, Any]) -> None:
    """Run the after-commit hooks for a committed transaction's notes (if any)."""
    if notes:
        for hook in AFTER_COMMIT_HOOKS:
            hook(host, notes)


def find_provider(cls: ResolvedClass, method_name: str) -> Provider | None:
    for name in cls.chain:
        found = _METHODS.get((name.lower(), method_name.lower()))
        if found is not None:
            return found
    return None


@dataclass
class Ctx:
    """A provider's view of the host during one method call (one transaction)."""

    txn: Txn
    profile: HostProfile
    settings: HostSettings
    method: Method | None = None
    outputs: dict[str, Any] = field(default_factory=dict)

    @property
    def registry(self) -> Registry:
        return self.txn.registry

    @property
    def hostname(self) -> str:
        return self.txn.server

    @property
    def build(self) -> int:
        return self.txn.registry.build

    # classes and instances
    def cls(self, name: str, namespace: str = NS_VIRTUALIZATION) -> ResolvedClass:
        resolved = self.registry.get(name, namespace)
        if resolved is None:
            raise KeyError(f"class {name} is not defined for build {self.build}")
        return resolved

    def has_class(self, name: str, namespace: str = NS_VIRTUALIZATION) -> bool:
        return self.registry.get(name, namespace) is not None

    def new(self, class_name: str, namespace: str = NS_VIRTUALIZATION, **values: Any) -> Instance:
        """An instance with the given values; names the class lacks on this build are skipped.

        Skipping keeps one provider correct on every build (a 9600 host has no
        `SecureBootTemplateId`), while a *client* naming an unknown property is refused
        by `Instance` itself.
        """
        instance = Instance(self.cls(class_name, namespace), server=self.hostname)
        self.set(instance, **values)
        return instance

    def set(self, instance: Instance, **values: Any) -> None:
        """Assign values, skipping properties this build lacks (but not misspelt ones)."""
        for name, value in values.items():
            if name in instance:
                instance[name] = value
            elif name.lower() not in _names_on_any_build(self.registry, instance.cls):
                raise KeyError(f"{instance.class_name} has no property {name} on any build")

    def path(self, instance: Instance) -> str:
        instance.server = self.hostname
        return str(instance.path)

    def get(self, path: str | ObjectPath) -> Instance | None:
        try:
            found = self.txn.get(path)
        except CimError:
            return None
        return found

    def query(
        self,
        class_name: str,
        namespace: str = NS_VIRTUALIZATION,
        *,
        vm: str | None = None,
        hint: tuple[str, str, Any] | None = None,
        where: Callable[[Instance], bool] | None = None,
    ) -> list[Instance]:
        """Instances of a class and its subclasses, in creation order.

        `hint` is ("eq", prop, value) or ("prefix", prop, text), compared
        case-insensitively; it uses an index when the store keeps one for that
        property and filters otherwise, so it is always safe to give.
        """
        classes = self.registry.subclasses(class_name, namespace)
        index = None
        check: Callable[[Instance], bool] | None = None
        if hint is not None:
            kind, prop_name, value = hint
            prop = self.cls(class_name, namespace).prop(prop_name)
            if prop is None:
                raise KeyError(f"{class_name} has no property {prop_name}")
            lowered = prop.name.lower()
            if prop.key or prop.type == "ref" or lowered in INDEXED:
                index = Hint(kind, lowered, value, prop)
            else:
                wanted = str(value).lower()
                if kind == "eq":
                    def check(i: Instance) -> bool:
                        return str(i.raw.get(lowered, "")).lower() == wanted
                else:
                    def check(i: Instance) -> bool:
                        return str(i.raw.get(lowered, "")).lower().startswith(wanted)
        found = self.txn.select(classes, index, vm=vm)
        return [
            i for i in found
            if (check is None or check(i)) and (where is None or where(i))
        ]

    def create(self, instance: Instance, vm: str | None = None) -> Instance:
        return self.txn.create(instance, vm=vm)

    def save(self, instance: Instance) -> Instance:
        return self.txn.save(instance)

    def delete(self, instance: Instance | str) -> bool:
        return self.txn.delete(instance)

    def link(self, assoc_class: str, vm: str | None = None, **ends: Any) -> Instance:
        """Create an association between instances (or paths) named by their roles."""
        values = {
            role: self.path(end) if isinstance(end, Instance) else end
            for role, end in ends.items()
        }
        return self.create(self.new(assoc_class, **values), vm=vm)

    def decode(self, text: str, namespace: str = NS_VIRTUALIZATION) -> Instance:
        return from_cimxml(text, self.registry, namespace)

    def aux(self, instance: Instance) -> dict[str, Any]:
        return self.txn.aux(instance)

    def set_aux(self, instance: Instance, data: dict[str, Any]) -> None:
        self.txn.set_aux(instance, data)

    # outputs
    def output(self, name: str, value: Any) -> None:
        self.outputs[name] = value


_ANY_BUILD: dict[tuple[int, str], frozenset[str]] = {}


def _names_on_any_build(registry: Registry, cls: ResolvedClass) -> frozenset[str]:
    key = (id(registry), cls.name.lower())
    found = _ANY_BUILD.get(key)
    if found is None:
        chain = {name.lower() for name in cls.chain}
        found = frozenset(
            prop.name.lower()
            for definition in registry.definitions()
            if definition.name.lower() in chain
            for prop in definition.props
        )
        _ANY_BUILD[key] = found
    return found


def new_guid() -> str:
    return str(uuid.uuid4()).upper()
