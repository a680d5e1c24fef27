"""The AWS adapter: the only code that imports aiobotocore, botocore or aiohttp.

It hands the rest of the collector plain values (profiles and flows as decoded JSON, account
lists) and raises only `AwsError` and `ConfigError`; `errors.translate` is the one place
where botocore's and the transport's exceptions are mapped.
"""

from .clients import AwsClients, AwsOptions
from .credentials import acting_as
from .flows import list_flows
from .organizations import OrganizationCalls, organization_accounts
from .profiles import ListingFilter, list_scope
from .retry import Attempts, RetryPolicy, call_with_retries

__all__ = [
    "Attempts",
    "AwsClients",
    "AwsOptions",
    "ListingFilter",
    "OrganizationCalls",
    "RetryPolicy",
    "acting_as",
    "call_with_retries",
    "list_flows",
    "list_scope",
    "organization_accounts",
]
