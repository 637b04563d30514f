"""A client's connection to an emulated host: query, get, invoke, and the counters.

This is the public in-process API (the Nova driver's emulated CimSession adapter and
the PyMI-compatible `wmi` facade both sit on it). Each call is one round trip and
one transaction:

- `query(wql, namespace)`: SELECT / ASSOCIATORS OF / REFERENCES OF -> list[Instance]
- `get(path)`: one instance by object path (WBEM_E_NOT_FOUND when absent); reading a
  running job is a job poll and may advance it
- `invoke(target, method, **inputs)`: a CIM method on an instance path (or on a class
  path for static methods) -> MethodResult with ReturnValue and the outputs
- `associators(path, ...)` / `references(path, ...)`: the same as the WQL forms

plus `new_instance(class)` (local, no round trip) to build embedded instances, and
`counters` / `operation(name)` / `latency_ms` for round-trip accounting.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hyperv_emulator import jobs, store, wql
from hyperv_emulator.cimtypes import coerce
from hyperv_emulator.counters import Counters, RoundTrips
from hyperv_emulator.errors import (
    WBEM_E_INVALID_METHOD,
    WBEM_E_INVALID_NAMESPACE,
    WBEM_E_INVALID_PARAMETER,
    WBEM_E_NOT_SUPPORTED,
    CimError,
    invalid_class,
    invalid_query,
    not_found,
)
from hyperv_emulator.instances import Instance
from hyperv_emulator.paths import ObjectPath, normalize_namespace, parse_path
from hyperv_emulator.providers import base
from hyperv_emulator.schema.model import NS_VIRTUALIZATION, Method, Param, Prop, ResolvedClass

if TYPE_CHECKING:
    from hyperv_emulator.host import Host

# JobType of a job that reports a refused call, by method (reference notes §2.16).
_FAILED_JOB_TYPES = {
    "definesystem": 1,
    "modifysystemsettings": 2,
    "destroysystem": 3,
    "modifyservicesettings": 4,
    "addresourcesettings": 30,
    "modifyresourcesettings": 31,
    "removeresourcesettings": 32,
    "addfeaturesettings": 30,
    "modifyfeaturesettings": 31,
    "removefeaturesettings": 32,
}


_PATH_PROP = Prop("__PATH", "ref", ref_class="CIM_ManagedElement")


@dataclass
class MethodResult:
    """What a method returned: ReturnValue and every output parameter (None if unset)."""

    return_value: int
    outputs: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Any:
        if name.lower() == "returnvalue":
            return self.return_value
        for key, value in self.outputs.items():
            if key.lower() == name.lower():
                return value
        raise KeyError(name)

    @property
    def job(self) -> str | None:
        return self.outputs.get("Job")


class Session:
    def __init__(self, host: Host, *, latency_ms: float | None = None) -> None:
        self.host = host
        self._conn = store.connect(host.path)
        self._lock = threading.RLock()
        self.counters = Counters()
        self.latency_ms = host.settings.latency_ms if latency_ms is None else latency_ms
        for hook in base.SESSION_HOOKS:
            hook(host)

    # -- housekeeping ------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def operation(self, name: str) -> Any:
        """`with session.operation("spawn") as stats:` counts round trips under a name."""
        return self.counters.operation(name)

    @property
    def round_trips(self) -> RoundTrips:
        return self.counters.total

    def _round_trip(self, kind: str) -> None:
        self.counters.count(kind)
        if self.latency_ms:
            time.sleep(self.latency_ms / 1000.0)

    @contextmanager
    def _txn(self, write: bool) -> Iterator[store.Txn]:
        with self._lock, store.transaction(
            self._conn, self.host.registry, self.host.hostname, write
        ) as txn:
            yield txn

    def _ctx(self, txn: store.Txn, method: Method | None = None) -> base.Ctx:
        settings = base.HostSettings.from_mapping(txn.meta("settings"))
        return base.Ctx(txn, self.host.profile, settings, method)

    # -- schema ------------------------------------------------------------------

    def _namespace(self, namespace: str | None) -> str:
        ns = normalize_namespace(namespace or NS_VIRTUALIZATION)
        if ns not in self.host.namespaces():
            raise CimError(WBEM_E_INVALID_NAMESPACE, f"namespace {namespace} does not exist")
        return ns

    def get_class(self, name: str, namespace: str = NS_VIRTUALIZATION) -> ResolvedClass:
        """A class definition; WBEM_E_NOT_FOUND if this host has no such class."""
        ns = self._namespace(namespace)
        cls = self.host.registry.get(name, ns)
        if cls is None:
            raise not_found(f"class {name} in namespace {namespace}")
        return cls

    def new_instance(self, class_name: str, namespace: str = NS_VIRTUALIZATION) -> Instance:
        """An empty instance to fill and pass as an embedded instance (no round trip)."""
        cls = self.get_class(class_name, namespace)
        return Instance(cls, server=self.host.hostname)

    # -- reading -----------------------------------------------------------------

    def query(self, text: str, namespace: str = NS_VIRTUALIZATION) -> list[Instance]:
        self._round_trip("queries")
        ns = self._namespace(namespace)
        parsed = wql.parse(text)
        if isinstance(parsed, wql.Select):
            return self._select(parsed, ns)
        if isinstance(parsed, wql.Associators):
            return self._associators(parsed.path, ns, parsed.assoc_class, parsed.result_class,
                                     parsed.role, parsed.result_role, text)
        return self._references(parsed.path, ns, parsed.result_class, parsed.role, text)

    def _select(self, query: wql.Select, ns: str) -> list[Instance]:
        if query.class_name.startswith("__"):
            raise CimError(
                WBEM_E_NOT_SUPPORTED,
                f"{query.class_name}: event queries are served by watch_for, not query",
            )
        cls = self.host.registry.get(query.class_name, ns)
        if cls is None:
            raise invalid_class(query.class_name, ns)
        if query.within is not None:
            raise invalid_query(query.text, "WITHIN belongs to event queries")
        wql.check_select(query, cls)
        classes = self.host.registry.subclasses(cls.name, ns)
        hint = _best_hint(wql.hints(query.where, cls))
        with self._txn(write=False) as txn:
            found = txn.select(classes, hint)
            ctx = self._ctx(txn)
            result = []
            for instance in found:
                _read_hooks(ctx, instance)
                if query.where is None or _matches(query.where, instance, self.host, query.text):
                    result.append(instance.project(query.props) if query.props else instance)
        return result

    def _snapshot(self, cls: ResolvedClass) -> list[Instance]:
        """Every instance of a class as stored, uncounted: event polling is server-side."""
        with self._txn(write=False) as txn:
            return txn.select(self.host.registry.subclasses(cls.name, cls.namespace))

    def get(self, path: str | ObjectPath) -> Instance:
        parsed = parse_path(path) if isinstance(path, str) else path
        is_job = parsed.class_name.lower() == "msvm_concretejob"
        self._round_trip("job_polls" if is_job else "gets")
        ns = self._namespace(parsed.namespace)
        cls = self.host.registry.get(parsed.class_name, ns)
        if cls is None:
            raise invalid_class(parsed.class_name, ns)
        if parsed.is_class:
            raise CimError(WBEM_E_INVALID_PARAMETER, f"{parsed} names a class, not an instance")
        located = parsed.with_namespace(ns)
        with self._txn(write=False) as txn:
            found = txn.get(located)
            if found is None:
                raise not_found(str(path))
            ctx = self._ctx(txn)
            pending = cls.is_a("CIM_ConcreteJob") and jobs.is_pending(ctx, found)
            if not pending:
                _read_hooks(ctx, found)
                return found
        with self._txn(write=True) as txn:
            found = txn.get(located)
            if found is None:
                raise not_found(str(path))
            ctx = self._ctx(txn)
            jobs.advance(ctx, found)
        base.after_commit(self.host, txn.notes)
        return found

    def associators(
        self,
        path: str | ObjectPath,
        *,
        assoc_class: str | None = None,
        result_class: str | None = None,
        role: str | None = None,
        result_role: str | None = None,
    ) -> list[Instance]:
        self._round_trip("queries")
        parsed = parse_path(path) if isinstance(path, str) else path
        ns = self._namespace(parsed.namespace)
        return self._associators(str(parsed), ns, assoc_class, result_class, role, result_role,
                                 f"ASSOCIATORS OF {{{parsed}}}")

    def references(
        self,
        path: str | ObjectPath,
        *,
        result_class: str | None = None,
        role: str | None = None,
    ) -> list[Instance]:
        self._round_trip("queries")
        parsed = parse_path(path) if isinstance(path, str) else path
        ns = self._namespace(parsed.namespace)
        return self._references(str(parsed), ns, result_class, role,
                                f"REFERENCES OF {{{parsed}}}")

    def _links(self, txn: store.Txn, text_path: str, ns: str, assoc_class: str | None,
               role: str | None, text: str) -> tuple[ObjectPath, list[tuple[Instance, str]]]:
        source = parse_path(text_path)
        source = source.with_namespace(source.namespace or ns)
        registry = self.host.registry
        source_cls = registry.get(source.class_name, source.namespace or ns)
        if source_cls is None:
            raise invalid_class(source.class_name, ns)
        if assoc_class is not None and registry.get(assoc_class, ns) is None:
            raise invalid_query(text, f"{assoc_class} is not a class")
        if txn.get(source) is None:
            raise not_found(text_path)
        key = store.path_key(source, source_cls)
        links = []
        for assoc in txn.referencing(source, source_cls):
            if not assoc.cls.definition.association:
                continue
            if assoc_class is not None and not assoc.is_a(assoc_class):
                continue
            for name, prop in assoc.cls.props.items():
                if prop.type != "ref" or assoc.raw.get(name) is None:
                    continue
                if store.index_value(prop, assoc.raw[name]) != key:
                    continue
                if role is not None and role.lower() != name:
                    continue
                links.append((assoc, name))
        return source, links

    def _associators(self, text_path: str, ns: str, assoc_class: str | None,
                     result_class: str | None, role: str | None, result_role: str | None,
                     text: str) -> list[Instance]:
        if result_class is not None and self.host.registry.get(result_class, ns) is None:
            raise invalid_query(text, f"{result_class} is not a class")
        with self._txn(write=False) as txn:
            _, links = self._links(txn, text_path, ns, assoc_class, role, text)
            ctx = self._ctx(txn)
            seen: set[str] = set()
            result = []
            for assoc, source_role in links:
                for name, prop in assoc.cls.props.items():
                    if prop.type != "ref" or name == source_role:
                        continue
                    if result_role is not None and result_role.lower() != name:
                        continue
                    target_path = assoc.raw.get(name)
                    if target_path is None:
                        continue
                    other = txn.get(target_path)
                    if other is None:
                        continue
                    if result_class is not None and not other.is_a(result_class):
                        continue
                    identity = store.instance_key(other)
                    if identity in seen:
                        continue
                    seen.add(identity)
                    _read_hooks(ctx, other)
                    result.append(other)
        return result

    def _references(self, text_path: str, ns: str, result_class: str | None,
                    role: str | None, text: str) -> list[Instance]:
        with self._txn(write=False) as txn:
            _, links = self._links(txn, text_path, ns, result_class, role, text)
            result: list[Instance] = []
            seen: set[str] = set()
            for assoc, _ in links:
                identity = store.instance_key(assoc)
                if identity not in seen:
                    seen.add(identity)
                    result.append(assoc)
        return result

    # -- methods -----------------------------------------------------------------

    def invoke(self, target: str | ObjectPath | Instance, method_name: str, /,
               **inputs: Any) -> MethodResult:
        """Call a method; `target` is an instance path (or a class path if static)."""
        self._round_trip("calls")
        if isinstance(target, Instance):
            path = target.path
        elif isinstance(target, str):
            path = parse_path(target)
        else:
            path = target
        ns = self._namespace(path.namespace)
        cls = self.host.registry.get(path.class_name, ns)
        if cls is None:
            raise invalid_class(path.class_name, ns)
        method = cls.method(method_name)
        if method is None:
            raise CimError(WBEM_E_INVALID_METHOD, f"{cls.name} has no method {method_name}")
        if path.is_class and not method.static:
            raise CimError(
                WBEM_E_INVALID_METHOD,
                f"{cls.name}.{method.name} is not static: call it on an instance",
            )
        args = _coerce_inputs(cls, method, inputs)
        provider = base.find_provider(cls, method.name)
        if provider is None:
            raise CimError(
                WBEM_E_NOT_SUPPORTED,
                f"the emulated host does not implement {cls.name}.{method.name}",
            )
        with self._txn(write=True) as txn:
            txn.purge_expired()
            ctx = self._ctx(txn, method)
            instance = None
            if not path.is_class:
                instance = txn.get(path.with_namespace(ns))
                if instance is None:
                    raise not_found(str(path))
            code = _run(ctx, provider, cls, instance, method, args)
        base.after_commit(self.host, txn.notes)
        if code == base.JOB_STARTED and not method.has_job:
            raise RuntimeError(f"{cls.name}.{method.name} has no Job output but returned 4096")
        outputs = {p.name: _output(ctx.outputs, p) for p in method.params if p.is_output}
        return MethodResult(code, outputs)


def _run(ctx: base.Ctx, provider: base.Provider, cls: ResolvedClass, instance: Instance | None,
         method: Method, args: base.Args) -> int:
    conn = ctx.txn.conn
    injected = None
    try:
        for hook in base.CALL_HOOKS:  # before the savepoint: what a hook writes stays
            hook(ctx, cls, method, instance, args)
    except base.Refused as refusal:
        injected = refusal
    conn.execute("SAVEPOINT call")
    try:
        if injected is not None:
            raise injected
        code = provider(ctx, instance, args)
    except base.Refused as refusal:
        conn.execute("ROLLBACK TO call")
        ctx.outputs.clear()
        as_job = method.has_job if refusal.job is None else (refusal.job and method.has_job)
        if not as_job:
            code = refusal.code
        else:
            job_type = refusal.job_type or _FAILED_JOB_TYPES.get(method.name.lower(), 0)
            affected = [a for a in refusal.affected if ctx.txn.get(a.path) is not None]
            jobs.start_job(ctx, job_type, affected, failure=refusal, subject=refusal.subject)
            code = base.JOB_STARTED
    conn.execute("RELEASE call")
    return code


def _output(outputs: Mapping[str, Any], param: Param) -> Any:
    for key, value in outputs.items():
        if key.lower() == param.name.lower():
            return value
    return None


def _coerce_inputs(cls: ResolvedClass, method: Method, inputs: Mapping[str, Any]) -> base.Args:
    values: dict[str, Any] = {}
    for name, value in inputs.items():
        param = method.param(name)
        if param is None or not param.is_input:
            known = ", ".join(p.name for p in method.params if p.is_input) or "none"
            raise CimError(
                WBEM_E_INVALID_PARAMETER,
                f"{cls.name}.{method.name} has no input parameter {name!r} (inputs: {known})",
            )
        where = f"{cls.name}.{method.name}({param.name})"
        values[param.name] = _coerce_param(param, value, where)
    return base.Args(values)


def _coerce_param(param: Param, value: Any, where: str) -> Any:
    if value is None:
        return None
    if param.type == "string" and param.embedded:
        if param.array:
            if isinstance(value, (str, Instance)) or not isinstance(value, (list, tuple)):
                return coerce("string", True, value, where)
            return tuple(v.to_xml() if isinstance(v, Instance) else v for v in value)
        return value.to_xml() if isinstance(value, Instance) else coerce("string", False,
                                                                          value, where)
    return coerce(param.type, param.array, value, where)


def _best_hint(found: list[wql.Hint]) -> wql.Hint | None:
    def rank(hint: wql.Hint) -> int:
        """Most selective first: a path, a key, an ID, a reference, a name, a subtype."""
        if hint.kind == "path":
            return 0
        prop = hint.prop_def
        assert prop is not None
        if hint.kind == "eq":
            if prop.key:
                return 1
            if hint.prop in ("instanceid", "name"):
                return 2
            if prop.type == "ref":
                return 3
            return 6 if hint.prop == "resourcesubtype" else 4
        return 5  # an InstanceID prefix or suffix: one VM's devices, or the templates

    usable = [
        h for h in found
        if h.kind == "path"
        or (h.kind == "suffix" and h.prop in store.REVERSED)
        or (h.kind != "suffix" and h.prop_def is not None
            and (h.prop_def.key or h.prop_def.type == "ref" or h.prop in store.INDEXED))
    ]
    return min(usable, key=rank) if usable else None


def _matches(expr: wql.Expr, instance: Instance, host: Host, text: str) -> bool:
    def resolve(name: wql.Name) -> tuple[Any, Any]:
        lowered = name.parts[0].lower()
        if lowered in wql.SYSTEM_PROPERTIES:
            typed = _PATH_PROP if lowered == "__path" else None
            return _system_property(instance, lowered), typed
        prop = instance.cls.props.get(lowered)
        return instance.raw.get(lowered), prop

    def isa(value: Any, class_name: str) -> bool:
        if isinstance(value, Instance):
            return value.is_a(class_name)
        if isinstance(value, str):
            if value.lower() == instance.class_name.lower():
                return instance.is_a(class_name)
            try:
                target = parse_path(value)
            except CimError:
                return False
            cls = host.registry.get(target.class_name, target.namespace or instance.namespace)
            return cls is not None and cls.is_a(class_name)
        return False

    return wql.evaluate(expr, resolve, isa, text)


def _system_property(instance: Instance, name: str) -> Any:
    if name == "__path":
        return str(instance.path)
    if name == "__relpath":
        return instance.path.relpath
    if name in ("__class", "__this"):
        return instance.class_name
    if name == "__server":
        return instance.server
    if name == "__namespace":
        return instance.namespace
    if name == "__genus":
        return 2
    if name == "__superclass":
        return instance.cls.definition.superclass
    if name == "__dynasty":
        return instance.cls.chain[-1]
    return None


def _read_hooks(ctx: base.Ctx, instance: Instance) -> None:
    for name in instance.cls.chain:
        hook = base.READ_HOOKS.get(name.lower())
        if hook is not None:
            hook(ctx, instance)
            return
