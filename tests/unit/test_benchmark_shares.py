"""`python -m benchmarks.shares`: py-spy samples summed into the Performance page's parts."""

from __future__ import annotations

from benchmarks.shares import OTHER, shares


def test_profile_shares_add_up_and_follow_the_part_order() -> None:
    raw = "\n".join(
        [
            "main (m.py:1);_find_and_load (<frozen>:1) 5",
            "work (collector/_service/fanout.py:79);Store.write_scopes (w.py:1) 3",
            # Signing inside a database stack counts once, for the earlier part.
            "Store.x (w.py:2);AioRequestSigner.sign (aiobotocore/signers.py:1) 2",
            "AioRequestSigner.handler (aiobotocore/signers.py:26) 4",
            "select (selectors.py:468) 6",
            "not a sample line",
        ]
    )
    counts, total = shares(raw.splitlines())
    assert total == 20
    assert counts == {
        "start-up: imports": 5,
        "database reads and writes": 5,
        "SigV4 signing": 4,
        OTHER: 6,
    }
