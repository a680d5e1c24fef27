"""The regions where AppFlow runs.

botocore's endpoint resolver builds a host name for any region string, so a typo in a region
would only show up as a connection error; we check regions against this list instead.
"""

from __future__ import annotations

APPFLOW_REGIONS: tuple[str, ...] = (
    "af-south-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ca-central-1",
    "eu-central-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
)

# Regions an account must opt in to. Every other AppFlow region is enabled in every account,
# so only these need an `ec2:DescribeRegions` look-up.
OPT_IN_APPFLOW_REGIONS = frozenset({"af-south-1"})
