"""Checks that stored or served bytes hold no raw chat id.

A plain substring test misfires: a random version number or a timestamp may contain a short id
by chance ("1221171007" holds 7100). An id counts as present only as a whole number.
"""

from __future__ import annotations

import re


def mentions(blob: bytes | str, number: int) -> bool:
    """True when `number` stands in `blob` as a whole number, not inside a longer one."""
    text = blob.decode("utf-8", "replace") if isinstance(blob, bytes) else blob
    return re.search(rf"(?<![0-9]){number}(?![0-9])", text) is not None
