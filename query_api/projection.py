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
import types
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


def _money(value: Any) -> str:
    return str(value if isinstance(value, Decimal) else Decimal(str(value)))


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
        item = _converter(get_args(annotation)[0])
        return None if item is None else lambda values: [item(v) if v is not None else v for v in values]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return projection(annotation)
    if annotation is datetime:
        return lambda value: instant(value, utc=utc)
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
def projection(model: type[BaseModel], hidden: frozenset[str] = frozenset()) -> Projection:
    """The projection of a stored mapping onto `model`'s fields; `hidden` fields always take their default.
    Fields copied as stored with a scalar default take the fast path (one `dict.get` each)."""
    plain: list[tuple[str, Any]] = []
    converted: list[tuple[str, Convert | None, Callable[[], Any]]] = []
    hidden_defaults: list[tuple[str, Callable[[], Any]]] = []
    for name, info in model.model_fields.items():
        factory, scalar = _default(model, name)
        convert = None if name in hidden else _converter(info.annotation, utc=_to_utc(info.metadata))
        if name in hidden:
            hidden_defaults.append((name, factory))
        elif convert is None and scalar is not _ABSENT:
            plain.append((name, scalar))
        else:
            converted.append((name, convert, factory))

    def project(document: dict[str, Any]) -> dict[str, Any]:
        get = document.get
        answer = {name: get(name, default) for name, default in plain}
        for name, convert, factory in converted:
            value = get(name, _ABSENT)
            if value is _ABSENT:
                answer[name] = factory()
            else:
                answer[name] = convert(value) if convert is not None and value is not None else value
        for name, factory in hidden_defaults:
            answer[name] = factory()
        return answer

    return project


