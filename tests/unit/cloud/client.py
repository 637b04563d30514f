"""Calling a WSGI app of the cloud in-process, as its clients would over HTTP."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import webob


@dataclass
class Answer:
    status: int
    body: bytes
    headers: dict[str, str]

    @property
    def json(self) -> Any:
        return json.loads(self.body)


Call = Callable[..., Answer]


def make_call(app: Callable[..., Any]) -> Call:
    def call(method: str, path: str, token: str | None = None, body: Any = None,
             raw: bytes | None = None, headers: dict[str, str] | None = None) -> Answer:
        request = webob.Request.blank(path, method=method)
        if token:
            request.headers["X-Auth-Token"] = token
        if body is not None:
            request.body = json.dumps(body).encode()
            request.content_type = "application/json"
        if raw is not None:
            request.body = raw
            request.content_type = "application/octet-stream"
        request.headers.update(headers or {})
        response = request.get_response(app)
        return Answer(response.status_int, response.body, dict(response.headers))

    return call
