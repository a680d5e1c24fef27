"""Who is calling: SigV4 credential scopes, issued session credentials and identities.

Signatures are never verified. The access key id names the caller: keys issued by
AssumeRole map to the assumed role's account, any other key is the management account.
"""

from __future__ import annotations

import hashlib
import secrets
import string
from dataclasses import dataclass

from ._model import Organization
from ._protocols import EC2, STS, SimError, fault_error

_KEY_ALPHABET = string.ascii_uppercase + string.digits


@dataclass(frozen=True)
class CredentialScope:
    """The `Credential=` part of a SigV4 Authorization header."""

    access_key: str
    date: str
    region: str
    service: str


@dataclass(frozen=True)
class IssuedCredentials:
    """Session credentials handed out by AssumeRole."""

    access_key_id: str
    secret_access_key: str
    session_token: str
    account_id: str
    role_name: str
    session_name: str
    expires_at: float


@dataclass(frozen=True)
class Identity:
    """The principal behind a request."""

    account_id: str
    arn: str
    user_id: str
    session: IssuedCredentials | None = None


def parse_authorization(header: str) -> CredentialScope | None:
    """The credential scope of a SigV4 header, or None if the header is not SigV4."""
    if not header.startswith("AWS4-HMAC-SHA256"):
        return None
    start = header.find("Credential=")
    if start < 0:
        return None
    end = header.find(",", start)
    parts = header[start + 11 : end if end >= 0 else None].strip().split("/")
    if len(parts) != 5 or parts[4] != "aws4_request" or not all(parts):
        return None
    return CredentialScope(parts[0], parts[1], parts[2], parts[3])


def _stable_id(prefix: str, *parts: str) -> str:
    digest = hashlib.sha256("/".join(parts).encode()).digest()
    return prefix + "".join(_KEY_ALPHABET[b % len(_KEY_ALPHABET)] for b in digest[:17])


def role_id(account_id: str, role_name: str) -> str:
    """The stable unique id (AROA...) of a role."""
    return _stable_id("AROA", account_id, role_name)


def invalid_token_error(service: str) -> SimError:
    """The answer to a key the service does not know, in that service's words."""
    if service == STS:
        return SimError(
            "InvalidClientTokenId", "The security token included in the request is invalid.", 403
        )
    if service == EC2:
        return SimError(
            "AuthFailure", "AWS was not able to validate the provided access credentials", 401
        )
    return SimError(
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
        403,
    )


def expired_token_error(service: str) -> SimError:
    """The answer to a session key used after its expiry, in that service's words."""
    return fault_error(service, "expired_token")


def missing_authentication_error(service: str) -> SimError:
    """The answer to a request without a usable SigV4 Authorization header."""
    if service in (STS, EC2):
        message = "Request is missing Authentication Token"
        return SimError("MissingAuthenticationToken", message, 403)
    return SimError("MissingAuthenticationTokenException", "Missing Authentication Token", 403)


def _session_identity(issued: IssuedCredentials) -> Identity:
    account, role, session = issued.account_id, issued.role_name, issued.session_name
    return Identity(
        account_id=account,
        arn=f"arn:aws:sts::{account}:assumed-role/{role}/{session}",
        user_id=f"{role_id(account, role)}:{session}",
        session=issued,
    )


class CredentialStore:
    """Session credentials issued so far (lives on the server thread)."""

    def __init__(self) -> None:
        self._issued: dict[str, Identity] = {}

    def issue(
        self, account_id: str, role_name: str, session_name: str, expires_at: float
    ) -> IssuedCredentials:
        """Create and remember fresh session credentials."""
        key = "ASIA" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16))
        issued = IssuedCredentials(
            access_key_id=key,
            secret_access_key=secrets.token_urlsafe(30)[:40],
            session_token="FwoGZXIvYXdzE" + secrets.token_urlsafe(96),
            account_id=account_id,
            role_name=role_name,
            session_name=session_name,
            expires_at=expires_at,
        )
        # The identity is built once here: the hot path only looks it up.
        self._issued[key] = _session_identity(issued)
        return issued

    def identify(
        self,
        org: Organization,
        service: str,
        access_key: str,
        session_token: str | None,
        now: float,
    ) -> Identity:
        """The identity behind a key; raises the service's error for bad or expired keys."""
        identity = self._issued.get(access_key)
        if identity is None or identity.session is None:
            if access_key.startswith("ASIA"):
                raise invalid_token_error(service)
            account = org.management_account_id
            return Identity(
                account, f"arn:aws:iam::{account}:user/inventory", _stable_id("AIDA", access_key)
            )
        if session_token != identity.session.session_token:
            raise invalid_token_error(service)
        if now >= identity.session.expires_at:
            raise expired_token_error(service)
        return identity
