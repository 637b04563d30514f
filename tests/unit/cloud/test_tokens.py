"""Demo tokens: password check, signature, expiry, scope."""

from __future__ import annotations

import pytest

from nova_hyperv.cloud.statedir import accounts, new_manifest
from nova_hyperv.cloud.tokens import AuthError, TokenAuthority


@pytest.fixture
def clock() -> list[float]:
    return [1_000_000.0]


@pytest.fixture
def authority_at(clock: list[float]) -> TokenAuthority:
    manifest = new_manifest()
    return TokenAuthority(manifest["secret"], accounts(manifest).values(),
                          clock=lambda: clock[0])


def test_a_token_carries_who_and_for_how_long(authority_at: TokenAuthority) -> None:
    admin = authority_at.account("admin")
    token, issued = authority_at.issue(admin, lifetime=60)
    seen = authority_at.validate(token)
    assert seen == issued
    assert (seen.user_name, seen.project_id, seen.is_admin) == ("admin", admin.project_id,
                                                                 True)
    assert seen.expires_at == 1_000_060.0


def test_an_expired_token_is_refused(authority_at: TokenAuthority, clock: list[float]
                                     ) -> None:
    token, _ = authority_at.issue(authority_at.account("demo"), lifetime=60)
    clock[0] += 61
    with pytest.raises(AuthError, match="expired"):
        authority_at.validate(token)


def test_a_changed_token_is_refused(authority_at: TokenAuthority) -> None:
    token, _ = authority_at.issue(authority_at.account("demo"))
    prefix, _, signature = token.split(".")
    forged = authority_at.issue(authority_at.account("admin"))[0].split(".")[1]
    with pytest.raises(AuthError, match="not issued by this cloud"):
        authority_at.validate(f"{prefix}.{forged}.{signature}")
    with pytest.raises(AuthError, match="malformed"):
        authority_at.validate("admin")


def test_another_clouds_tokens_are_refused(authority_at: TokenAuthority) -> None:
    other = new_manifest()
    stranger = TokenAuthority(other["secret"], accounts(other).values())
    token, _ = stranger.issue(stranger.account("admin"))
    with pytest.raises(AuthError, match="not issued by this cloud"):
        authority_at.validate(token)


def test_passwords_and_projects_are_checked(authority_at: TokenAuthority) -> None:
    demo = authority_at.account("demo")
    assert authority_at.authenticate("demo", demo.password) == demo
    assert authority_at.authenticate(demo.user_id, demo.password, user_is_id=True) == demo
    assert authority_at.authenticate("demo", demo.password, project="demo") == demo
    with pytest.raises(AuthError, match="requires authentication"):
        authority_at.authenticate("demo", "wrong")
    with pytest.raises(AuthError, match="requires authentication"):
        authority_at.authenticate("nobody", demo.password)
    with pytest.raises(AuthError, match="no role on project admin; its project is demo"):
        authority_at.authenticate("demo", demo.password, project="admin")


def test_a_token_is_rescoped_to_its_own_project_only(authority_at: TokenAuthority) -> None:
    demo = authority_at.account("demo")
    _, identity = authority_at.issue(demo)
    assert authority_at.rescope(identity) == demo
    assert authority_at.rescope(identity, demo.project_id) == demo
    with pytest.raises(AuthError, match="no role on project admin"):
        authority_at.rescope(identity, "admin")
