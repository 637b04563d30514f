"""WQL: the parser and the evaluator of the queries Hyper-V clients send.

Supported, with WMI's semantics:

- `SELECT * | a, b FROM Class [WITHIN n] [WHERE expr]`;
- `expr`: `=`, `<>`, `!=`, `<`, `>`, `<=`, `>=`, `[NOT] LIKE` (`%`, `_`, `[set]`,
  `[^set]`; `[%]` matches a literal percent sign), `IS [NOT] NULL`, `ISA 'Class'`,
  AND / OR / NOT and parentheses; dotted names (`TargetInstance.EnabledState`) for
  event queries; system properties `__PATH`, `__RELPATH`, `__CLASS`, `__SERVER`,
  `__NAMESPACE`;
- `ASSOCIATORS OF {path} [WHERE AssocClass = A ResultClass = R Role = X ResultRole = Y
  ClassDefsOnly KeysOnly]` and `REFERENCES OF {path} [WHERE ResultClass = R Role = X]`.

Names (classes, properties, keywords) are case-insensitive, and so are string
comparisons. A literal is compared by the type of the property it meets: `'3'`
equals the integer 3, `'True'` the boolean true (PyMI quotes every filter value),
a path literal matches a reference by the object it names. String literals use
backslash escapes (`\\\\` is one backslash): PyMI doubles every backslash of a query
before sending it, which is why `LIKE '%\\Default'` written by os-win works.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from hyperv_emulator.errors import CimError, invalid_query
from hyperv_emulator.paths import parse_path
from hyperv_emulator.schema.model import Prop, ResolvedClass

# -- syntax tree ------------------------------------------------------------------


@dataclass(frozen=True)
class Name:
    """A property reference; `parts` has two items for `TargetInstance.Prop`."""

    parts: tuple[str, ...]

    @property
    def text(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True)
class Literal:
    value: Any  # str, int, float, bool or None


Operand = Name | Literal


@dataclass(frozen=True)
class Compare:
    op: str  # = <> < > <= >=
    left: Operand
    right: Operand


@dataclass(frozen=True)
class Like:
    name: Name
    pattern: str
    negated: bool = False


@dataclass(frozen=True)
class IsNull:
    name: Name
    negated: bool = False


@dataclass(frozen=True)
class Isa:
    name: Name
    class_name: str


@dataclass(frozen=True)
class And:
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Or:
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Not:
    inner: Expr


Expr = Compare | Like | IsNull | Isa | And | Or | Not


@dataclass(frozen=True)
class Select:
    text: str
    class_name: str
    props: tuple[str, ...] | None  # None for *
    where: Expr | None = None
    within: float | None = None


@dataclass(frozen=True)
class Associators:
    text: str
    path: str
    assoc_class: str | None = None
    result_class: str | None = None
    role: str | None = None
    result_role: str | None = None
    keys_only: bool = False
    class_defs_only: bool = False


@dataclass(frozen=True)
class References:
    text: str
    path: str
    result_class: str | None = None
    role: str | None = None
    keys_only: bool = False
    class_defs_only: bool = False


Query = Select | Associators | References

# -- tokens -----------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<braced>\{[^}]*\})
  | (?P<string>'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.|"")*")
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<op><>|!=|<=|>=|=|<|>)
  | (?P<punct>[(),*])
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
    """,
    re.VERBOSE,
)

_KEYWORDS = frozenset(
    {
        "select", "from", "where", "and", "or", "not", "like", "isa", "is", "null",
        "true", "false", "associators", "references", "of", "within",
    }
)


@dataclass
class _Token:
    kind: str
    value: Any
    raw: str


def _unescape(body: str, quote: str) -> str:
    out = []
    i = 0
    while i < len(body):
        char = body[i]
        if char == "\\" and i + 1 < len(body) and body[i + 1] in "\\'\"":
            out.append(body[i + 1])
            i += 2
            continue
        if char == quote and i + 1 < len(body) and body[i + 1] == quote:
            out.append(quote)
            i += 2
            continue
        out.append(char)
        i += 1
    return "".join(out)


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            raise invalid_query(text, f"unexpected character {text[pos]!r} at {pos}")
        pos = match.end()
        kind = match.lastgroup or ""
        raw = match.group()
        if kind == "ws":
            continue
        if kind == "string":
            tokens.append(_Token("string", _unescape(raw[1:-1], raw[0]), raw))
        elif kind == "number":
            tokens.append(_Token("number", float(raw) if "." in raw else int(raw), raw))
        elif kind == "name" and raw.lower() in _KEYWORDS:
            tokens.append(_Token("kw", raw.lower(), raw))
        elif kind == "braced":
            tokens.append(_Token("braced", raw[1:-1].strip(), raw))
        else:
            tokens.append(_Token(kind, raw, raw))
    tokens.append(_Token("end", None, ""))
    return tokens


# -- parser -----------------------------------------------------------------------


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.pos = 0

    def peek(self) -> _Token:
        return self.tokens[self.pos]

    def next(self) -> _Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def fail(self, why: str) -> CimError:
        return invalid_query(self.text, why)

    def accept_kw(self, word: str) -> bool:
        token = self.peek()
        if token.kind == "kw" and token.value == word:
            self.pos += 1
            return True
        return False

    def expect_kw(self, word: str) -> None:
        if not self.accept_kw(word):
            raise self.fail(f"expected {word.upper()} near {self.peek().raw or 'the end'!r}")

    def name(self, what: str) -> str:
        token = self.next()
        if token.kind != "name":
            raise self.fail(f"expected {what} near {token.raw or 'the end'!r}")
        return token.value

    def parse(self) -> Query:
        if self.accept_kw("select"):
            return self.select()
        if self.accept_kw("associators"):
            self.expect_kw("of")
            return self.associators()
        if self.accept_kw("references"):
            self.expect_kw("of")
            return self.references()
        raise self.fail("a query starts with SELECT, ASSOCIATORS OF or REFERENCES OF")

    def select(self) -> Select:
        props: list[str] | None = []
        if self.peek().kind == "punct" and self.peek().value == "*":
            self.next()
            props = None
        else:
            while True:
                assert props is not None
                props.append(self.name("a property name"))
                if self.peek().kind == "punct" and self.peek().value == ",":
                    self.next()
                    continue
                break
        self.expect_kw("from")
        class_name = self.name("a class name")
        within = None
        if self.accept_kw("within"):
            token = self.next()
            if token.kind != "number":
                raise self.fail("WITHIN takes a number of seconds")
            within = float(token.value)
        where = None
        if self.accept_kw("where"):
            where = self.expr()
        if self.peek().kind != "end":
            raise self.fail(f"unexpected {self.peek().raw!r}")
        return Select(self.text, class_name, None if props is None else tuple(props), where,
                      within)

    def expr(self) -> Expr:
        left = self.conjunction()
        while self.accept_kw("or"):
            left = Or(left, self.conjunction())
        return left

    def conjunction(self) -> Expr:
        left = self.negation()
        while self.accept_kw("and"):
            left = And(left, self.negation())
        return left

    def negation(self) -> Expr:
        if self.accept_kw("not"):
            return Not(self.negation())
        return self.primary()

    def primary(self) -> Expr:
        token = self.peek()
        if token.kind == "punct" and token.value == "(":
            self.next()
            inner = self.expr()
            closing = self.next()
            if closing.kind != "punct" or closing.value != ")":
                raise self.fail("a '(' is not closed")
            return inner
        left = self.operand()
        if isinstance(left, Name):
            if self.accept_kw("is"):
                negated = self.accept_kw("not")
                self.expect_kw("null")
                return IsNull(left, negated)
            if self.accept_kw("isa"):
                token = self.next()
                if token.kind not in ("string", "name"):
                    raise self.fail("ISA takes a class name")
                return Isa(left, token.value)
            negated = False
            if self.accept_kw("not"):
                negated = True
                if not (self.peek().kind == "kw" and self.peek().value == "like"):
                    raise self.fail("NOT after a property must be followed by LIKE")
            if self.accept_kw("like"):
                token = self.next()
                if token.kind != "string":
                    raise self.fail("LIKE takes a quoted pattern")
                return Like(left, token.value, negated)
        op = self.next()
        if op.kind != "op":
            raise self.fail(f"expected a comparison operator near {op.raw or 'the end'!r}")
        right = self.operand()
        if isinstance(left, Literal) and isinstance(right, Literal):
            raise self.fail("a comparison needs a property on one side")
        return Compare("<>" if op.value == "!=" else op.value, left, right)

    def operand(self) -> Operand:
        token = self.next()
        if token.kind == "name":
            return Name(tuple(token.value.split(".")))
        if token.kind in ("string", "number"):
            return Literal(token.value)
        if token.kind == "kw" and token.value in ("true", "false"):
            return Literal(token.value == "true")
        if token.kind == "kw" and token.value == "null":
            return Literal(None)
        raise self.fail(f"expected a property or a value near {token.raw or 'the end'!r}")

    def _path(self) -> str:
        token = self.next()
        if token.kind != "braced" or not token.value:
            raise self.fail("ASSOCIATORS OF / REFERENCES OF take an object path in braces")
        return token.value

    def _clauses(self, allowed: set[str]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        if not self.accept_kw("where"):
            if self.peek().kind != "end":
                raise self.fail(f"unexpected {self.peek().raw!r}")
            return found
        canonical = {a.lower(): a for a in allowed}
        while self.peek().kind != "end":
            token = self.next()
            word = str(token.value).lower()
            if token.kind != "name" or word not in canonical:
                raise self.fail(
                    f"{token.raw!r} is not one of {', '.join(sorted(allowed))}"
                )
            if word in ("keysonly", "classdefsonly"):
                found[word] = True
                continue
            op = self.next()
            if op.kind != "op" or op.value != "=":
                raise self.fail(f"{token.raw} must be followed by '='")
            value = self.next()
            if value.kind not in ("name", "string"):
                raise self.fail(f"{token.raw} takes a name")
            found[word] = value.value
        return found

    def associators(self) -> Associators:
        path = self._path()
        c = self._clauses({"AssocClass", "ResultClass", "Role", "ResultRole", "KeysOnly",
                           "ClassDefsOnly", "RequiredQualifier", "RequiredAssocQualifier"})
        return Associators(self.text, path, c.get("assocclass"), c.get("resultclass"),
                           c.get("role"), c.get("resultrole"), bool(c.get("keysonly")),
                           bool(c.get("classdefsonly")))

    def references(self) -> References:
        path = self._path()
        c = self._clauses({"ResultClass", "Role", "KeysOnly", "ClassDefsOnly",
                           "RequiredQualifier"})
        return References(self.text, path, c.get("resultclass"), c.get("role"),
                          bool(c.get("keysonly")), bool(c.get("classdefsonly")))


@lru_cache(maxsize=512)
def parse(text: str) -> Query:
    """Parse a WQL statement (cached: drivers repeat the same few shapes)."""
    if not isinstance(text, str) or not text.strip():
        raise invalid_query(str(text), "empty query")
    return _Parser(text.strip()).parse()


# -- validation against a class -----------------------------------------------------

SYSTEM_PROPERTIES = frozenset({"__path", "__relpath", "__class", "__server", "__namespace",
                               "__genus", "__superclass", "__dynasty", "__this"})


def names_in(expr: Expr | None) -> list[Name]:
    if expr is None:
        return []
    if isinstance(expr, (And, Or)):
        return names_in(expr.left) + names_in(expr.right)
    if isinstance(expr, Not):
        return names_in(expr.inner)
    if isinstance(expr, Compare):
        return [o for o in (expr.left, expr.right) if isinstance(o, Name)]
    return [expr.name]


def check_select(query: Select, cls: ResolvedClass) -> None:
    """Every name must be a property of the FROM class itself (not of a subclass)."""
    for prop in query.props or ():
        if prop.lower() not in SYSTEM_PROPERTIES and cls.prop(prop) is None:
            raise invalid_query(query.text, f"{cls.name} has no property {prop}")
    for name in names_in(query.where):
        if len(name.parts) != 1:
            raise invalid_query(query.text, f"{name.text} is not a property of {cls.name}")
        lowered = name.parts[0].lower()
        if lowered in SYSTEM_PROPERTIES:
            continue
        prop = cls.prop(lowered)
        if prop is None:
            raise invalid_query(query.text, f"{cls.name} has no property {name.text}")
        if prop.array:
            raise invalid_query(
                query.text, f"{cls.name}.{prop.name} is an array; WQL cannot filter on arrays"
            )
    _check_literals(query.where, cls, query.text)


def _check_literals(expr: Expr | None, cls: ResolvedClass, text: str) -> None:
    """A literal that cannot be read as its property's type is a query error up front."""
    if isinstance(expr, (And, Or)):
        _check_literals(expr.left, cls, text)
        _check_literals(expr.right, cls, text)
    elif isinstance(expr, Not):
        _check_literals(expr.inner, cls, text)
    elif isinstance(expr, Compare):
        pair = (expr.left, expr.right)
        names = [o for o in pair if isinstance(o, Name)]
        literals = [o for o in pair if isinstance(o, Literal)]
        if len(names) == 1 and literals and literals[0].value is not None:
            prop = cls.prop(names[0].parts[0])
            if prop is not None:
                _literal_as(literals[0].value, prop, text, names[0].text)


# -- evaluation ---------------------------------------------------------------------

# A resolver maps a name to (value, Prop or None for system properties / untyped).
Resolver = Callable[[Name], tuple[Any, Prop | None]]
# Class test for ISA: (value, class name) -> bool.
IsaTest = Callable[[Any, str], bool]


def evaluate(expr: Expr, resolve: Resolver, isa: IsaTest, text: str = "") -> bool:
    if isinstance(expr, And):
        return evaluate(expr.left, resolve, isa, text) and evaluate(expr.right, resolve, isa,
                                                                    text)
    if isinstance(expr, Or):
        return evaluate(expr.left, resolve, isa, text) or evaluate(expr.right, resolve, isa,
                                                                   text)
    if isinstance(expr, Not):
        return not evaluate(expr.inner, resolve, isa, text)
    if isinstance(expr, IsNull):
        value, _ = resolve(expr.name)
        return (value is not None) if expr.negated else (value is None)
    if isinstance(expr, Isa):
        value, _ = resolve(expr.name)
        return value is not None and isa(value, expr.class_name)
    if isinstance(expr, Like):
        value, _ = resolve(expr.name)
        if value is None:
            return False
        matched = bool(like_regex(expr.pattern).fullmatch(str(value)))
        return matched != expr.negated
    return _compare(expr, resolve, text)


def _compare(expr: Compare, resolve: Resolver, text: str) -> bool:
    op = expr.op
    left, right = expr.left, expr.right
    if isinstance(left, Literal):  # 3 < Prop  ->  Prop > 3
        left, right = right, left
        op = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}.get(op, op)
    assert isinstance(left, Name)
    value, prop = resolve(left)
    if isinstance(right, Name):
        other, other_prop = resolve(right)
        if value is None or other is None:
            return op == "<>" and (value is None) != (other is None)
        return _ordered(op, _key(value, prop), _key(other, other_prop or prop))
    literal = right.value
    if literal is None:
        return (value is None) if op == "=" else (value is not None) if op == "<>" else False
    if value is None:
        return False
    typed = _literal_as(literal, prop, text, left.text)
    return _ordered(op, _key(value, prop), typed)


def _key(value: Any, prop: Prop | None) -> Any:
    if prop is not None and prop.type == "ref":
        try:
            return parse_path(value).key()
        except CimError:
            return str(value).lower()
    if isinstance(value, str):
        return value.lower()
    return value


def _literal_as(literal: Any, prop: Prop | None, text: str, name: str) -> Any:
    kind = prop.type if prop is not None else "string"
    if kind == "boolean":
        if isinstance(literal, bool):
            return literal
        if isinstance(literal, (int, float)):
            return literal != 0
        lowered = str(literal).strip().lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
        raise invalid_query(text, f"{name} is boolean; {literal!r} is not")
    if kind.startswith(("uint", "sint")):
        if isinstance(literal, bool):
            return int(literal)
        if isinstance(literal, (int, float)):
            return literal
        try:
            return int(str(literal).strip())
        except ValueError:
            raise invalid_query(text, f"{name} is {kind}; {literal!r} is not a number") from None
    if kind in ("real32", "real64"):
        try:
            return float(literal)
        except (TypeError, ValueError):
            raise invalid_query(text, f"{name} is {kind}; {literal!r} is not a number") from None
    if kind == "ref":
        try:
            return parse_path(str(literal)).key()
        except CimError:
            return str(literal).lower()
    if isinstance(literal, bool):
        return "true" if literal else "false"
    return str(literal).lower()


def _ordered(op: str, a: Any, b: Any) -> bool:
    try:
        if op == "=":
            return bool(a == b)
        if op == "<>":
            return bool(a != b)
        if op == "<":
            return bool(a < b)
        if op == ">":
            return bool(a > b)
        if op == "<=":
            return bool(a <= b)
        if op == ">=":
            return bool(a >= b)
    except TypeError:
        return False
    return False


@lru_cache(maxsize=256)
def like_regex(pattern: str) -> re.Pattern[str]:
    out = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "%":
            out.append(".*")
        elif char == "_":
            out.append(".")
        elif char == "[":
            end = pattern.find("]", i + 2)
            if end < 0:
                out.append(re.escape(char))
            else:
                body = pattern[i + 1:end]
                negate = body.startswith("^") and len(body) > 1
                if negate:
                    body = body[1:]
                chars = []
                j = 0
                while j < len(body):
                    if j + 2 < len(body) and body[j + 1] == "-":
                        chars.append(f"{re.escape(body[j])}-{re.escape(body[j + 2])}")
                        j += 3
                    else:
                        chars.append(re.escape(body[j]))
                        j += 1
                out.append(f"[{'^' if negate else ''}{''.join(chars)}]")
                i = end
        else:
            out.append(re.escape(char))
        i += 1
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


def like_suffix(pattern: str) -> str | None:
    """The literal text every match ends with, for patterns like '%\\Default'."""
    if not pattern.startswith("%"):
        return None
    tail = pattern[1:]
    if not tail or any(c in "%_[" for c in tail):
        return None
    return tail


def like_prefix(pattern: str) -> str | None:
    """The literal text every match starts with, when there is one (for indexes)."""
    prefix = []
    for char in pattern:
        if char in "%_[":
            break
        prefix.append(char)
    return "".join(prefix) if prefix else None


# -- index hints --------------------------------------------------------------------


@dataclass(frozen=True)
class Hint:
    """A conjunct the store can answer from an index: equality or a LIKE prefix."""

    kind: str  # "eq" | "prefix" | "suffix" | "path"
    prop: str  # lower-cased property name ("" for path)
    value: Any
    prop_def: Prop | None = field(default=None, compare=False)


def hints(expr: Expr | None, cls: ResolvedClass) -> list[Hint]:
    """Index hints from the top-level AND chain of a WHERE clause."""
    found: list[Hint] = []
    stack = [expr] if expr is not None else []
    while stack:
        node = stack.pop()
        if isinstance(node, And):
            stack.extend((node.left, node.right))
        elif isinstance(node, Compare) and node.op == "=":
            name, literal = node.left, node.right
            if isinstance(name, Literal):
                name, literal = literal, name
            if not isinstance(name, Name) or not isinstance(literal, Literal):
                continue
            if literal.value is None or len(name.parts) != 1:
                continue
            lowered = name.parts[0].lower()
            if lowered == "__path":
                found.append(Hint("path", "", str(literal.value)))
                continue
            prop = cls.prop(lowered)
            if prop is not None and not prop.array:
                found.append(Hint("eq", lowered, literal.value, prop))
        elif isinstance(node, Like) and not node.negated and len(node.name.parts) == 1:
            prop = cls.prop(node.name.parts[0])
            if prop is None or prop.type != "string" or prop.array:
                continue
            prefix = like_prefix(node.pattern)
            suffix = like_suffix(node.pattern)
            if prefix:
                found.append(Hint("prefix", prop.name.lower(), prefix, prop))
            elif suffix:
                found.append(Hint("suffix", prop.name.lower(), suffix, prop))
    return found
