"""Hardened POSLog parsing and namespace-agnostic element readers. Pure.

Parsing: lxml with resolve_entities=False, no_network=True, huge_tree=False (so
libxml2's own depth and size limits apply), no DTD loading; any DOCTYPE/ENTITY
declaration is rejected (``hostile_xml``) before or after parsing, so
billion-laughs and external-entity documents fail fast and never read files or
the network. The document's own prolog decides the encoding (UTF-8, UTF-16 with
a BOM, ISO-8859-1...); a document that does not decode is ``bad_encoding``, one
nested deeper than libxml2 allows is ``too_deeply_nested``.

Namespaces: vendors write POSLog in the ARTS namespace with or without a prefix,
in their own namespace URI, or in none. Elements are matched by local name in
any namespace (``{*}Name``), so all of these read alike. `parse` indexes the new document's
children by local name in one walk, and the readers answer from that index what lxml's path
engine would (tests/unit/test_poslog_lookups.py compares the two on every corpus element).
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable
from datetime import datetime, tzinfo
from decimal import Decimal
from typing import TypeVar

from lxml import etree

from ingest.decoders.reader import MAX_PAYLOAD_BYTES, ChannelDecodeError, Reader

SOURCE = "poslog"
NS = "http://www.nrf-arts.org/IXRetail/namespace/"
R = Reader(SOURCE)
_DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_WIDE = ("utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
_TOKEN = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_TRUE = frozenset({"true", "1", "yes"})
Element = etree._Element
_T = TypeVar("_T")


def parse(payload: bytes) -> Element:
    """The POSLog root element, or a ChannelDecodeError saying why not."""
    if not isinstance(payload, (bytes, bytearray)):
        R.fail("unsupported_format", "/", f"payload must be bytes, got {type(payload).__name__}")
    if len(payload) > MAX_PAYLOAD_BYTES:
        R.fail("payload_too_large", "/", f"payload exceeds {MAX_PAYLOAD_BYTES} bytes")
    if _declares_dtd(bytes(payload)):
        R.fail("hostile_xml", "/", "DOCTYPE and ENTITY declarations are not allowed")
    root = _parse_bytes(bytes(payload))
    _SEEN.children = _index(root)  # a new document: forget the last one's elements
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        R.fail("hostile_xml", "/", "DOCTYPE declarations are not allowed")
    if not isinstance(root.tag, str) or etree.QName(root).localname != "POSLog":
        R.fail("unsupported_format", "/", f"root element must be POSLog, got {str(root.tag)[:80]!r}")
    return root


def _parse_bytes(payload: bytes) -> Element:
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False,
        dtd_validation=False, remove_comments=True, remove_pis=True,
    )
    try:
        return etree.fromstring(payload, parser)
    except etree.XMLSyntaxError as exc:
        message = str(exc)
        reason = "malformed_xml"
        if "depth" in message.lower():
            reason = "too_deeply_nested"
        elif "encoding" in message.lower() or "not proper utf" in message.lower():
            reason = "bad_encoding"
        R.fail(reason, "/", f"payload is not well-formed XML: {message[:200]}")
    except (etree.LxmlError, ValueError, LookupError) as exc:
        R.fail("malformed_xml", "/", f"payload cannot be parsed: {str(exc)[:200]}")


def _declares_dtd(payload: bytes) -> bool:
    """Cheap pre-parse check; NUL bytes up front mean UTF-16/32, so those decodings are checked too."""
    candidates = [payload]
    if b"\x00" in payload[:4]:
        candidates += [payload.decode(name, errors="ignore").encode("utf-8", errors="ignore") for name in _WIDE]
    return any(_DECLARATION.search(candidate) for candidate in candidates)


@functools.lru_cache(maxsize=512)
def q(path: str) -> str:
    """A path matching each step's local name in any namespace: 'A/B' -> '{*}A/{*}B'."""
    return "/".join(part if not part or part.startswith(".") else f"{{*}}{part}" for part in path.split("/"))


def local(element: Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def where(element: Element, path: str = "") -> str:
    """An XPath-like location without namespaces, e.g. /POSLog/Transaction[2]/RetailTransaction/LineItem[3]."""
    tree_path = element.getroottree().getelementpath(element)
    plain = re.sub(r"\{[^}]*\}", "", tree_path)
    base = "/POSLog" if plain == "." else f"/POSLog/{plain}"
    return f"{base}/{path}" if path else base


@functools.lru_cache(maxsize=512)
def _steps(path: str) -> tuple[str, ...] | None:
    """'A/B' -> ('A', 'B'); None for a path only the path engine reads ('.//A', '../A')."""
    if not path or path.startswith(".") or "[" in path:
        return None
    return tuple(path.split("/"))


class _Seen(threading.local):
    """The child elements of each element of the document being read, by local name (`parse`
    indexes each new document). Per thread, as lxml trees are read by one thread at a time."""

    def __init__(self) -> None:
        self.children: dict[Element, dict[str, list[Element]]] = {}


_SEEN = _Seen()


def _index(root: Element) -> dict[Element, dict[str, list[Element]]]:
    """Every element's children grouped by local name (any namespace), in document order, from
    one walk of the tree: the decoder's some 60 lookups per transaction become dict reads."""
    index: dict[Element, dict[str, list[Element]]] = {}
    for item in root.iterdescendants():
        tag = item.tag
        if not isinstance(tag, str):
            continue
        parent = item.getparent()
        names = index.get(parent)
        if names is None:
            index[parent] = names = {}
        name = tag[tag.rfind("}") + 1:]
        same = names.get(name)
        if same is None:
            names[name] = [item]
        else:
            same.append(item)
    return index


def _by_name(element: Element) -> dict[str, list[Element]]:
    """`element`'s children by local name: from the document's index, else (a leaf, or an element
    of a tree `parse` did not read) gathered from the element itself and kept."""
    found = _SEEN.children.get(element)
    if found is None:
        found = {}
        for item in element:
            tag = item.tag
            if isinstance(tag, str):
                found.setdefault(tag[tag.rfind("}") + 1:], []).append(item)
        _SEEN.children[element] = found
    return found


def child(element: Element, path: str) -> Element | None:
    """`element.find(q(path))`: the first match in document order. A path of plain steps is read
    from the per-element children by local name (`_by_name`), one below the descendants ('.//A/B')
    from there too; any other path goes to lxml's path engine."""
    steps = _steps(path)
    if steps is None:
        return _search(element, path)
    if len(steps) == 1:  # the usual lookup, inlined: the decoder's innermost call
        found = (_SEEN.children.get(element) or _by_name(element)).get(path)
        return found[0] if found else None
    return _first_under(element, steps)


def _search(element: Element, path: str) -> Element | None:
    below = _steps(path[3:]) if path.startswith(".//") else None
    if below is None:
        return element.find(q(path))
    for top in element.iterdescendants(f"{{*}}{below[0]}"):  # './/A/B': B under the first A that has one
        found = _first_under(top, below[1:]) if len(below) > 1 else top
        if found is not None:
            return found
    return None


def _first_under(element: Element, steps: tuple[str, ...]) -> Element | None:
    found = _by_name(element).get(steps[0])
    if not found:
        return None
    if len(steps) == 1:
        return found[0]
    for item in found:
        deeper = _first_under(item, steps[1:])
        if deeper is not None:
            return deeper
    return None


def children(element: Element, path: str) -> list[Element]:
    """`element.findall(q(path))` for a path of plain steps ('LineItem/Tender'), in document order."""
    steps = _steps(path)
    if steps is None:
        return element.findall(q(path))
    found = [element]
    for step in steps:
        found = [item for parent in found for item in _by_name(parent).get(step, ())]
    return found


def text(element: Element | None, path: str, *, required: bool = False) -> str | None:
    found = child(element, path) if element is not None else None
    value = (found.text or "").strip() if found is not None else ""
    if not value and required and element is not None:
        R.fail("missing_field", where(element, path), f"required element {path} is missing or empty")
    return value or None


def token(element: Element, path: str, value: str | None = None) -> str:
    value = value if value is not None else text(element, path, required=True) or ""
    if not _TOKEN.match(value):
        R.fail("invalid_value", where(element, path), f"{path} must be 1-64 letters, digits, '.', '_' or '-'")
    return value


def attr_or_child(element: Element | None, name: str) -> str | None:
    if element is None:
        return None
    return (element.get(name) or "").strip() or text(element, name)


def flag(element: Element | None, name: str) -> bool:
    """A boolean given as an attribute or a child element ("true"/"1")."""
    return (attr_or_child(element, name) or "").lower() in _TRUE


def located(read: Callable[[str], _T], element: Element, path: str) -> _T:
    """Run `read(location)`; the XPath-like location is only built when the read fails."""
    try:
        return read("")
    except ChannelDecodeError:
        return read(where(element, path))


def money(element: Element, path: str) -> Decimal | None:
    raw = text(element, path)
    return located(lambda at: R.money_value(raw, at), element, path) if raw is not None else None


def moment(element: Element, path: str, *, local_tz: tzinfo | None) -> datetime | None:
    raw = text(element, path)
    if raw is None:
        return None
    return located(lambda at: R.timestamp_value(raw, at, local_tz=local_tz), element, path)
