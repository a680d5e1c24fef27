"""What one scope's listing means for the stored inventory: `plan_scope` and `dedupe`."""

from __future__ import annotations

from typing import Any

from collector._model.history import StoredRecord, dedupe, plan_scope
from collector._model.resources.profiles import ProfileRecord, normalize_profile

ACCOUNT = "012345678901"
REGION = "us-east-1"


def arn_of(name: str) -> str:
    return f"arn:aws:appflow:{REGION}:{ACCOUNT}:connectorprofile/{name}"


def record(name: str, instance_url: str = "https://acme.slack.com") -> ProfileRecord:
    raw: dict[str, Any] = {
        "connectorProfileArn": arn_of(name),
        "connectorProfileName": name,
        "connectorType": "Slack",
        "connectionMode": "Public",
        "connectorProfileProperties": {"Slack": {"instanceUrl": instance_url}},
        "createdAt": 1700000000.0,
        "lastUpdatedAt": 1700000000.0,
    }
    return normalize_profile(raw, ACCOUNT, REGION)


def stored(rec: ProfileRecord, *, deleted: bool = False, version: int = 1) -> StoredRecord:
    return StoredRecord(rec.arn, rec.content_hash, version, deleted)


def test_a_profile_never_seen_is_created() -> None:
    """A listed profile with no stored row is planned as created."""
    new = record("new")
    plan = plan_scope({}, [new], complete=True)
    assert plan.created == [new]
    assert plan.updated == plan.restored == []
    assert plan.unchanged == plan.deleted == []
    assert plan.changed == [new]


def test_a_profile_whose_content_changed_is_updated() -> None:
    """A listed profile whose hash differs from the stored one is planned as updated."""
    old = record("p")
    new = record("p", "https://acme2.slack.com")
    assert old.content_hash != new.content_hash
    plan = plan_scope({old.arn: stored(old)}, [new], complete=True)
    assert plan.updated == [new]
    assert plan.created == plan.restored == []
    assert plan.unchanged == plan.deleted == []
    assert plan.changed == [new]


def test_a_profile_with_the_same_content_is_unchanged() -> None:
    """A listed profile whose hash equals the stored one is only marked as seen."""
    rec = record("p")
    plan = plan_scope({rec.arn: stored(rec, version=3)}, [record("p")], complete=True)
    assert plan.unchanged == [rec.arn]
    assert plan.created == plan.updated == plan.restored == []
    assert plan.deleted == []
    assert plan.changed == []


def test_a_missing_profile_is_deleted_when_the_listing_is_complete() -> None:
    """A stored profile absent from a complete listing is planned as deleted."""
    kept, gone = record("kept"), record("gone")
    state = {kept.arn: stored(kept), gone.arn: stored(gone)}
    plan = plan_scope(state, [kept], complete=True)
    assert plan.deleted == [gone.arn]
    assert plan.unchanged == [kept.arn]


def test_an_empty_complete_listing_deletes_everything_stored() -> None:
    """A complete listing with no profiles deletes every live stored profile, sorted by ARN."""
    recs = [record(name) for name in ("c", "a", "b")]
    plan = plan_scope({r.arn: stored(r) for r in recs}, list[ProfileRecord](), complete=True)
    assert plan.deleted == sorted(r.arn for r in recs)
    assert plan.changed == []


def test_an_incomplete_listing_never_deletes() -> None:
    """A filtered or interrupted listing leaves profiles it did not see alone."""
    kept, unseen = record("kept"), record("unseen")
    state = {kept.arn: stored(kept), unseen.arn: stored(unseen)}
    plan = plan_scope(state, [kept], complete=False)
    assert plan.deleted == []
    assert plan.unchanged == [kept.arn]
    assert plan_scope(state, [], complete=False).deleted == []


def test_an_incomplete_listing_still_creates_and_updates() -> None:
    """What a filtered listing did see is still created or updated."""
    old = record("p")
    new, fresh = record("p", "https://other.slack.com"), record("fresh")
    plan = plan_scope({old.arn: stored(old)}, [new, fresh], complete=False)
    assert plan.updated == [new]
    assert plan.created == [fresh]


def test_a_deleted_profile_seen_again_is_restored() -> None:
    """A profile stored as deleted and listed again is restored, even with the same content."""
    same = record("back")
    changed = record("changed-back")
    state = {
        same.arn: stored(same, deleted=True),
        changed.arn: stored(record("changed-back", "https://old.slack.com"), deleted=True),
    }
    plan = plan_scope(state, [same, changed], complete=True)
    assert plan.restored == [same, changed]
    assert plan.created == plan.updated == []
    assert plan.unchanged == plan.deleted == []
    assert plan.changed == [same, changed]


def test_an_already_deleted_profile_is_not_deleted_twice() -> None:
    """A profile already marked deleted and still absent gets no second deletion."""
    gone = record("gone")
    plan = plan_scope({gone.arn: stored(gone, deleted=True)}, list[ProfileRecord](), complete=True)
    assert plan.deleted == []
    assert plan.changed == []


def test_changed_lists_created_updated_and_restored_together() -> None:
    """`changed` holds every profile whose row must be rewritten, and nothing else."""
    created = record("created")
    old = record("updated")
    updated = record("updated", "https://new.slack.com")
    restored = record("restored")
    same = record("same")
    state = {
        old.arn: stored(old),
        restored.arn: stored(restored, deleted=True),
        same.arn: stored(same),
    }
    plan = plan_scope(state, [same, updated, restored, created], complete=True)
    assert sorted(r.arn for r in plan.changed) == sorted([created.arn, updated.arn, restored.arn])
    assert plan.unchanged == [same.arn]


def test_dedupe_keeps_one_record_per_arn() -> None:
    """Repeated sightings of an ARN collapse to one record: the last one, in first-seen order."""
    first = record("a")
    other = record("b")
    last = record("a", "https://later.slack.com")
    result = dedupe([first, other, last, record("b")])
    assert [r.arn for r in result] == [first.arn, other.arn]
    assert result[0] is last


def test_dedupe_of_distinct_records_keeps_them_all_in_order() -> None:
    """Records with distinct ARNs are all kept in the order given."""
    recs = [record(name) for name in ("z", "a", "m")]
    assert dedupe(recs) == recs
    assert dedupe([]) == []


def test_a_repeated_new_profile_is_created_once() -> None:
    """A page that repeats a new profile leads to one creation after dedupe."""
    rec = record("dup")
    plan = plan_scope({}, dedupe([rec, record("dup")]), complete=True)
    assert [r.arn for r in plan.created] == [rec.arn]
