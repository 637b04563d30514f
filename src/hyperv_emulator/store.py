"""The host's state: one SQLite file, every instance one row, indexes for WQL.

Why SQLite: the Nova driver, the CLI and a test may all open one emulated host at
the same time from different processes, and each CIM operation must be atomic the
way a real host's is. So every operation is one transaction (`BEGIN IMMEDIATE` when
it writes, which serializes writers across processes; WAL lets readers go on), and
nothing is kept in memory between operations except what cannot change (the schema).

Rows hold the instance's values as JSON. Queries stay fast at thousands of VMs
because the conjuncts clients actually send are answered by indexes: the class
(`cls`), the key path (`key`), the owning VM (`vm`), and `idx`, which holds the
case-folded value of the properties clients filter on (InstanceID, ElementName,
Parent, SystemName, every key and every reference of an association). An
`InstanceID LIKE 'Microsoft:<GUID>%'` becomes a range scan on `idx`.

Associations are rows too; deleting an instance deletes every association that
points at it, which is how WMI keeps references from dangling.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hyperv_emulator.errors import WBEM_E_ALREADY_EXISTS, CimError
from hyperv_emulator.instances import Instance
from hyperv_emulator.paths import ObjectPath, parse_path
from hyperv_emulator.schema.model import Prop, Registry, ResolvedClass
from hyperv_emulator.wql import Hint

FORMAT = 1

# Properties clients filter on, besides keys and references (lower case).
INDEXED = frozenset(
    {
        "instanceid", "elementname", "name", "systemname", "deviceid", "parent",
        "resourcesubtype", "virtualsystemtype", "configurationid", "drivenumber",
    }
)
_TOP = "\U0010ffff"
# Properties whose reversed value is indexed too, for LIKE '%suffix' (os-win finds
# every template with InstanceID LIKE '%\\Default').
REVERSED = frozenset({"instanceid"})

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS inst (
    id INTEGER PRIMARY KEY,
    ns TEXT NOT NULL,
    cls TEXT NOT NULL,
    key TEXT NOT NULL,
    vm TEXT,
    expires REAL,
    data TEXT NOT NULL,
    aux TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS inst_key ON inst(key);
CREATE INDEX IF NOT EXISTS inst_cls ON inst(ns, cls, id);
CREATE INDEX IF NOT EXISTS inst_vm ON inst(vm) WHERE vm IS NOT NULL;
CREATE INDEX IF NOT EXISTS inst_expires ON inst(expires) WHERE expires IS NOT NULL;
CREATE TABLE IF NOT EXISTS idx (
    inst INTEGER NOT NULL,
    prop TEXT NOT NULL,
    val TEXT NOT NULL,
    ref INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS idx_val ON idx(prop, val);
CREATE INDEX IF NOT EXISTS idx_inst ON idx(inst);
CREATE INDEX IF NOT EXISTS idx_ref ON idx(val) WHERE ref > 0;
"""


def connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(
        str(path), timeout=60.0, isolation_level=None, check_same_thread=False
    )
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=OFF")
    return conn


def create_schema(conn: sqlite3.Connection) -> None:
    conn.executescript(_SCHEMA)


# -- value encoding -----------------------------------------------------------------


def _encode(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_encode(v) for v in value]
    if isinstance(value, Instance):
        return {"$class": value.class_name, "$ns": value.namespace,
                "v": {k: _encode(v) for k, v in value.raw.items()}}
    return value


def _decode(value: Any, registry: Registry, server: str | None) -> Any:
    if isinstance(value, list):
        return tuple(_decode(v, registry, server) for v in value)
    if isinstance(value, dict) and "$class" in value:
        cls = registry.get(value["$class"], value["$ns"])
        if cls is None:
            return None
        return Instance.trusted(
            cls, {k: _decode(v, registry, server) for k, v in value["v"].items()}, server
        )
    return value


def digest(normalized: str) -> str:
    """Keys and references are long paths; rows and indexes hold a 128-bit digest."""
    return hashlib.blake2b(normalized.encode(), digest_size=16).hexdigest()


def path_text_key(text: str) -> str | None:
    """The identity of an object path string (None if it is not one)."""
    try:
        return digest(parse_path(text).key())
    except CimError:
        return None


def index_value(prop: Prop, value: Any) -> str:
    """The case-folded text `idx` holds for a value (and a hint is compared with)."""
    if prop.type == "ref":
        return path_text_key(str(value)) or digest(str(value).lower())
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).lower()


def instance_key(instance: Instance) -> str:
    refs = [p.name for p in instance.cls.props.values() if p.type == "ref" and p.key]
    return digest(instance.path.key(refs))


def path_key(path: ObjectPath, cls: ResolvedClass) -> str:
    refs = [p.name for p in cls.props.values() if p.type == "ref" and p.key]
    return digest(path.key(refs))


def _index_rows(instance: Instance) -> list[tuple[str, str, int]]:
    # `ref` is 1 for a reference property, 2 for one of an association (whose
    # instance goes away with the object it points at).
    ref_kind = 2 if instance.cls.definition.association else 1
    rows = []
    for lowered, value in instance.raw.items():
        if value is None:
            continue
        prop = instance.cls.props[lowered]
        if prop.array:
            continue
        if prop.type == "ref" or prop.key or lowered in INDEXED:
            text = index_value(prop, value)
            rows.append((lowered, text, ref_kind if prop.type == "ref" else 0))
            if lowered in REVERSED:
                rows.append((lowered + "~", text[::-1], 0))
    return rows


# -- transactions -------------------------------------------------------------------


class Txn:
    """One transaction on the host file; the providers' and the session's only door."""

    def __init__(self, conn: sqlite3.Connection, registry: Registry, server: str,
                 writable: bool) -> None:
        self.conn = conn
        self.registry = registry
        self.server = server
        self.writable = writable
        # What this transaction did that matters after it commits (the after-commit
        # hooks of providers.base read it: a VM whose serial endpoints must change).
        self.notes: dict[str, Any] = {}

    # meta
    def meta(self, name: str, default: Any = None) -> Any:
        row = self.conn.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return default if row is None else json.loads(row[0])

    def set_meta(self, name: str, value: Any) -> None:
        self.conn.execute(
            "INSERT INTO meta(name, value) VALUES (?, ?) "
            "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
            (name, json.dumps(value)),
        )

    # reading
    def _row_instance(self, ns: str, cls_name: str, data: str) -> Instance | None:
        cls = self.registry.get(cls_name, ns)
        if cls is None:
            return None
        values = {k: _decode(v, self.registry, self.server) for k, v in json.loads(data).items()}
        return Instance.trusted(cls, values, self.server)

    def get(self, path: ObjectPath | str) -> Instance | None:
        if isinstance(path, str):
            path = parse_path(path)
        ns = path.namespace or ""
        cls = self.registry.get(path.class_name, ns)
        if cls is None:
            return None
        row = self.conn.execute(
            "SELECT ns, cls, data FROM inst WHERE key = ?", (path_key(path, cls),)
        ).fetchone()
        if row is None:
            return None
        return self._row_instance(*row)

    def select(
        self,
        classes: list[ResolvedClass],
        hint: Hint | None = None,
        vm: str | None = None,
    ) -> list[Instance]:
        """Instances of these exact classes, in creation order, narrowed by an index."""
        if not classes:
            return []
        ns = classes[0].namespace.replace("\\", "/").lower()
        names = [c.name.lower() for c in classes]
        marks = ",".join("?" * len(names))
        sql = f"SELECT ns, cls, data FROM inst WHERE ns = ? AND cls IN ({marks})"
        args: list[Any] = [ns, *names]
        if vm is not None:
            sql += " AND vm = ?"
            args.append(vm.upper())
        if hint is not None:
            if hint.kind == "path":
                try:
                    target = parse_path(str(hint.value))
                except CimError:
                    return []
                keys = {path_key(target.with_namespace(target.namespace or ns), c)
                        for c in classes}
                sql += f" AND key IN ({','.join('?' * len(keys))})"
                args.extend(keys)
            elif hint.kind == "eq":
                assert hint.prop_def is not None
                try:
                    wanted = index_value(hint.prop_def, _hint_literal(hint))
                except (TypeError, ValueError):
                    return []
                sql += " AND id IN (SELECT inst FROM idx WHERE prop = ? AND val = ?)"
                args.extend((hint.prop, wanted))
            elif hint.kind == "suffix" and hint.prop in REVERSED:
                low = str(hint.value).lower()[::-1]
                sql += " AND id IN (SELECT inst FROM idx WHERE prop = ? AND val >= ? AND val < ?)"
                args.extend((hint.prop + "~", low, low + _TOP))
            elif hint.kind == "prefix":
                low = str(hint.value).lower()
                sql += " AND id IN (SELECT inst FROM idx WHERE prop = ? AND val >= ? AND val < ?)"
                args.extend((hint.prop, low, low + _TOP))
        sql += " ORDER BY id"
        found = []
        for row in self.conn.execute(sql, args):
            instance = self._row_instance(*row)
            if instance is not None:
                found.append(instance)
        return found

    def referencing(self, target: ObjectPath | str, cls: ResolvedClass | None = None) -> list[
            Instance]:
        """Every instance with a reference property that points at `target`."""
        key = _target_key(self, target, cls)
        rows = self.conn.execute(
            "SELECT i.ns, i.cls, i.data FROM inst i WHERE i.id IN "
            "(SELECT inst FROM idx WHERE ref > 0 AND val = ?) ORDER BY i.id",
            (key,),
        )
        return [i for i in (self._row_instance(*r) for r in rows) if i is not None]

    # writing
    def _require_write(self) -> None:
        if not self.writable:
            raise RuntimeError("a read transaction cannot change the host")

    def create(self, instance: Instance, vm: str | None = None,
               expires: float | None = None) -> Instance:
        self._require_write()
        instance.server = self.server
        key = instance_key(instance)
        data = json.dumps({k: _encode(v) for k, v in instance.raw.items()})
        try:
            cursor = self.conn.execute(
                "INSERT INTO inst(ns, cls, key, vm, expires, data) VALUES (?, ?, ?, ?, ?, ?)",
                (instance.namespace.replace("\\", "/").lower(), instance.class_name.lower(),
                 key, vm.upper() if vm else None, expires, data),
            )
        except sqlite3.IntegrityError:
            raise CimError(WBEM_E_ALREADY_EXISTS, f"{instance.path} already exists") from None
        row_id = cursor.lastrowid
        self.conn.executemany(
            "INSERT INTO idx(inst, prop, val, ref) VALUES (?, ?, ?, ?)",
            [(row_id, p, v, r) for p, v, r in _index_rows(instance)],
        )
        return instance

    def save(self, instance: Instance) -> Instance:
        """Write back an instance that exists (found by its key path)."""
        self._require_write()
        key = instance_key(instance)
        row = self.conn.execute("SELECT id FROM inst WHERE key = ?", (key,)).fetchone()
        if row is None:
            raise CimError(0x80041002, f"{instance.path} does not exist")
        row_id = row[0]
        data = json.dumps({k: _encode(v) for k, v in instance.raw.items()})
        self.conn.execute("UPDATE inst SET data = ? WHERE id = ?", (data, row_id))
        self.conn.execute("DELETE FROM idx WHERE inst = ?", (row_id,))
        self.conn.executemany(
            "INSERT INTO idx(inst, prop, val, ref) VALUES (?, ?, ?, ?)",
            [(row_id, p, v, r) for p, v, r in _index_rows(instance)],
        )
        return instance

    def aux(self, instance: Instance) -> dict[str, Any]:
        """Provider-private state of an instance (a job's plan, a VM's runtime facts)."""
        row = self.conn.execute(
            "SELECT aux FROM inst WHERE key = ?", (instance_key(instance),)
        ).fetchone()
        return json.loads(row[0]) if row and row[0] else {}

    def set_aux(self, instance: Instance, data: dict[str, Any]) -> None:
        self._require_write()
        self.conn.execute(
            "UPDATE inst SET aux = ? WHERE key = ?",
            (json.dumps(data) if data else None, instance_key(instance)),
        )

    def set_expiry(self, instance: Instance, expires: float | None) -> None:
        self.conn.execute("UPDATE inst SET expires = ? WHERE key = ?",
                          (expires, instance_key(instance)))

    def delete(self, target: Instance | ObjectPath | str) -> bool:
        """Delete an instance and, recursively, the associations that point at it."""
        self._require_write()
        if isinstance(target, Instance):
            key = instance_key(target)
        else:
            key = _target_key(self, target, None)
        row = self.conn.execute("SELECT id FROM inst WHERE key = ?", (key,)).fetchone()
        if row is None:
            return False
        self._delete_ids([row[0]], {key})
        return True

    def _delete_ids(self, ids: list[int], keys: set[str]) -> None:
        while ids:
            marks = ",".join("?" * len(ids))
            self.conn.execute(f"DELETE FROM idx WHERE inst IN ({marks})", ids)
            self.conn.execute(f"DELETE FROM inst WHERE id IN ({marks})", ids)
            if not keys:
                break
            key_marks = ",".join("?" * len(keys))
            ids = [r[0] for r in self.conn.execute(
                f"SELECT DISTINCT inst FROM idx WHERE ref > 0 AND ref = 2 AND val IN ({key_marks})",
                list(keys))]
            keys = {r[0] for r in self.conn.execute(
                f"SELECT key FROM inst WHERE id IN ({','.join('?' * len(ids))})", ids)}

    def delete_vm(self, vm: str) -> int:
        """Every row a VM owns, and whatever points at them (jobs' links, ...)."""
        self._require_write()
        rows = self.conn.execute("SELECT id, key FROM inst WHERE vm = ?", (vm.upper(),)).fetchall()
        self._delete_ids([r[0] for r in rows], {r[1] for r in rows})
        return len(rows)

    def purge_expired(self, now: float | None = None) -> None:
        moment = time.time() if now is None else now
        rows = self.conn.execute(
            "SELECT id, key FROM inst WHERE expires IS NOT NULL AND expires < ?", (moment,)
        ).fetchall()
        if rows:
            self._delete_ids([r[0] for r in rows], {r[1] for r in rows})

    def wipe(self) -> None:
        self._require_write()
        self.conn.execute("DELETE FROM idx")
        self.conn.execute("DELETE FROM inst")


def _target_key(txn: Txn, target: ObjectPath | Instance | str,
                cls: ResolvedClass | None) -> str:
    if isinstance(target, Instance):
        return instance_key(target)
    path = parse_path(target) if isinstance(target, str) else target
    resolved = cls or txn.registry.get(path.class_name, path.namespace or "")
    if resolved is None:
        return digest(path.key())
    return path_key(path, resolved)


def _hint_literal(hint: Hint) -> Any:
    prop = hint.prop_def
    value = hint.value
    assert prop is not None
    if prop.type == "boolean":
        if isinstance(value, str):
            lowered = value.strip().lower()
            if lowered in ("true", "1"):
                return True
            if lowered in ("false", "0"):
                return False
            raise ValueError(value)
        return bool(value)
    if prop.type.startswith(("uint", "sint")):
        return int(value) if not isinstance(value, str) else int(value.strip())
    return value


@contextmanager
def transaction(conn: sqlite3.Connection, registry: Registry, server: str,
                write: bool) -> Iterator[Txn]:
    conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
    try:
        yield Txn(conn, registry, server, write)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")
