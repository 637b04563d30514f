"""Building WQL from untrusted text, and reading the keys out of object paths.

Names and ids that end up in a query (a VM name chosen by an operator's
`instance_name_template`, a vSwitch name from nova.conf) are data, not WQL: `quote`
makes a string literal of any text, `like_prefix` a LIKE pattern that matches only that
text as a prefix. WQL escapes with a backslash (`\\\\`, `\\'`, `\\"`, Microsoft's "WHERE
Clause" page); `quote` prefers the delimiter the text does not contain so that no quote
needs a backslash, which keeps the query sendable through PyMI (see cim.wmi).

Object paths are parsed here so that the two ends of an association (its keys) can be
read from the association's own path, without fetching either end.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ObjectPath", "build_path", "like_prefix", "parse_path", "quote", "same_path"]


def _escape(text: str, *quotes: str) -> str:
    escaped = text.replace("\\", "\\\\")
    for mark in quotes:
        escaped = escaped.replace(mark, "\\" + mark)
    return escaped


def quote(value: object) -> str:
    """A WQL string literal holding exactly `value` (str() of it)."""
    text = str(value)
    if "'" not in text:
        return f"'{_escape(text)}'"
    if '"' not in text:
        return f'"{_escape(text)}"'
    return f"'{_escape(text, chr(39))}'"


def like_prefix(prefix: str) -> str:
    """A LIKE literal matching every string that starts with `prefix`, wildcards inert."""
    inert = "".join(f"[{c}]" if c in "[%_" else c for c in prefix)
    return quote(inert + "%")


def build_path(namespace: str, class_name: str, **keys: object) -> str:
    """The object path `namespace:Class.Key="value"` of an instance whose keys are known
    (no round trip to learn it); values are quoted with `\\` and `\"` escaped."""
    body = ",".join(
        f'{name}="{_escape(str(value), chr(34))}"' for name, value in sorted(keys.items()))
    return f"{namespace}:{class_name}" + (f".{body}" if body else "")


@dataclass(frozen=True)
class ObjectPath:
    server: str | None
    namespace: str | None
    class_name: str
    keys: dict[str, str]

    def key(self, name: str) -> str | None:
        for key, value in self.keys.items():
            if key.lower() == name.lower():
                return value
        return None


def _split_namespace(text: str) -> tuple[str | None, str | None, str]:
    """(server, namespace, 'Class.keys') of a path; quotes never occur before the ':'."""
    quote_at = min((i for i in (text.find('"'), text.find("'")) if i >= 0), default=len(text))
    colon = text.rfind(":", 0, quote_at)
    if colon < 0:
        return None, None, text
    head, rest = text[:colon], text[colon + 1:]
    unified = head.replace("/", "\\")
    if unified.startswith("\\\\"):
        server, _, namespace = unified[2:].partition("\\")
        return server or None, namespace or None, rest
    return None, unified or None, rest


def parse_path(text: str) -> ObjectPath:
    """Parse `\\\\HOST\\ns:Class.Key="value",Other=5` (any slashes; quoted values unescaped).

    Raises ValueError naming the path when it is not one.
    """
    server, namespace, rest = _split_namespace(text.strip())
    cut = next((i for i, c in enumerate(rest) if c in ".="), len(rest))
    class_name = rest[:cut]
    if not class_name.replace("_", "").isalnum():
        raise ValueError(f"{text!r} is not an object path (class name {class_name!r})")
    keys: dict[str, str] = {}
    if cut == len(rest) or rest[cut:] == "=@":
        return ObjectPath(server, namespace, class_name, keys)
    if rest[cut] != ".":
        raise ValueError(f"{text!r} is not an object path (expected '.' after the class)")
    body, i = rest[cut + 1:], 0
    while i < len(body):
        eq = body.find("=", i)
        if eq < 0:
            raise ValueError(f"{text!r} is not an object path (a key without '=')")
        name = body[i:eq].strip()
        i = eq + 1
        if i < len(body) and body[i] in "\"'":
            mark, i, value = body[i], i + 1, []
            while i < len(body) and body[i] != mark:
                if body[i] == "\\" and i + 1 < len(body):
                    i += 1
                value.append(body[i])
                i += 1
            if i >= len(body):
                raise ValueError(f"{text!r} is not an object path (unterminated value)")
            keys[name] = "".join(value)
            i += 1
        else:
            end = body.find(",", i)
            end = len(body) if end < 0 else end
            keys[name] = body[i:end].strip()
            i = end
        if i < len(body):
            if body[i] != ",":
                raise ValueError(f"{text!r} is not an object path (expected ',' between keys)")
            i += 1
    return ObjectPath(server, namespace, class_name, keys)


def same_path(a: str, b: str) -> bool:
    """Whether two object paths name the same object (server and case aside, as WMI
    compares keys of Hyper-V's objects)."""
    left, right = parse_path(a), parse_path(b)
    return (left.class_name.lower() == right.class_name.lower()
            and {k.lower(): v.lower() for k, v in left.keys.items()}
            == {k.lower(): v.lower() for k, v in right.keys.items()})
