import os
from datetime import date

import pytest

from atauly.vision.store import PhotoStore, StoreError, load_keys, parse_keys

KEY = "ab" * 32


def test_originals_are_encrypted_addressed_and_audited(tmp_path):
    store = PhotoStore(tmp_path / "store", parse_keys(KEY), actor="officer-7")
    original = b"\xff\xd8\xff original photo with a face" * 20
    sha = store.put(original, derivative=b"blurred jpeg")
    assert sha in store and store.put(original) == sha  # idempotent
    blobs = [p.read_bytes() for p in (tmp_path / "store").rglob("*.bin")]
    assert len(blobs) == 2 and all(b"original photo" not in b and b"blurred" not in b for b in blobs)
    assert store.get(sha) == b"blurred jpeg"
    with pytest.raises(StoreError, match="reason"):
        store.get(sha, "original")
    assert store.get(sha, "original", reason="appeal 12") == original
    log = (tmp_path / "audit.log").read_text()
    assert "officer-7" in log and "read original (appeal 12)" in log and log.count("read derivative") == 1


def test_a_moved_or_altered_blob_or_a_wrong_key_fails(tmp_path):
    store = PhotoStore(tmp_path / "s", parse_keys(KEY))
    a, b = store.put(b"photo A"), store.put(b"photo B")
    pa, pb = store._path(a, "original"), store._path(b, "original")
    pb.write_bytes(pa.read_bytes())  # A's blob at B's address
    with pytest.raises(StoreError, match="authentication"):
        store.get(b, "original", reason="test")
    other = PhotoStore(tmp_path / "s", parse_keys("k1:" + "cd" * 32))
    with pytest.raises(StoreError):
        other.get(a, "original", reason="test")


def test_key_rotation_keeps_old_blobs_readable(tmp_path):
    old = PhotoStore(tmp_path / "s", parse_keys(f"k1:{KEY}"))
    sha = old.put(b"old photo")
    new = PhotoStore(tmp_path / "s", parse_keys(f"k1:{KEY},k2:{'cd' * 32}"))
    assert new.key_id == "k2" and new.get(sha, "original", reason="t") == b"old photo"


def test_retention_purges_after_the_date(tmp_path):
    store = PhotoStore(tmp_path / "s", parse_keys(KEY))
    keep = store.put(b"keep", retain_until=date(2027, 1, 1))
    drop = store.put(b"drop", derivative=b"d", retain_until=date(2026, 1, 1))
    undecided = store.put(b"no decision yet")
    assert store.purge(today=date(2026, 6, 1)) == [drop]
    assert keep in store and undecided in store and drop not in store
    assert not list((tmp_path / "s").rglob(f"{drop}*"))
    store.set_retention(undecided, date(2026, 2, 1))
    assert store.purge(today=date(2026, 6, 1)) == [undecided]


def test_key_file_is_created_private(tmp_path, monkeypatch):
    monkeypatch.delenv("ATAULY_VISION_KEY", raising=False)
    monkeypatch.delenv("ATAULY_VISION_KEY_FILE", raising=False)
    keys = load_keys(tmp_path)
    assert len(next(iter(keys.values()))) == 32
    assert oct(os.stat(tmp_path / "vision.key").st_mode & 0o777) == "0o600"
    assert load_keys(tmp_path) == keys
    with pytest.raises(StoreError):
        parse_keys("k1:abcd")
