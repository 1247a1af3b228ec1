"""Strict request bodies.

Litestar decodes bodies leniently ("1" becomes 1). A payment API should not guess, so request
bodies go through `StrictBody`, a DTO that decodes with msgspec in strict mode, reports each
error against the field it names, and documents the body type in the OpenAPI spec.
"""

from __future__ import annotations

import re
import types
from collections.abc import Generator
from typing import Annotated, Any, ClassVar, Generic, Literal, TypeVar, Union, get_args, get_origin

import msgspec
from litestar.dto import AbstractDTO
from litestar.dto.data_structures import DTOFieldDefinition
from litestar.typing import FieldDefinition

from server.errors import FieldError, InvalidRequest
from sync import limits

T = TypeVar("T")

_AT = re.compile(r"^(?P<message>.*?)(?: - at (?P<key>`key` in )?`\$(?P<path>[^`]*)`)?$", re.DOTALL)
_MISSING = re.compile(r"^Object missing required field `(?P<name>[^`]+)`$")
_PATTERN = re.compile(r"^Expected `str` matching regex '(?P<pattern>.*)'$", re.DOTALL)

# What a pattern means, said the way a person would say it.
PATTERN_HINTS = {
    limits.E164: "must be an E.164 phone number such as +15551234567",
    limits.NO_CONTROL: "must not contain control characters (newlines, tabs, NUL, ...)",
    limits.TEXT_CHARACTERS: "must not contain control characters other than newline and tab",
    r"^[^@\s]+@[^@\s]+\.[^@\s]+\Z": "must be an email address",
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}\Z": "must be a date as YYYY-MM-DD",
}
_UNKNOWN = re.compile(r"^Object contains unknown field `(?P<name>[^`]*)`$", re.DOTALL)
_ENUM = re.compile(r"^Invalid enum value .*$", re.DOTALL)
ECHO = 64  # at most this much of what was sent is repeated back in an error
UNKNOWN_FIELD = "is not a field of this request"
MAX_LISTED = 12  # a closed set this small is named in its error
CURRENCIES = frozenset(get_args(limits.Currency))


_STEP = re.compile(r"\.([^.\[]+)|\[\d+\]")


def allowed_values(root: Any, path: str) -> list[str]:
    """The values the field at `path` (`$.lineItems[0].kind` as msgspec names it) may take, in the
    order the type declares them; none if the path does not lead to a closed set."""
    kind: Any = root
    for step in _STEP.finditer(path):
        kind = _inside(kind, step.group(1))
        if kind is None:
            return []
    return [arg for arg in _choices(kind) if isinstance(arg, str)]


def _bare(kind: Any) -> Any:
    """`Annotated[T, Meta(...)]` -> `T`."""
    return get_args(kind)[0] if get_origin(kind) is Annotated else kind


def _choices(kind: Any) -> list[Any]:
    kind = _bare(kind)
    if get_origin(kind) is Literal:
        return list(get_args(kind))
    if get_origin(kind) in (Union, types.UnionType):
        return [value for arg in get_args(kind) for value in _choices(arg)]
    return []


def _inside(kind: Any, name: str | None) -> Any:
    """The type one step into `kind`: a struct's field by its wire name, or a list's item."""
    kind = _bare(kind)
    for arg in get_args(kind) if get_origin(kind) in (Union, types.UnionType) else (kind,):
        arg = _bare(arg)
        if name is None and get_origin(arg) in (list, tuple, set, frozenset):
            return get_args(arg)[0]
        if name is not None and isinstance(arg, type) and issubclass(arg, msgspec.Struct):
            for field in msgspec.structs.fields(arg):
                if field.encode_name == name:
                    return field.type
    return None


def _one_of(options: list[str]) -> str:
    if set(options) == CURRENCIES:
        return "must be an active ISO 4217 currency code such as USD"
    if options and len(options) <= MAX_LISTED:
        return f"must be one of: {', '.join(options)}"
    return "is not one of the allowed values"


def field_error(exc: msgspec.ValidationError, root: Any = None) -> FieldError:
    """`Expected int - at $.lineItems[0].quantity` -> field `lineItems[0].quantity`."""
    match = _AT.match(str(exc))
    message = match.group("message") if match else str(exc)
    path = (match.group("path") or "") if match else ""
    if match and match.group("key"):
        message = f"a key: {message}"
    missing = _MISSING.match(message)
    if missing:
        path = f"{path}.{missing.group('name')}"
        message = "is required"
    unknown = _UNKNOWN.match(message)
    if unknown:
        path = f"{path}.{unknown.group('name')[:ECHO]}"
        message = UNKNOWN_FIELD
    if _ENUM.match(message):
        message = _one_of(allowed_values(root, path) if root is not None else [])
    pattern = _PATTERN.match(message)
    if pattern:
        regex = pattern.group("pattern").replace("\\\\", "\\")
        message = PATTERN_HINTS.get(regex, "is not in the expected format")
    field = path.replace("[...]", "").lstrip(".") or "body"
    return FieldError(field, message.replace("`", ""))


def decode_strict(decoder: msgspec.json.Decoder[T], raw: bytes) -> T:
    if not raw.strip():
        raise InvalidRequest("a JSON request body is required", [FieldError("body", "is required")])
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidRequest(
            "the body is not valid UTF-8", [FieldError("body", f"is not UTF-8 (byte {exc.start})")]
        ) from None
    try:
        return decoder.decode(raw)
    except msgspec.ValidationError as exc:
        error = field_error(exc, decoder.type)
        raise InvalidRequest(f"{error.field}: {error.message}", [error]) from None
    except msgspec.DecodeError as exc:
        raise InvalidRequest("the body is not valid JSON", [FieldError("body", str(exc)[:200])]) from None


class StrictBody(AbstractDTO[T], Generic[T]):
    """Use as `dto=StrictBody, return_dto=None` on a handler whose `data` is a msgspec Struct."""

    _decoders: ClassVar[dict[str, msgspec.json.Decoder[Any]]] = {}

    @classmethod
    def generate_field_definitions(cls, model_type: type[Any]) -> Generator[DTOFieldDefinition, None, None]:
        yield from ()

    @classmethod
    def detect_nested_field(cls, field_definition: FieldDefinition) -> bool:
        return False

    @classmethod
    def create_for_field_definition(
        cls, field_definition: FieldDefinition, handler_id: str, backend_cls: Any = None
    ) -> None:
        if field_definition.name == "data":
            cls._decoders[handler_id] = msgspec.json.Decoder(field_definition.annotation)

    @classmethod
    def create_openapi_schema(cls, field_definition: FieldDefinition, handler_id: str, schema_creator: Any) -> Any:
        return schema_creator.for_field_definition(field_definition)

    def decode_bytes(self, value: bytes) -> Any:
        handler_id = self.asgi_connection.route_handler.handler_id
        return decode_strict(self._decoders[handler_id], value)
