"""Text from AWS made safe to show: no terminal control, no fake lines, no spreadsheet formulas.

AWS-controlled strings (error and failure messages, names, values outside today's enums)
reach terminals, text logs and spreadsheets. `escape_control`, the one escaping function,
writes control characters (C0, DEL, C1, the line separators, the bidirectional controls) as
visible escapes (`\\x1b`, `\\n`, `\\u202e`), so an escape sequence cannot drive the
terminal, a newline cannot start a fake log line or CSV row, and text cannot be reordered
on screen; `neutralize_formula` keeps a CSV cell from being read as a formula (OWASP's
advice: a leading `'`).
"""

from __future__ import annotations

import re

# C0 controls, DEL, C1 controls, the Unicode line and paragraph separators, and the
# bidirectional overrides that reorder what a terminal shows.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}

# A spreadsheet reads a cell starting with these as a formula (or, for tab and CR, strips
# them and reads what follows).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _escaped(match: re.Match[str]) -> str:
    char = match[0]
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def _json_escaped(match: re.Match[str]) -> str:
    return f"\\u{ord(match[0]):04x}"


def escape_control(text: str, *, in_json: bool = False) -> str:
    """`text` with every control character written as a visible escape.

    Every field shown on a terminal or written to CSV passes here. `in_json`: `text` is
    JSON (a list or object in a cell), so escapes are JSON's own `\\uXXXX`, and the text
    still decodes to the same value (JSON has control characters only inside strings).
    """
    return _CONTROL.sub(_json_escaped if in_json else _escaped, text)


def neutralize_formula(cell: str) -> str:
    """`cell`, with a leading `'` if a spreadsheet would read it as a formula."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell
