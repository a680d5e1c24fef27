"""Organizations: account and OU listings (JSON 1.1), callable by the management account."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any

from ._auth import Identity
from ._context import Call, ServerState
from ._model import Account, Organization, OrganizationalUnit
from ._protocols import Reply, SimError, json_reply
from ._tokens import Cursor

_PARENT_ID = re.compile(r"(r-[0-9a-z]{4,32})|(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})")
_DEFAULT_PAGE = 20

Params = dict[str, Any]
Operation = Callable[[ServerState, Params], dict[str, Any]]


def _invalid_input(message: str, reason: str) -> SimError:
    return SimError("InvalidInputException", message, 400, {"Reason": reason})


def _page(state: ServerState, params: Params, binding: str, items: Sequence[Any]) -> Params:
    """Slice `items` by MaxResults/NextToken; returns {"items": [...], "NextToken"?: ...}."""
    size = params.get("MaxResults", _DEFAULT_PAGE)
    if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= 20:
        raise _invalid_input(
            "You provided a value for MaxResults that is outside the range 1-20.",
            "MAX_VALUE_EXCEEDED",
        )
    cursor = Cursor(0, 1)
    token = params.get("NextToken")
    if token is not None:
        read = state.tokens.read(token, binding) if isinstance(token, str) else None
        if read is None:
            raise _invalid_input(
                "The provided pagination token is invalid.", "INVALID_PAGINATION_TOKEN"
            )
        cursor = read
    faults = state.faults
    if faults.endless_organization_pages or cursor.page % (faults.empty_organization_pages + 1):
        # Organizations may answer a page with nothing in it and still a NextToken.
        return {
            "items": [],
            "NextToken": state.tokens.issue(binding, Cursor(cursor.offset, cursor.page + 1)),
        }
    end = cursor.offset + size
    result: Params = {"items": list(items[cursor.offset : end])}
    if end < len(items):
        result["NextToken"] = state.tokens.issue(binding, Cursor(end, cursor.page + 1))
    return result


def _account_json(org: Organization, account: Account) -> dict[str, Any]:
    return {
        "Id": account.id,
        "Arn": f"arn:aws:organizations::{org.management_account_id}:account/{org.id}/{account.id}",
        "Email": account.email,
        "Name": account.name,
        "Status": account.status,
        "State": account.state,
        "JoinedMethod": account.joined_method,
        "JoinedTimestamp": account.joined_timestamp,
    }


def _ou_json(org: Organization, ou: OrganizationalUnit) -> dict[str, Any]:
    arn = f"arn:aws:organizations::{org.management_account_id}:ou/{org.id}/{ou.id}"
    return {"Id": ou.id, "Arn": arn, "Name": ou.name}


def _parent(org: Organization, params: Params) -> str:
    parent = params.get("ParentId")
    if not isinstance(parent, str) or _PARENT_ID.fullmatch(parent) is None:
        raise _invalid_input("You specified an invalid value for parentId.", "INVALID_PATTERN")
    if parent != org.root_id and parent not in org.organizational_units:
        message = "We can't find a root or OU with the ParentId that you specified."
        raise SimError("ParentNotFoundException", message, 400)
    return parent


def _list_accounts(state: ServerState, params: Params) -> dict[str, Any]:
    org = state.org
    page = _page(state, params, "ListAccounts", org.account_list())
    page["Accounts"] = [_account_json(org, a) for a in page.pop("items")]
    return page


def _list_accounts_for_parent(state: ServerState, params: Params) -> dict[str, Any]:
    org = state.org
    parent = _parent(org, params)
    accounts = [a for a in org.account_list() if a.parent_id == parent]
    page = _page(state, params, f"ListAccountsForParent|{parent}", accounts)
    page["Accounts"] = [_account_json(org, a) for a in page.pop("items")]
    return page


def _list_ous_for_parent(state: ServerState, params: Params) -> dict[str, Any]:
    org = state.org
    parent = _parent(org, params)
    ous = [ou for ou in org.ou_list() if ou.parent_id == parent]
    page = _page(state, params, f"ListOrganizationalUnitsForParent|{parent}", ous)
    page["OrganizationalUnits"] = [_ou_json(org, ou) for ou in page.pop("items")]
    return page


def _list_children(state: ServerState, params: Params) -> dict[str, Any]:
    org = state.org
    parent = _parent(org, params)
    child_type = params.get("ChildType")
    if child_type == "ACCOUNT":
        ids = [a.id for a in org.account_list() if a.parent_id == parent]
    elif child_type == "ORGANIZATIONAL_UNIT":
        ids = [ou.id for ou in org.ou_list() if ou.parent_id == parent]
    else:
        raise _invalid_input("You specified an invalid value for childType.", "INVALID_ENUM")
    page = _page(state, params, f"ListChildren|{parent}|{child_type}", ids)
    page["Children"] = [{"Id": i, "Type": child_type} for i in page.pop("items")]
    return page


def _list_roots(state: ServerState, params: Params) -> dict[str, Any]:
    org = state.org
    root = {
        "Id": org.root_id,
        "Arn": f"arn:aws:organizations::{org.management_account_id}:root/{org.id}/{org.root_id}",
        "Name": "Root",
        "PolicyTypes": [{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"}],
    }
    page = _page(state, params, "ListRoots", [root])
    page["Roots"] = page.pop("items")
    return page


def _describe_organization(state: ServerState, params: Params) -> dict[str, Any]:
    org = state.org
    management = org.accounts.get(org.management_account_id)
    return {
        "Organization": {
            "Id": org.id,
            "Arn": f"arn:aws:organizations::{org.management_account_id}:organization/{org.id}",
            "FeatureSet": "ALL",
            "MasterAccountArn": (
                f"arn:aws:organizations::{org.management_account_id}:account/"
                f"{org.id}/{org.management_account_id}"
            ),
            "MasterAccountId": org.management_account_id,
            "MasterAccountEmail": management.email if management else "",
            "AvailablePolicyTypes": [{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"}],
        }
    }


OPERATIONS: dict[str, Operation] = {
    "ListAccounts": _list_accounts,
    "ListAccountsForParent": _list_accounts_for_parent,
    "ListOrganizationalUnitsForParent": _list_ous_for_parent,
    "ListChildren": _list_children,
    "ListRoots": _list_roots,
    "DescribeOrganization": _describe_organization,
}


def _may_list(org: Organization, identity: Identity) -> bool:
    """The management account's principals may list; with an organization role, only that
    role's sessions may (the base principal has no Organizations permissions then)."""
    if identity.account_id != org.management_account_id:
        return False
    if org.organization_role_name is None:
        return True
    session = identity.session
    return session is not None and session.role_name == org.organization_role_name


def handle_organizations(state: ServerState, call: Call, identity: Identity) -> Reply:
    """Answer one Organizations call."""
    operation = OPERATIONS.get(call.operation)
    if operation is None:
        raise SimError("UnknownOperationException", f"Unknown operation {call.operation}", 400)
    if not _may_list(state.org, identity):
        message = "You don't have permissions to access this resource."
        raise SimError("AccessDeniedException", message, 400)
    try:
        params = json.loads(call.body or b"{}")
    except ValueError as exc:
        raise SimError("SerializationException", "Malformed JSON body", 400) from exc
    if not isinstance(params, dict):
        raise SimError("SerializationException", "Expected a JSON object", 400)
    return json_reply(operation(state, params), call.request_id)
