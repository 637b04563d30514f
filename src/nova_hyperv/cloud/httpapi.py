"""What the cloud's own HTTP services share: routing, JSON answers, errors, token checks.

A service is a `JsonApp` with routes `(method, "/v2/images/{image_id}") -> handler`; a
handler gets the request (webob) and the path's fields and returns a `Reply` or a JSON
body. `HttpError` becomes the error body OpenStack clients print ("... (HTTP 404)").
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import webob

from nova_hyperv.cloud.tokens import AuthError, Identity, TokenAuthority

LOG = logging.getLogger(__name__)

IDENTITY_KEY = "nova_hyperv.cloud.identity"


class HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def not_found(kind: str, ident: str) -> HttpError:
    return HttpError(404, f"{kind} {ident} could not be found.")


def bad_request(message: str) -> HttpError:
    return HttpError(400, message)


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # JSON-able, bytes, an iterable of bytes, or None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    content_length: int | None = None


Handler = Callable[..., Any]


class JsonApp:
    """A WSGI app of routes; `public` paths need no token (version documents)."""

    def __init__(self, name: str, authority: TokenAuthority | None,
                 error_body: Callable[[int, str], Reply] | None = None) -> None:
        self.name = name
        self.authority = authority
        #: The service's error body (default: the one Glance, Neutron and Cinder
        #: clients read).
        self.error_reply = error_body or error_reply
        self._routes: list[tuple[str, re.Pattern[str], Handler, bool]] = []

    def route(self, method: str, template: str, handler: Handler, *, public: bool = False
              ) -> None:
        pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template.rstrip("/") or "/")
        self._routes.append((method, re.compile(f"^{pattern}/?$"), handler, public))

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        request = webob.Request(environ)
        try:
            reply = self._dispatch(request)
        except HttpError as error:
            reply = self.error_reply(error.status, error.message)
        except Exception:
            LOG.exception("%s: %s %s failed", self.name, request.method, request.path)
            reply = self.error_reply(500, "The server has either erred or is incapable of "
                                     "performing the requested operation.")
        return _respond(reply, start_response)

    def _dispatch(self, request: webob.Request) -> Reply:
        path = request.path_info.rstrip("/") or "/"
        allowed = []
        for method, pattern, handler, public in self._routes:
            match = pattern.match(path)
            if not match:
                continue
            if method != request.method and not (method == "GET" and request.method == "HEAD"):
                allowed.append(method)
                continue
            if not public:
                request.environ[IDENTITY_KEY] = self._identity(request)
            result = handler(request, **match.groupdict())
            return result if isinstance(result, Reply) else Reply(body=result)
        if allowed:
            raise HttpError(405, f"{request.method} is not allowed on {path}; "
                                 f"allowed: {', '.join(sorted(set(allowed)))}")
        raise HttpError(404, f"{path} is not a resource of the {self.name} service")

    def _identity(self, request: webob.Request) -> Identity:
        token = request.headers.get("X-Auth-Token")
        if not token or self.authority is None:
            raise HttpError(401, "The request you have made requires authentication.")
        try:
            return self.authority.validate(token)
        except AuthError as error:
            raise HttpError(401, f"The request you have made requires authentication "
                                 f"({error}).") from None


def identity_of(request: webob.Request) -> Identity:
    return request.environ[IDENTITY_KEY]


def json_body(request: webob.Request, key: str | None = None) -> Any:
    """The request's JSON object (or its `key` member), or 400 naming what is wrong."""
    try:
        body = json.loads(request.body or b"null")
    except ValueError as error:
        raise bad_request(f"the request body is not JSON: {error}") from None
    if key is not None:
        if not isinstance(body, dict) or not isinstance(body.get(key), dict):
            raise bad_request(f"the request body must be an object with a {key!r} object")
        return body[key]
    return body


def error_reply(status: int, message: str) -> Reply:
    title = HTTPStatus(status).phrase
    # Glance, Neutron and Cinder differ here; this one shape is read by their clients
    # (they look for "message" in a nested object, or the NeutronError form).
    body = {"error": {"code": status, "title": title, "message": message},
            "NeutronError": {"type": title.replace(" ", ""), "message": message,
                             "detail": ""}}
    return Reply(status=status, body=body)


def _respond(reply: Reply, start_response: Callable[..., Any]) -> Iterable[bytes]:
    status = f"{reply.status} {HTTPStatus(reply.status).phrase}"
    headers = dict(reply.headers)
    if reply.body is None:
        chunks: Iterable[bytes] = [b""]
        if reply.status != 204:
            headers["Content-Length"] = "0"
    elif isinstance(reply.body, bytes | bytearray):
        chunks = [bytes(reply.body)]
        headers["Content-Type"] = reply.content_type
        headers["Content-Length"] = str(len(reply.body))
    elif isinstance(reply.body, dict | list):
        data = json.dumps(reply.body).encode()
        chunks = [data]
        headers["Content-Type"] = reply.content_type
        headers["Content-Length"] = str(len(data))
    else:
        chunks = reply.body
        headers["Content-Type"] = reply.content_type
        if reply.content_length is not None:
            headers["Content-Length"] = str(reply.content_length)
    start_response(status, list(headers.items()))
    return chunks
