"""nova's and placement's SQLite databases for a cloud whose services are threads.

SQLite lets one writer at a time into a file, and a transaction that read first and
writes later fails at once ("database is locked") when another connection wrote in
between; a busy timeout does not help there. With every service a thread of one process
the cure is the one nova 34's own threading-mode functional tests use
(nova.tests.fixtures.DatabaseWriteLock): files in WAL mode, so readers never block, and
one re-entrant lock per database around every *writer* transaction of oslo.db's
enginefacade, so writers queue in-process instead of colliding in SQLite. Readers stay
concurrent. `install_writer_lock` does that; it must run before the first transaction.

The schema: the API database and cell0 are migrated (alembic, as `nova-manage api_db
sync` / `db sync` do); cell1 starts as a copy of freshly migrated cell0 (same schema,
saves one migration); placement is migrated by placement itself. Later starts only
upgrade (a no-op when nothing changed).
"""

from __future__ import annotations

import collections
import contextlib
import logging
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from oslo_db.sqlalchemy import enginefacade

from nova_hyperv.cloud.novaconf import sqlite_url
from nova_hyperv.cloud.statedir import StateDir

LOG = logging.getLogger(__name__)

CELL1 = "cell1"

_installed = False
_locks: dict[str, threading.RLock] = collections.defaultdict(threading.RLock)
_locks_guard = threading.Lock()


def install_writer_lock() -> None:
    """Serialise writer transactions per database file across this process's threads."""
    global _installed
    if _installed:
        return
    original = enginefacade._TransactionContextManager._transaction_scope

    @contextlib.contextmanager
    def locked_scope(manager: Any, context: Any) -> Iterator[Any]:
        if manager._mode is not enginefacade._WRITER:
            with original(manager, context) as resource:
                yield resource
            return
        url = str(manager.reader.get_engine().url)
        with _locks_guard:
            lock = _locks[url]
        with lock, original(manager, context) as resource:
            yield resource

    enginefacade._TransactionContextManager._transaction_scope = locked_scope
    _installed = True


def wal(path: Path) -> None:
    """Create the file if needed and put it in WAL mode (a property of the file)."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA journal_mode=WAL")


def prepare_nova_databases(state: StateDir) -> None:
    """Migrate nova_api, nova_cell0 and nova_cell1 to the installed nova's schema and
    map cell0 and cell1 (to this folder's files, even if the folder moved)."""
    from nova import context, objects
    from nova.db import migration

    objects.register_all()
    for name in ("nova_api", "nova_cell0"):
        wal(state.database(name))
    migration.db_sync(database="api")
    cell0_url, cell1_url = sqlite_url(state, "nova_cell0"), sqlite_url(state, "nova_cell1")
    ctxt = context.get_admin_context()
    cell0 = _cell_mapping(ctxt, objects.CellMapping.CELL0_UUID, "cell0", cell0_url,
                          "none:///")
    with context.target_cell(ctxt, cell0) as cctxt:
        migration.db_sync(context=cctxt)
    cell1_file = state.database("nova_cell1")
    if not cell1_file.exists():
        # A freshly migrated cell database is the same for every cell.
        _copy_database(state.database("nova_cell0"), cell1_file)
    existing = [c for c in objects.CellMappingList.get_all(ctxt) if c.name == CELL1]
    cell1 = _cell_mapping(ctxt, existing[0].uuid if existing else None, CELL1, cell1_url,
                          "fake:/")
    with context.target_cell(ctxt, cell1) as cctxt:
        migration.db_sync(context=cctxt)


def _cell_mapping(ctxt: Any, uuid: str | None, name: str, url: str, transport: str) -> Any:
    from nova import exception, objects
    from oslo_utils import uuidutils

    if uuid is not None:
        try:
            mapping = objects.CellMapping.get_by_uuid(ctxt, uuid)
        except exception.CellMappingNotFound:
            mapping = None
        if mapping is not None:
            if mapping.database_connection != url or mapping.transport_url != transport:
                mapping.database_connection = url
                mapping.transport_url = transport
                mapping.save()
            return mapping
    mapping = objects.CellMapping(ctxt, uuid=uuid or uuidutils.generate_uuid(), name=name,
                                  database_connection=url, transport_url=transport)
    mapping.create()
    return mapping


def _copy_database(source: Path, destination: Path) -> None:
    with contextlib.closing(sqlite3.connect(source)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    partial = destination.with_suffix(".part")
    shutil.copyfile(source, partial)
    partial.replace(destination)
    wal(destination)


def discover_hosts() -> list[str]:
    """Map new computes to cell1 (what `nova-manage cell_v2 discover_hosts` does)."""
    from nova import context
    from nova.objects import host_mapping

    mappings = host_mapping.discover_hosts(context.get_admin_context())
    return [m.host for m in mappings]


def placement_app(state: StateDir) -> Any:
    """placement's WSGI app on placement.sqlite, migrated and with its traits synced."""
    from oslo_config import cfg
    from placement import conf as placement_conf
    from placement import db_api as placement_db
    from placement import deploy

    wal(state.database("placement"))
    conf = cfg.ConfigOpts()
    placement_conf.register_opts(conf)
    conf.set_override("connection", sqlite_url(state, "placement"),
                      group="placement_database")
    conf.set_override("sync_on_startup", True, group="placement_database")
    conf.set_override("auth_strategy", "noauth2", group="api")
    conf([], project="placement", default_config_files=[])
    placement_db.configure(conf)
    return deploy.loadapp(conf)
