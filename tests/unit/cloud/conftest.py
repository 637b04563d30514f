"""Shared pieces for the local cloud's unit tests: accounts, tokens, a store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nova_hyperv.cloud.docstore import DocStore
from nova_hyperv.cloud.statedir import accounts, new_manifest
from nova_hyperv.cloud.tokens import TokenAuthority


@pytest.fixture
def manifest() -> dict[str, Any]:
    return new_manifest()


@pytest.fixture
def authority(manifest: dict[str, Any]) -> TokenAuthority:
    return TokenAuthority(manifest["secret"], accounts(manifest).values())


@pytest.fixture
def admin_token(authority: TokenAuthority) -> str:
    return authority.issue(authority.account("admin"))[0]


@pytest.fixture
def demo_token(authority: TokenAuthority) -> str:
    return authority.issue(authority.account("demo"))[0]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[DocStore]:
    docs = DocStore(tmp_path / "services.sqlite")
    yield docs
    docs.close()
