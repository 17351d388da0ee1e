"""Email addresses and header values that are safe to put into a message.

Python 3.11.7's ``email`` package has CVE-2024-6923: a header value carrying a line break
(or an encoded word that decodes to one) can smuggle in another header, such as ``Bcc``.
Nothing reaches a header unchecked: an address must be a plain ASCII ``local@domain``, and
a display name or subject may hold no line break, no control character and no ``=?``.
"""

from __future__ import annotations

import re

_ATOM = r"[A-Za-z0-9!#$%&'*+/?^_`{|}~=-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_ADDRESS = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@{_LABEL}(?:\.{_LABEL})+")
_UNSAFE_TEXT = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]|=\?")

MAX_ADDRESS_LENGTH = 254
"""RFC 5321 §4.5.3.1.3: a path holds at most 256 octets including the angle brackets."""

PROBLEMS: dict[str, tuple[str, str]] = {
    "unsafe_characters": (
        "含换行、控制字符或“=?”",
        "it contains a line break, a control character or '=?'",
    ),
    "not_an_address": (
        "不是 name@example.com 这样的地址",
        "it is not a plain address like name@example.com",
    ),
    "local_part_too_long": ("@ 前超过 64 个字符", "its part before @ is longer than 64 characters"),
}
"""What is wrong, by code: (Chinese, English)."""


def address_problem(address: str) -> str | None:
    """The code (see ``PROBLEMS``) of why ``address`` cannot be used, or None when it is a
    plain address."""
    if _UNSAFE_TEXT.search(address):
        return "unsafe_characters"
    if len(address) > MAX_ADDRESS_LENGTH or not _ADDRESS.fullmatch(address):
        return "not_an_address"
    if len(address.rsplit("@", 1)[0]) > 64:
        return "local_part_too_long"
    return None


def text_problem(value: str) -> str | None:
    """The code of why ``value`` cannot go into a header (display name, subject), or None."""
    return "unsafe_characters" if _UNSAFE_TEXT.search(value) else None
