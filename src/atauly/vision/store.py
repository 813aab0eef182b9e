"""Encrypted, content-addressed storage of photo originals, with a retention period and an audit trail.

- **Content-addressed**: an original is stored under the SHA-256 of its bytes
  (``ATAULY_HOME/vision/store/ab/cd/abcd….bin``); the same file uploaded twice is stored once.
- **Encrypted at rest** with AES-256-GCM (``cryptography``); the key comes from the settings
  (``ATAULY_VISION_KEY``: 64 hex digits) or from a key file (``ATAULY_VISION_KEY_FILE``, default
  ``ATAULY_HOME/vision.key``, created with mode 600 when missing). The SHA-256 is the GCM associated data, so
  a blob moved to another address fails to decrypt. Several keys may be listed (``ID:HEX,ID:HEX``, the last
  encrypts) so that keys can be rotated; each blob records its key id.
- **Derivatives** (the redacted, re-encoded JPEG that people see) are stored beside the original, also
  encrypted: nothing unblurred exists outside the encrypted original.
- **Retention**: each original carries the date after which it is deleted (set when the decision is made:
  ``retain_until``); :meth:`PhotoStore.purge` removes every blob past its date.
- **Audit**: every read and every deletion appends a line (time, actor, action, address) to
  ``ATAULY_HOME/vision/audit.log``; the service writes the same events to its own audit chain.
- **Where the blobs live** (``ATAULY_VISION_STORE``): files under ``ATAULY_HOME`` (:class:`FileBlobs`, the
  default) or an S3-compatible bucket (:class:`S3Blobs`, boto3: AWS, MinIO, Ceph). Both hold the same
  objects under the same keys (``ab/cd/<sha256>.bin``, ``.jpg.bin``, ``.json``), already encrypted: the
  bucket never sees a photo or a key. The audit log stays a local file either way.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_MAGIC = b"ATV1"


class StoreError(RuntimeError):
    pass


def parse_keys(text: str) -> dict[str, bytes]:
    """``ID:HEX[,ID:HEX…]`` or a bare ``HEX`` (id ``k1``) → {id: 32-byte key}, in order."""
    keys: dict[str, bytes] = {}
    for part in [p.strip() for p in text.replace("\n", ",").split(",") if p.strip()]:
        kid, _, hexkey = part.rpartition(":") if ":" in part else ("k1", "", part)
        try:
            raw = bytes.fromhex(hexkey)
        except ValueError:
            raise StoreError("vision key: not hexadecimal") from None
        if len(raw) != 32:
            raise StoreError("vision key: 32 bytes (64 hex digits) expected")
        keys[kid or "k1"] = raw
    if not keys:
        raise StoreError("vision key: empty")
    return keys


def load_keys(
    home: Path, key: str | None = None, key_file: Path | None = None, create: bool = True
) -> dict[str, bytes]:
    """The vision keys: ``ATAULY_VISION_KEY``, else the key file (``ATAULY_VISION_KEY_FILE``, default
    ``home/vision.key``), made with a new random key when missing and ``create`` (a store on this host's
    own disk). A store several hosts share (S3) must not invent one: each host would encrypt under its own
    random ``k1`` and none could read another's photos, so ``create=False`` refuses in words instead."""
    key = key if key is not None else os.environ.get("ATAULY_VISION_KEY")
    if key:
        return parse_keys(key)
    path = key_file or Path(os.environ.get("ATAULY_VISION_KEY_FILE") or home / "vision.key")
    if not path.exists() and not create:
        raise StoreError(
            "a photo store shared by several hosts (S3) needs the same vision key on every host: set "
            "ATAULY_VISION_KEY (or ATAULY_VISION_KEY_FILE) to it; a key made on one host would lock the others out"
        )
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(f"k1:{secrets.token_hex(32)}\n")
    return parse_keys(path.read_text())


class Blobs(Protocol):
    """Where a store's (already encrypted) objects are kept, by key (``ab/cd/<sha256><suffix>``)."""

    kind: str

    def read(self, key: str) -> bytes:  # KeyError when missing
        ...

    def write(self, key: str, data: bytes) -> None: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None:  # nothing when missing
        ...

    def keys(self, suffix: str) -> Iterator[str]: ...

    def in_use(self) -> bool:  # anything ever written (a purge of a store never used makes no key)
        ...


class FileBlobs:
    """Objects as files under ``root`` (the default: ``ATAULY_HOME/vision/store``), written atomically."""

    kind = "files"

    def __init__(self, root: Path):
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / key

    def read(self, key: str) -> bytes:
        try:
            return self.path(key).read_bytes()
        except FileNotFoundError:
            raise KeyError(key) from None

    def write(self, key: str, data: bytes) -> None:
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + f".{secrets.token_hex(4)}.tmp")
        tmp.write_bytes(data)
        tmp.replace(path)

    def exists(self, key: str) -> bool:
        return self.path(key).exists()

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def keys(self, suffix: str) -> Iterator[str]:
        for p in self.root.glob(f"*/*/*{suffix}"):
            yield p.relative_to(self.root).as_posix()

    def in_use(self) -> bool:
        return self.root.is_dir()


class S3Blobs:
    """Objects in an S3-compatible bucket under ``prefix`` (boto3). What is uploaded is already encrypted
    (AES-256-GCM, the key never leaves the server); the bucket's own encryption may be added on top."""

    kind = "s3"

    def __init__(self, bucket: str, prefix: str = "vision/store/", client=None):
        if not bucket:
            raise StoreError("the S3 photo store needs a bucket (ATAULY_VISION_S3_BUCKET)")
        self.bucket = bucket
        self.prefix = prefix if not prefix or prefix.endswith("/") else prefix + "/"
        self.client = client if client is not None else s3_client()

    @staticmethod
    def _missing(exc) -> bool:
        code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
        return code in ("404", "NoSuchKey", "NotFound")

    def read(self, key: str) -> bytes:
        from botocore.exceptions import ClientError

        try:
            return self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)["Body"].read()
        except ClientError as exc:
            if self._missing(exc):
                raise KeyError(key) from None
            raise

    def write(self, key: str, data: bytes) -> None:
        self.client.put_object(
            Bucket=self.bucket, Key=self.prefix + key, Body=data, ContentType="application/octet-stream"
        )

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self.prefix + key)
        except ClientError as exc:
            if self._missing(exc):
                return False
            raise
        return True

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.prefix + key)

    def keys(self, suffix: str) -> Iterator[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix)
        for page in pages:
            for obj in page.get("Contents", []):
                if obj["Key"].endswith(suffix):
                    yield obj["Key"][len(self.prefix) :]

    def in_use(self) -> bool:
        return True


def s3_client(settings=None):
    """A boto3 S3 client from the settings (endpoint, region, credentials; unset credentials: boto3's own
    chain). Made once per configuration; the credentials are never logged or put in a message."""
    if settings is None:
        from atauly.settings import get_settings

        settings = get_settings()

    def secret(v) -> str | None:
        return v.get_secret_value() if v is not None else None

    return _client(
        settings.vision_s3_endpoint_url,
        settings.vision_s3_region,
        secret(settings.vision_s3_access_key_id),
        secret(settings.vision_s3_secret_access_key),
    )


@lru_cache(maxsize=4)
def _client(endpoint: str | None, region: str | None, access: str | None, secret_key: str | None):
    try:
        import boto3
    except ImportError:
        raise StoreError(
            "the S3 photo store needs boto3: pip install 'atauly[s3]' (or set ATAULY_VISION_STORE=files)"
        ) from None
    kwargs: dict = {"endpoint_url": endpoint, "region_name": region}
    if access and secret_key:
        kwargs |= {"aws_access_key_id": access, "aws_secret_access_key": secret_key}
    return boto3.client("s3", **{k: v for k, v in kwargs.items() if v is not None})


def blobs_from_settings(home: Path, settings=None) -> Blobs:
    """The store's objects where the settings say (``vision_store``): files under ``home`` or S3."""
    if settings is None:
        from atauly.settings import get_settings

        settings = get_settings()
    if settings.vision_store == "s3":
        return S3Blobs(settings.vision_s3_bucket or "", settings.vision_s3_prefix, s3_client(settings))
    return FileBlobs(Path(home) / "vision" / "store")


@dataclass
class Meta:
    sha256: str
    kind: str  # "original" or "derivative"
    retain_until: str | None  # ISO date; None: until the decision sets it
    key_id: str
    size: int


class PhotoStore:
    def __init__(self, root: Path, keys: dict[str, bytes], actor: str = "system", blobs: Blobs | None = None):
        self.root = Path(root)  # the file store's folder; its parent holds the audit log (local for S3 too)
        self.keys = keys
        self.key_id = list(keys)[-1]
        self.actor = actor
        self.blobs: Blobs = blobs if blobs is not None else FileBlobs(self.root)

    @classmethod
    def open(cls, home: Path | None = None, actor: str = "system") -> PhotoStore:
        """The store the settings describe (files under ``home``, default ``ATAULY_HOME``, or S3)."""
        from atauly.settings import get_settings

        settings = get_settings()
        home = Path(home if home is not None else settings.home)
        blobs = blobs_from_settings(home, settings)
        return cls(
            home / "vision" / "store",
            load_keys(home, create=isinstance(blobs, FileBlobs)),
            actor=actor,
            blobs=blobs,
        )

    # -- keys ----------------------------------------------------------------------------------------
    @staticmethod
    def _key(sha: str, kind: str) -> str:
        if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
            raise StoreError("not a SHA-256 address")
        suffix = {"original": ".bin", "derivative": ".jpg.bin", "meta": ".json"}[kind]
        return f"{sha[:2]}/{sha[2:4]}/{sha}{suffix}"

    def _path(self, sha: str, kind: str) -> Path:
        """Where the file store keeps an object (tests and tools; an S3 store has keys, not paths)."""
        return self.root / self._key(sha, kind)

    def _audit(self, action: str, sha: str) -> None:
        self.root.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(
            {
                "at": datetime.now(UTC).isoformat(timespec="seconds"),
                "actor": self.actor,
                "action": action,
                "sha256": sha,
            }
        )
        with (self.root.parent / "audit.log").open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")

    # -- writing -------------------------------------------------------------------------------------
    def _seal(self, data: bytes, sha: str, kind: str) -> bytes:
        nonce = secrets.token_bytes(12)
        aad = f"{sha}:{kind}".encode()
        kid = self.key_id.encode()
        return (
            _MAGIC
            + bytes([len(kid)])
            + kid
            + nonce
            + AESGCM(self.keys[self.key_id]).encrypt(nonce, data, aad)
        )

    def _open(self, blob: bytes, sha: str, kind: str) -> bytes:
        if not blob.startswith(_MAGIC):
            raise StoreError("not a vision store blob")
        n = blob[4]
        kid = blob[5 : 5 + n].decode()
        nonce, ct = blob[5 + n : 17 + n], blob[17 + n :]
        if kid not in self.keys:
            raise StoreError(f"key {kid!r} is not configured")
        try:
            return AESGCM(self.keys[kid]).decrypt(nonce, ct, f"{sha}:{kind}".encode())
        except Exception:  # noqa: BLE001 - InvalidTag: wrong key, moved or altered blob
            raise StoreError("blob failed authentication (altered, moved, or another key)") from None

    def put(self, original: bytes, derivative: bytes | None = None, retain_until: date | None = None) -> str:
        """Store an original (and its redacted derivative); returns its SHA-256 address. Idempotent."""
        sha = hashlib.sha256(original).hexdigest()
        key = self._key(sha, "original")
        if not self.blobs.exists(key):
            self.blobs.write(key, self._seal(original, sha, "original"))
        if derivative is not None:
            self.blobs.write(self._key(sha, "derivative"), self._seal(derivative, sha, "derivative"))
        try:
            meta = self.meta(sha)
        except KeyError:
            meta = None
        keep = retain_until.isoformat() if retain_until else (meta.retain_until if meta else None)
        m = Meta(sha, "original", keep, self.key_id, len(original))
        self.blobs.write(self._key(sha, "meta"), json.dumps(m.__dict__).encode())
        self._audit("store", sha)
        return sha

    def set_retention(self, sha: str, retain_until: date | None) -> None:
        """Keep the original until ``retain_until`` (``None``: until a decision sets a date again)."""
        m = self.meta(sha)
        m.retain_until = retain_until.isoformat() if retain_until else None
        self.blobs.write(self._key(sha, "meta"), json.dumps(m.__dict__).encode())
        self._audit("retention", sha)

    def discard(self, sha: str) -> None:
        """Delete an original, its derivative and its metadata at once (a batch that was not recorded)."""
        for kind in ("original", "derivative", "meta"):
            self.blobs.delete(self._key(sha, kind))
        self._audit("discard", sha)

    # -- reading -------------------------------------------------------------------------------------
    def meta(self, sha: str) -> Meta:
        return Meta(**json.loads(self.blobs.read(self._key(sha, "meta"))))  # KeyError when unknown

    def get(self, sha: str, kind: str = "derivative", reason: str = "") -> bytes:
        """Decrypt a stored file; every read is audited (``kind='original'`` only for a stated reason)."""
        if kind == "original" and not reason:
            raise StoreError("reading an original (with faces) needs a stated reason")
        blob = self.blobs.read(self._key(sha, kind))  # KeyError when missing
        self._audit(f"read {kind}" + (f" ({reason})" if reason else ""), sha)
        return self._open(blob, sha, kind)

    def __contains__(self, sha: str) -> bool:
        return self.blobs.exists(self._key(sha, "original"))

    def in_use(self) -> bool:
        """Whether anything may have been stored (the file store's folder exists; an S3 store: always)."""
        return self.blobs.in_use()

    # -- retention -----------------------------------------------------------------------------------
    def purge(self, today: date | None = None) -> list[str]:
        """Delete every original and derivative past its retention date; returns their addresses."""
        today = today or date.today()
        gone = []
        for key in list(self.blobs.keys(".json")):
            try:
                m = Meta(**json.loads(self.blobs.read(key)))
            except KeyError:  # purged meanwhile by another process (each service worker purges)
                continue
            if m.retain_until and date.fromisoformat(m.retain_until) < today:
                for kind in ("original", "derivative", "meta"):
                    self.blobs.delete(self._key(m.sha256, kind))
                self._audit("purge", m.sha256)
                gone.append(m.sha256)
        return gone
