"""STS: GetCallerIdentity and AssumeRole (query protocol)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from ._auth import Identity, role_id
from ._context import Call, ServerState
from ._model import Organization
from ._protocols import Reply, SimError, query_reply, xml_element

_ROLE_ARN = re.compile(
    r"arn:([a-z-]+):iam::(\d{12}):role/((?:[\x21-\x2E\x30-\x7E]+/)*)([\w+=,.@-]{1,64})"
)
_SESSION_NAME = re.compile(r"[\w+=,.@-]{2,64}")
_EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]{2,1224}")
_CHAINED_MAX_SECONDS = 3600


def _invalid(field: str, value: object, constraint: str) -> SimError:
    message = (
        f"1 validation error detected: Value '{value}' at '{field}' "
        f"failed to satisfy constraint: {constraint}"
    )
    return SimError("ValidationError", message, 400)


def _duration(call: Call, identity: Identity, role_max: int) -> int:
    raw = call.form.get("DurationSeconds", "3600")
    if not raw.isdigit() or not 900 <= int(raw) <= 43200:
        raise _invalid("durationSeconds", raw, "Member must have value between 900 and 43200")
    seconds = int(raw)
    if identity.session is not None and seconds > _CHAINED_MAX_SECONDS:
        message = (
            "The requested DurationSeconds exceeds the 1 hour session limit "
            "for roles assumed by role chaining."
        )
        raise SimError("ValidationError", message, 400)
    if seconds > role_max:
        message = "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
        raise SimError("ValidationError", message, 400)
    return seconds


def _check_access(
    state: ServerState,
    identity: Identity,
    role_arn: str,
    match: re.Match[str],
    ext: str | None,
) -> None:
    org = state.org
    partition, account, path, role = match.group(1, 2, 3, 4)
    if _organization_role(org, account, role):
        # Its trust policy names the base principal: no other session may assume it.
        if identity.session is None:
            return
    elif _as_organization_role(org, identity):
        # Member roles trust the collector's principal, not the organization role.
        message = (
            f"User: {identity.arn} is not authorized to perform: sts:AssumeRole "
            f"on resource: {role_arn}"
        )
        raise SimError("AccessDenied", message, 403)
    target = org.accounts.get(account)
    quota = state.faults.assume_role_quota
    if account in quota:
        quota[account] -= 1
    refused = (
        target is None
        or target.state != "ACTIVE"
        or not target.member_role
        or account in state.faults.deny_assume_role
        or quota.get(account, 0) < 0
        or partition != org.partition
        or role != org.member_role_name
        or "/" + path != org.member_role_path
        or (org.required_external_id is not None and ext != org.required_external_id)
    )
    if refused:
        message = (
            f"User: {identity.arn} is not authorized to perform: sts:AssumeRole "
            f"on resource: {role_arn}"
        )
        raise SimError("AccessDenied", message, 403)


def _organization_role(org: Organization, account: str, role: str) -> bool:
    """Whether (account, role) is the organization role of `org`, if it has one."""
    return org.organization_role_name == role and account == org.management_account_id


def _as_organization_role(org: Organization, identity: Identity) -> bool:
    """Whether `identity` is a session of the organization role."""
    session = identity.session
    return session is not None and _organization_role(org, session.account_id, session.role_name)


def _assume_role(state: ServerState, call: Call, identity: Identity) -> Reply:
    form = call.form
    role_arn = form.get("RoleArn", "")
    match = _ROLE_ARN.fullmatch(role_arn)
    if match is None:
        raise _invalid("roleArn", role_arn, "Member must be a valid IAM role ARN")
    session = form.get("RoleSessionName", "")
    if _SESSION_NAME.fullmatch(session) is None:
        raise _invalid(
            "roleSessionName",
            session,
            "Member must have length between 2 and 64 "
            r"and match pattern [\w+=,.@-]*",
        )
    external_id = form.get("ExternalId")
    if external_id is not None and _EXTERNAL_ID.fullmatch(external_id) is None:
        raise _invalid("externalId", external_id, "Member must have length between 2 and 1224")
    seconds = _duration(call, identity, state.org.role_max_session_seconds)
    account, role = match.group(2), match.group(4)
    _check_access(state, identity, role_arn, match, external_id)
    cap = state.credential_lifetime_cap
    lifetime = seconds if cap is None else min(float(seconds), cap)
    issued = state.credentials.issue(account, role, session, int(state.clock() + lifetime))
    expiration = datetime.fromtimestamp(issued.expires_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    partition = state.org.partition
    assumed = Identity(account, f"arn:{partition}:sts::{account}:assumed-role/{role}/{session}", "")
    result = (
        "<Credentials>"
        f"{xml_element('AccessKeyId', issued.access_key_id)}"
        f"{xml_element('SecretAccessKey', issued.secret_access_key)}"
        f"{xml_element('SessionToken', issued.session_token)}"
        f"{xml_element('Expiration', expiration)}"
        "</Credentials><AssumedRoleUser>"
        f"{xml_element('AssumedRoleId', role_id(account, role) + ':' + session)}"
        f"{xml_element('Arn', assumed.arn)}"
        "</AssumedRoleUser>"
    )
    return query_reply("AssumeRole", result, call.request_id)


def _caller_identity(state: ServerState, call: Call, identity: Identity) -> Reply:
    # The ARN names the caller's partition (arn:aws-us-gov:..., arn:aws-cn:...).
    arn = identity.arn.replace("arn:aws:", f"arn:{state.org.partition}:", 1)
    result = (
        f"{xml_element('UserId', identity.user_id)}"
        f"{xml_element('Account', identity.account_id)}"
        f"{xml_element('Arn', arn)}"
    )
    return query_reply("GetCallerIdentity", result, call.request_id)


def handle_sts(state: ServerState, call: Call, identity: Identity) -> Reply:
    """Answer one STS call."""
    if call.operation == "AssumeRole":
        return _assume_role(state, call, identity)
    if call.operation == "GetCallerIdentity":
        return _caller_identity(state, call, identity)
    message = f"Could not find operation {call.operation} for version 2011-06-15"
    raise SimError("InvalidAction", message, 400)
