"""Whitelist projections of stored documents onto response models, compiled once per model.

Why: validating every answer field by field with pydantic cost more CPU than everything else in
a read (about 40 validations per search page), yet the stored documents were already validated
by the canonical model when they were written. A projection copies, for one response model,
exactly the fields that model declares, at every level of nesting, and nothing else: an unknown
or newer stored field is dropped the way `extra="ignore"` dropped it, so the response models
stay the single whitelist of what an answer may show (the views hide whole fields per role on
top of it).

Guarantee: for a document in the stored form (the canonical model's JSON dump, plus any extra
fields anywhere), `project(document)` equals the JSON form of `Model.model_validate(document)`:
missing fields take the model's default (in JSON form), instants are written as pydantic writes
them (`Z` for UTC; fields typed with the canonical `AwareDatetime` are converted to UTC first),
money is the decimal's string. A required field that is missing raises `KeyError` (the request
fails, as the validation failed before). Checked by a property test against the models.
"""

from __future__ import annotations

import copy
import re
import types
from dataclasses import dataclass
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import AfterValidator, BaseModel, TypeAdapter
from pydantic_core import PydanticUndefined

from order_domain.model import AwareDatetime

Convert = Callable[[Any], Any]
_ABSENT = object()
Projection = Callable[[dict[str, Any]], dict[str, Any]]


@lru_cache(maxsize=8192)
def _instant_text(text: str, utc: bool) -> str:
    return instant(datetime.fromisoformat(text), utc=utc)


def instant(value: datetime | str, *, utc: bool = False) -> str:
    """An instant as pydantic writes it in JSON (ISO 8601, `Z` for a zero offset)."""
    if isinstance(value, str):
        return _instant_text(value, utc)
    if utc:
        value = value.astimezone(UTC)
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


_UTC_VALIDATORS = get_args(AwareDatetime)[1:]


def _to_utc(metadata: list[Any]) -> bool:
    """Whether a field's validators convert its instant to UTC; any other transforming validator is refused."""
    validators = [m for m in metadata if isinstance(m, AfterValidator)]
    if any(m not in _UTC_VALIDATORS for m in validators):
        raise TypeError(f"no projection for a field with validators {validators}")
    return bool(validators)


@lru_cache(maxsize=8192)
def _money_text(text: str) -> str:
    return str(Decimal(text))


def _money(value: Any) -> str:
    if type(value) is str:
        return _money_text(value)
    return str(value if isinstance(value, Decimal) else Decimal(str(value)))


# An instant as the canonical model stores it at UTC ("+00:00", or pydantic's "Z"), seconds or
# non-zero microseconds: its JSON form is the text with a "Z" (what parsing and writing it gives,
# with or without the conversion to UTC), found without parsing. Anything else is parsed.
_UTC_TEXT = re.compile(r"[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])T(?:[01][0-9]|2[0-3]):[0-5][0-9]:"
                       r"[0-5][0-9](?:\.(?!000000)[0-9]{6})?(?:\+00:00|Z)").fullmatch


def _instant_converter(utc: bool) -> Convert:
    """A stored instant (text, as the engine answers) to its JSON form: the canonical UTC text by a
    slice (most instants are distinct, so a cache would mostly miss), any other text cached."""
    def convert(value: Any) -> str:
        if type(value) is not str:
            return instant(value, utc=utc)
        if _UTC_TEXT(value) is not None:
            return value if value[-1] == "Z" else value[:-6] + "Z"
        return _instant_text(value, utc)
    return convert


@dataclass(frozen=True)
class _Each:
    """A list's converter: `item` applied to every element but None (inlined by the generated code;
    `models`: the items are objects, whose projection answers None for None, so it maps in C)."""

    item: Convert
    models: bool = False

    def __call__(self, values: Any) -> list[Any]:
        return [self.item(v) if v is not None else v for v in values]


def _converter(annotation: Any, *, utc: bool = False) -> Convert | None:
    """How one declared type turns a stored value into its JSON form (`None`: as stored)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        base, *metadata = get_args(annotation)
        return _converter(base, utc=utc or _to_utc(metadata))
    if origin in (Union, types.UnionType):
        members = [a for a in get_args(annotation) if a is not type(None)]
        return _converter(members[0], utc=utc) if len(members) == 1 else None  # scalar unions: as stored
    if origin in (list, tuple):
        item_type = get_args(annotation)[0]
        item = _converter(item_type)
        return None if item is None else _Each(item, isinstance(item_type, type) and issubclass(item_type, BaseModel))
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return projection(annotation)
    if annotation is datetime:
        return _instant_converter(utc)
    if annotation is Decimal:
        return _money
    return None


def _default(model: type[BaseModel], name: str) -> tuple[Callable[[], Any], Any]:
    """A factory of the field's default in JSON form, and that default when it is an immutable scalar
    (`_ABSENT` otherwise: required, or a list or object that each answer gets a copy of)."""
    info = model.model_fields[name]
    if info.is_required():
        def missing() -> Any:
            raise KeyError(f"{model.__name__}.{name} is required")
        return missing, _ABSENT
    value = info.default if info.default is not PydanticUndefined else info.default_factory()  # type: ignore[misc]
    dumped = TypeAdapter(info.annotation).dump_python(value, mode="json")
    if isinstance(dumped, list | dict):
        return (lambda: copy.copy(dumped)), _ABSENT
    return (lambda: dumped), dumped


@lru_cache(maxsize=None)
def projection(model: type[BaseModel], hidden: frozenset[str] = frozenset(),
               computed: frozenset[str] = frozenset()) -> Projection:
    """The projection of a stored mapping onto `model`'s fields; `hidden` fields always take their default,
    `computed` fields are None placeholders in their declared place, which the caller sets (a view's
    customer, payment summary and tier: never a stored value, and no default built only to be replaced).

    Generated once as one function per (model, hidden set): a single dict display with one entry per
    declared field (a field copied as stored with a scalar default is one `dict.get`), so an answer
    costs no interpretation of a field list per document; lists of objects are mapped, None stays None."""
    namespace: dict[str, Any] = {"ABSENT": _ABSENT}
    entries = [f"{name!r}: None" if name in computed else
               _entry(model, name, info, hidden=name in hidden, index=index, namespace=namespace)
               for index, (name, info) in enumerate(model.model_fields.items())]
    source = (f"def project(document):\n    if document is None:\n        return None\n    get = document.get\n"
              f"    return {{{', '.join(entries)}}}\n")
    exec(compile(source, f"<projection of {model.__name__}>", "exec"), namespace)  # noqa: S102 - our own text
    project: Projection = namespace["project"]
    return project


def _entry(model: type[BaseModel], name: str, info: Any, *, hidden: bool, index: int,
           namespace: dict[str, Any]) -> str:
    """One `'name': expression` of the generated dict display (values bound in `namespace` by position)."""
    factory, scalar = _default(model, name)
    key = repr(name)
    namespace[f"d{index}"], namespace[f"f{index}"] = scalar, factory
    default = f"d{index}" if scalar is not _ABSENT else f"f{index}()"
    if hidden:
        return f"{key}: {default}"
    convert = _converter(info.annotation, utc=_to_utc(info.metadata))
    if convert is None:
        return f"{key}: get({key}, d{index})" if scalar is not _ABSENT else \
            f"{key}: f{index}() if (v := get({key}, ABSENT)) is ABSENT else v"
    namespace[f"c{index}"] = convert.item if isinstance(convert, _Each) else convert
    converted = f"c{index}(v)"
    if isinstance(convert, _Each):  # no comprehension (a frame per list) where the items are objects
        converted = f"list(map(c{index}, v))" if convert.models else f"[c{index}(x) if x is not None else x for x in v]"
    return f"{key}: {default} if (v := get({key}, ABSENT)) is ABSENT else (None if v is None else {converted})"
