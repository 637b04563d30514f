"""Demo identity: password check and self-contained tokens signed with the cloud's secret.

A token carries who it is for (user, project, roles) and when it expires, with an HMAC
over both, so every service of the cloud checks it without a lookup and tokens stay valid
across restarts (the secret is kept in the state folder). This is a local demo's identity
service, not Keystone: no domains beyond "Default", no revocation, no scoping rules.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from nova_hyperv.cloud.statedir import Account

DEFAULT_LIFETIME = 24 * 3600
_PREFIX = "nhc1"  # token format version


class AuthError(Exception):
    """Authentication failed; the message says why, without leaking secrets."""


@dataclass(frozen=True)
class Identity:
    user_id: str
    user_name: str
    project_id: str
    project_name: str
    roles: tuple[str, ...]
    expires_at: float

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles


class TokenAuthority:
    def __init__(self, secret: str, accounts: Iterable[Account],
                 clock: Callable[[], float] = time.time) -> None:
        self._key = bytes.fromhex(secret)
        self._accounts = {a.name: a for a in accounts}
        self._by_id = {a.user_id: a for a in self._accounts.values()}
        self._clock = clock

    def account(self, name: str) -> Account:
        return self._accounts[name]

    def projects(self) -> dict[str, str]:
        """Project id -> name, for every project an account works in."""
        return {a.project_id: a.project_name for a in self._accounts.values()}

    def authenticate(self, user: str, password: str, *, user_is_id: bool = False,
                     project: str | None = None) -> Account:
        """The account for a user name (or id) and password, in its own project.

        `project` (name or id), when given, must be the account's project: accounts
        here work in exactly one project.
        """
        account = (self._by_id if user_is_id else self._accounts).get(user)
        if account is None or not hmac.compare_digest(account.password, password):
            raise AuthError("The request you have made requires authentication.")
        return _in_project(account, project)

    def rescope(self, identity: Identity, project: str | None = None) -> Account:
        """The account behind a valid token, for a new token (a re-scope)."""
        account = self._by_id.get(identity.user_id)
        if account is None:
            raise AuthError("token of a user this cloud does not have")
        return _in_project(account, project)

    def issue(self, account: Account, lifetime: float = DEFAULT_LIFETIME) -> tuple[str, Identity]:
        identity = Identity(account.user_id, account.name, account.project_id,
                            account.project_name, account.roles,
                            expires_at=float(int(self._clock() + lifetime)))
        payload = json.dumps(
            [identity.user_id, identity.user_name, identity.project_id,
             identity.project_name, list(identity.roles), identity.expires_at],
            separators=(",", ":"),
        ).encode()
        body = base64.urlsafe_b64encode(payload).decode().rstrip("=")
        return f"{_PREFIX}.{body}.{self._sign(body)}", identity

    def validate(self, token: str) -> Identity:
        try:
            prefix, body, signature = token.split(".")
        except ValueError:
            raise AuthError("malformed token") from None
        if prefix != _PREFIX or not hmac.compare_digest(signature, self._sign(body)):
            raise AuthError("token not issued by this cloud")
        try:
            fields = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
            identity = Identity(fields[0], fields[1], fields[2], fields[3],
                                tuple(fields[4]), float(fields[5]))
        except (ValueError, IndexError, TypeError):
            raise AuthError("malformed token") from None
        if identity.expires_at <= self._clock():
            raise AuthError("token expired")
        return identity

    def _sign(self, body: str) -> str:
        return hmac.new(self._key, body.encode(), hashlib.sha256).hexdigest()


def _in_project(account: Account, project: str | None) -> Account:
    if project is not None and project not in (account.project_id, account.project_name):
        raise AuthError(f"user {account.name} has no role on project {project}; its project "
                        f"is {account.project_name}")
    return account
