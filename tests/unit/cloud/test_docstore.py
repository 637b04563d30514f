"""The services' record store: kept on disk, in order, changes atomic."""

from __future__ import annotations

from pathlib import Path

import pytest

from nova_hyperv.cloud.docstore import DocStore


def test_records_survive_reopening_in_creation_order(tmp_path: Path) -> None:
    store = DocStore(tmp_path / "s.sqlite")
    for name in ("b", "a", "c"):
        store.put("thing", {"id": name, "n": 1})
    store.put("thing", {"id": "b", "n": 2})  # an update keeps its place
    store.put("other", {"id": "a"})
    store.close()
    again = DocStore(tmp_path / "s.sqlite")
    assert [d["id"] for d in again.all("thing")] == ["b", "a", "c"]
    assert again.get("thing", "b") == {"id": "b", "n": 2}
    assert again.all("thing", lambda d: d["id"] > "a") == [{"id": "b", "n": 2},
                                                           {"id": "c", "n": 1}]
    assert again.get("thing", "zz") is None


def test_update_and_delete(store: DocStore) -> None:
    store.put("t", {"id": "x", "tags": []})
    assert store.update("t", "x", lambda d: d["tags"].append("new")) == {
        "id": "x", "tags": ["new"]}
    assert store.update("t", "missing", lambda d: None) is None
    assert store.delete("t", "x") is True
    assert store.delete("t", "x") is False


def test_a_failed_transaction_changes_nothing(store: DocStore) -> None:
    store.put("t", {"id": "keep"})
    with pytest.raises(RuntimeError), store.transaction():
        store.put("t", {"id": "new"})
        store.delete("t", "keep")
        with store.transaction():  # nested: part of the outer one
            store.put("t", {"id": "inner"})
        raise RuntimeError("boom")
    assert [d["id"] for d in store.all("t")] == ["keep"]
