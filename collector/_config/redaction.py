"""Secrets masked out of any text before it is shown, logged or stored. Standard library only.

Masked: AWS access key ids (the `AKIA`/`ASIA` prefix kept), secret access keys and session
tokens next to their names (`<SecretAccessKey>`, `"SessionToken": ...`,
`aws_secret_access_key=`, `X-Amz-Security-Token`, `token=`), SigV4 `Authorization` headers
and signatures, a 40-character secret key right after an access key id, and passwords in
URLs (`scheme://user:PASSWORD@host`) and `password=` parameters.
"""

from __future__ import annotations

import re

MASK = "***"

# A name that introduces a secret value, then how the value is attached to it: XML
# (`<SessionToken>v`), JSON or a Python repr (`"token": "v"`, `'token': b'v'`), a header
# line (`x-amz-security-token:v`), a parameter (`password=v`).
_NAMED = re.compile(
    r"""
    (?<![A-Za-z0-9])
    (?P<name>
        (?:aws_)?secret_?access_?key | secret_?key
        | (?:aws_)?session_?token | (?:x-amz-)?security[-_]?token | token
        | (?:pg)?password | passwd
    )
    (?P<sep>\s*> | ["']?\s*[:=]\s*b?["']?)
    (?P<value>[^\s"'<>&,;)}\]]+)
    """,
    re.IGNORECASE | re.VERBOSE,
)
_AUTHORIZATION = re.compile(
    r"""
    (?<![A-Za-z0-9])
    (?P<name>authorization)
    (?P<sep>["']?\s*[:=]\s*b?["']?)
    (?P<value>(?:AWS4-HMAC-SHA256|AWS|Bearer|Basic|Digest)\b[^"'\r\n]*)
    """,
    re.IGNORECASE | re.VERBOSE,
)
_SIGNATURE = re.compile(
    r"(?<![A-Za-z0-9])(?P<name>(?:x-amz-)?signature)(?P<sep>[\"']?\s*[:=]\s*[\"']?)"
    r"(?P<value>[0-9a-fA-F]{16,})",
    re.IGNORECASE,
)
# A secret access key written right after its key id, as people paste them.
_KEY_PAIR = re.compile(
    r"(?P<name>(?:AKIA|ASIA)[A-Z0-9]{12,})(?P<sep>[\s\"',:;=/|]{1,5})(?P<value>[A-Za-z0-9/+]{40})"
    r"(?![A-Za-z0-9/+])"
)
_KEY_ID = re.compile(r"(?<![A-Z0-9])(AKIA|ASIA)[A-Z0-9]{12,}(?![A-Z0-9])")
# `scheme://user:PASSWORD@host`; the password runs to the last `@` of the authority, so an
# unencoded `@` in it is masked too.
_URL_PASSWORD = re.compile(
    r"(?P<name>\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]*)(?P<sep>:)(?P<value>[^\s/]*)(?=@)"
)


def _mask(match: re.Match[str]) -> str:
    return match["name"] + match["sep"] + MASK


def redact_secrets(text: str) -> str:
    """`text` with every credential, token, signature and password in it replaced by `***`."""
    for pattern in (_AUTHORIZATION, _NAMED, _SIGNATURE, _KEY_PAIR, _URL_PASSWORD):
        text = pattern.sub(_mask, text)
    return _KEY_ID.sub(lambda m: m[1] + MASK, text)
