"""The records of the cloud's own services (images, networks, ports, volumes, ...).

Each record is a JSON document under a kind and an id, in one SQLite file, written
through on every change so a restarted cloud finds them again. All access goes through
one connection behind a lock: the services are small, and this keeps every change atomic
without SQLite's "database is locked" between threads.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

Doc = dict[str, Any]


class DocStore:
    def __init__(self, path: str | Path) -> None:
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS docs (kind TEXT NOT NULL, id TEXT NOT NULL, "
            "body TEXT NOT NULL, PRIMARY KEY (kind, id))"
        )
        self._lock = threading.RLock()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Several changes that land together or not at all (nestable)."""
        with self._lock:
            if self._conn.in_transaction:
                yield
                return
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def get(self, kind: str, doc_id: str) -> Doc | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT body FROM docs WHERE kind = ? AND id = ?", (kind, doc_id)
            ).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, kind: str, doc: Doc) -> Doc:
        with self._lock:
            self._conn.execute(
                "INSERT INTO docs (kind, id, body) VALUES (?, ?, ?) "
                "ON CONFLICT (kind, id) DO UPDATE SET body = excluded.body",
                (kind, doc["id"], json.dumps(doc, sort_keys=True)),
            )
        return doc

    def delete(self, kind: str, doc_id: str) -> bool:
        with self._lock:
            cursor = self._conn.execute(
                "DELETE FROM docs WHERE kind = ? AND id = ?", (kind, doc_id)
            )
        return cursor.rowcount > 0

    def all(self, kind: str, where: Callable[[Doc], bool] | None = None) -> list[Doc]:
        """Every record of a kind, oldest first, optionally filtered."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT body FROM docs WHERE kind = ? ORDER BY rowid", (kind,)
            ).fetchall()
        docs = [json.loads(row[0]) for row in rows]
        return [d for d in docs if where(d)] if where else docs

    def update(self, kind: str, doc_id: str, change: Callable[[Doc], None]) -> Doc | None:
        """Read, change in place and write back one record, atomically."""
        with self.transaction():
            doc = self.get(kind, doc_id)
            if doc is None:
                return None
            change(doc)
            return self.put(kind, doc)
