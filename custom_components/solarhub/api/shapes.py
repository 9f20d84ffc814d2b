"""Typed readers of the JSON answers of the vendor APIs, shared by the clients.

Every reader takes ``what``, the name of the call whose answer it reads, and returns the value
with its type or raises :class:`MalformedResponseError` worded ``unexpected {what} answer: …``.
Where the vendors' wire formats differ (ids sent as digit strings, padded times), a keyword says
so and defaults to the strict reading; each client states its own choice in one place.

Also here: what an error answer says (:func:`error_message`) and the ``Retry-After`` header.

Hostile answers are refused, not crashed on: nesting too deep for the JSON decoder, text that is
not Unicode (a lone surrogate such as U+D800), numbers too large for a float and digit
strings too long for an int all raise :class:`MalformedResponseError`; values shown in messages
are cut short (:func:`shown`) and excerpts are cut from the first bytes of a body only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
import json
import math
import re
import reprlib
from typing import TYPE_CHECKING, Any, Final

from .errors import MalformedResponseError

if TYPE_CHECKING:
    from collections.abc import Mapping

MAX_EXCERPT_LENGTH: Final = 200
# An excerpt decodes at most this many bytes (white space folds, so take more than 200).
MAX_EXCERPT_BYTES: Final = 1024
_INTEGER: Final = re.compile(r"-?[0-9]+", re.ASCII)
_SHOWN: Final = reprlib.Repr(
    maxlevel=3, maxdict=6, maxlist=6, maxtuple=6, maxstring=80, maxlong=40, maxother=80
)


def loads(body: bytes) -> object:
    """Decode JSON; :class:`ValueError` for anything that is not (too deep nesting included)."""
    try:
        return json.loads(body)
    except RecursionError as err:
        raise ValueError("nested too deeply") from err


def parse_json(body: bytes) -> Any:
    """Decode a JSON body, or raise :class:`MalformedResponseError`."""
    try:
        return loads(body)
    except ValueError as err:  # JSONDecodeError, UnicodeDecodeError, too deep, too many digits
        raise MalformedResponseError(f"the answer is not JSON: {excerpt(body)}") from err


def excerpt(body: bytes) -> str:
    """The body for a message: its first bytes decoded leniently, white space folded, quoted."""
    return excerpt_text(body[:MAX_EXCERPT_BYTES].decode("utf-8", errors="replace"))


def excerpt_text(text: str) -> str:
    """Text for a message: shortened first, white space folded, lone surrogates replaced."""
    cut = len(text) > 4 * MAX_EXCERPT_LENGTH
    text = " ".join(text[: 4 * MAX_EXCERPT_LENGTH].split())
    text = text.encode("utf-8", errors="replace").decode("utf-8")
    if cut or len(text) > MAX_EXCERPT_LENGTH:
        text = text[:MAX_EXCERPT_LENGTH] + "…"
    return repr(text)


def shown(value: object) -> str:
    """A value of an answer for a message: its ``repr``, bounded in length and depth."""
    try:
        return _SHOWN.repr(value)
    except ValueError, RecursionError:  # an int of more digits than ``repr`` may write
        return f"<{type(value).__name__}>"


def is_text(value: str) -> bool:
    """Whether ``value`` is Unicode text (no lone surrogate), so it can be encoded and logged."""
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def finite_float(value: object) -> float | None:
    """A JSON number as a finite float; ``None`` for anything else, or too large for a float."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int of hundreds of digits
        return None
    return number if math.isfinite(number) else None


def malformed(what: str, problem: str) -> MalformedResponseError:
    """The error for an answer of ``what`` with ``problem``."""
    return MalformedResponseError(f"unexpected {what} answer: {problem}")


def as_list(raw: object, what: str) -> list[object]:
    """``raw`` if it is a JSON array."""
    if not isinstance(raw, list):
        raise malformed(what, f"expected a list, got {type(raw).__name__}")
    return raw


def as_dict(raw: object, what: str) -> dict[str, object]:
    """``raw`` if it is a JSON object."""
    if not isinstance(raw, dict):
        raise malformed(what, f"expected an object, got {type(raw).__name__}")
    return raw


def str_field(obj: Mapping[str, object], key: str, what: str) -> str:
    """Read a string."""
    value = obj.get(key)
    if not isinstance(value, str) or not is_text(value):
        raise malformed(what, f"{key!r} should be a string, got {shown(value)}")
    return value


def optional_str_field(obj: Mapping[str, object], key: str, what: str) -> str | None:
    """Read a string, ``None`` when null or absent; numbers are tolerated as text."""
    value = obj.get(key)
    if value is None or (isinstance(value, str) and is_text(value)):
        return value
    if isinstance(value, float) or (isinstance(value, int) and not isinstance(value, bool)):
        try:
            return str(value)
        except ValueError:  # an int of more digits than ``str`` may write
            pass
    raise malformed(what, f"{key!r} should be a string, got {shown(value)}")


def int_field(
    obj: Mapping[str, object], key: str, what: str, *, digit_strings: bool = False
) -> int:
    """Read an integer (never a boolean); with ``digit_strings``, also ``"42"`` or ``"-7"``."""
    value = obj.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if digit_strings and isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        try:
            return int(value)
        except ValueError:  # more digits than ``int`` may read
            pass
    raise malformed(what, f"{key!r} should be an integer, got {shown(value)}")


def datetime_field(
    obj: Mapping[str, object], key: str, what: str, *, strip: bool = False
) -> datetime:
    """Read an ISO 8601 time, aware: one without offset is taken as UTC.

    With ``strip``, white space around the time is tolerated.
    """
    text = str_field(obj, key, what)
    try:
        moment = datetime.fromisoformat(text.strip() if strip else text)
    except ValueError as err:
        raise malformed(what, f"{key!r} is not an ISO 8601 time: {shown(text)}") from err
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# ---- error answers -------------------------------------------------------------------------


def error_message(body: bytes) -> str:
    """The ``message`` of a JSON error body, or an excerpt of whatever came instead."""
    try:
        raw = loads(body)
    except ValueError:
        raw = None
    if isinstance(raw, dict) and isinstance(message := raw.get("message"), str):
        return excerpt_text(message)
    return excerpt(body) if body.strip() else "(no message)"


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date), at least 0.

    ``None`` when the header is absent, not finite or not a date; a date without zone is UTC and
    ``now`` (aware) defaults to the current time.
    """
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            moment = parsedate_to_datetime(value)
        except TypeError, ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        seconds = (moment - (now or datetime.now(UTC))).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)
