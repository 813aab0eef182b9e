"""The photo store on an S3-compatible bucket (boto3 against moto's in-process S3): the same behaviours as
the file store, nothing readable in the bucket, and the backend chosen by the settings."""

from __future__ import annotations

import logging
from datetime import date

import pytest

boto3 = pytest.importorskip("boto3", reason="boto3 (the `s3` extra) is not installed")
moto = pytest.importorskip("moto", reason="moto (a dev dependency) is not installed")

from atauly.vision.store import FileBlobs, PhotoStore, S3Blobs, StoreError, parse_keys  # noqa: E402

KEY = "ab" * 32
BUCKET = "atauly-photos"


@pytest.fixture
def s3(monkeypatch):
    """An in-process S3 with one bucket, and dummy credentials so that nothing real is ever reached."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with moto.mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


@pytest.fixture(params=["files", "s3"])
def store(request, tmp_path):
    """The same store on each backend (the S3 one in the moto bucket)."""
    if request.param == "s3":
        client = request.getfixturevalue("s3")
        blobs = S3Blobs(BUCKET, "vision/store/", client)
    else:
        blobs = FileBlobs(tmp_path / "store")
    return PhotoStore(tmp_path / "store", parse_keys(KEY), actor="officer-7", blobs=blobs)


def _raw_objects(store: PhotoStore) -> dict[str, bytes]:
    return {k: store.blobs.read(k) for suffix in (".bin", ".json") for k in store.blobs.keys(suffix)}


def test_originals_are_encrypted_addressed_and_audited(store, tmp_path):
    original = b"\xff\xd8\xff original photo with a face" * 20
    sha = store.put(original, derivative=b"blurred jpeg")
    assert sha in store and store.put(original) == sha  # idempotent
    raw = _raw_objects(store)
    blobs = [v for k, v in raw.items() if k.endswith(".bin")]
    assert sorted(raw) == sorted(
        [
            f"{sha[:2]}/{sha[2:4]}/{sha}.bin",
            f"{sha[:2]}/{sha[2:4]}/{sha}.jpg.bin",
            f"{sha[:2]}/{sha[2:4]}/{sha}.json",
        ]
    )
    assert all(b"original photo" not in b and b"blurred" not in b for b in blobs)  # encrypted before upload
    assert store.get(sha) == b"blurred jpeg"
    with pytest.raises(StoreError, match="reason"):
        store.get(sha, "original")
    assert store.get(sha, "original", reason="appeal 12") == original
    log = (tmp_path / "audit.log").read_text()
    assert "officer-7" in log and "read original (appeal 12)" in log and log.count("read derivative") == 1
    with pytest.raises(KeyError):
        store.get("0" * 64)


def test_a_moved_blob_or_a_wrong_key_fails(store):
    a, b = store.put(b"photo A"), store.put(b"photo B")
    store.blobs.write(store._key(b, "original"), store.blobs.read(store._key(a, "original")))  # A at B's key
    with pytest.raises(StoreError, match="authentication"):
        store.get(b, "original", reason="test")
    other = PhotoStore(store.root, parse_keys("k1:" + "cd" * 32), blobs=store.blobs)
    with pytest.raises(StoreError):
        other.get(a, "original", reason="test")


def test_retention_purge_and_discard(store):
    keep = store.put(b"keep", retain_until=date(2027, 1, 1))
    drop = store.put(b"drop", derivative=b"d", retain_until=date(2026, 1, 1))
    undecided = store.put(b"no decision yet")
    assert store.purge(today=date(2026, 6, 1)) == [drop]
    assert keep in store and undecided in store and drop not in store
    assert not [k for k in _raw_objects(store) if drop in k]
    store.set_retention(undecided, date(2026, 2, 1))
    assert store.meta(undecided).retain_until == "2026-02-01"
    assert store.purge(today=date(2026, 6, 1)) == [undecided]
    store.discard(keep)
    assert _raw_objects(store) == {}


def test_the_settings_choose_the_s3_store_and_never_show_its_secret(s3, tmp_path, monkeypatch, caplog):
    from atauly.settings import get_settings

    secret = "s3cr3t-never-shown"
    monkeypatch.setenv("ATAULY_HOME", str(tmp_path))
    monkeypatch.setenv("ATAULY_VISION_KEY", KEY)
    monkeypatch.setenv("ATAULY_VISION_STORE", "s3")
    monkeypatch.setenv("ATAULY_VISION_S3_BUCKET", BUCKET)
    monkeypatch.setenv("ATAULY_VISION_S3_PREFIX", "photos")
    monkeypatch.setenv("ATAULY_VISION_S3_REGION", "us-east-1")
    monkeypatch.setenv("ATAULY_VISION_S3_ACCESS_KEY_ID", "AKIATESTING")
    monkeypatch.setenv("ATAULY_VISION_S3_SECRET_ACCESS_KEY", secret)
    get_settings.cache_clear()
    try:
        settings = get_settings()
        assert secret not in repr(settings) and secret not in str(settings.model_dump())
        with caplog.at_level(logging.DEBUG):
            store = PhotoStore.open(actor="cli")
            sha = store.put(b"a photo", derivative=b"its blurred copy")
        assert isinstance(store.blobs, S3Blobs)
        assert secret not in caplog.text
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]
        assert f"photos/{sha[:2]}/{sha[2:4]}/{sha}.bin" in keys and len(keys) == 3
        assert not (tmp_path / "vision" / "store").exists()  # nothing of the photo on the local disk
        assert "store" in (tmp_path / "vision" / "audit.log").read_text()  # the audit stays local
        assert PhotoStore.open(actor="officer").get(sha) == b"its blurred copy"
        # the scheduled purge runs on an S3 store (there is no local folder to tell it was used)
        from atauly.service.photos import PurgeThread

        store.set_retention(sha, date(2020, 1, 1))
        assert PurgeThread(tmp_path, 24, today=date.today).run_once() == 1
        assert sha not in store
    finally:
        get_settings.cache_clear()


def test_the_s3_store_without_a_bucket_is_refused_in_words():
    with pytest.raises(StoreError, match="ATAULY_VISION_S3_BUCKET"):
        S3Blobs("", client=object())


def test_a_shared_s3_store_never_invents_a_key(s3, tmp_path, monkeypatch):
    """Two hosts on one bucket with no key set: each would make its own random k1 and lock the other out
    ("blob failed authentication"); the store refuses in words instead, before anything is written."""
    from atauly.settings import get_settings

    monkeypatch.delenv("ATAULY_VISION_KEY", raising=False)
    monkeypatch.delenv("ATAULY_VISION_KEY_FILE", raising=False)
    monkeypatch.setenv("ATAULY_HOME", str(tmp_path))
    monkeypatch.setenv("ATAULY_VISION_STORE", "s3")
    monkeypatch.setenv("ATAULY_VISION_S3_BUCKET", BUCKET)
    get_settings.cache_clear()
    try:
        with pytest.raises(StoreError, match="ATAULY_VISION_KEY"):
            PhotoStore.open(actor="cli")
        assert not (tmp_path / "vision.key").exists()
        assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET)
        # with the shared key set, a second host reads the first host's photo
        monkeypatch.setenv("ATAULY_VISION_KEY", KEY)
        sha = PhotoStore.open(actor="a").put(b"photo", derivative=b"blurred")
        monkeypatch.setenv("ATAULY_HOME", str(tmp_path / "other-host"))
        get_settings.cache_clear()
        assert PhotoStore.open(actor="b").get(sha) == b"blurred"
    finally:
        get_settings.cache_clear()
