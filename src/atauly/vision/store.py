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
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

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


def load_keys(home: Path, key: str | None = None, key_file: Path | None = None) -> dict[str, bytes]:
    key = key if key is not None else os.environ.get("ATAULY_VISION_KEY")
    if key:
        return parse_keys(key)
    path = key_file or Path(os.environ.get("ATAULY_VISION_KEY_FILE") or home / "vision.key")
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(f"k1:{secrets.token_hex(32)}\n")
    return parse_keys(path.read_text())


@dataclass
class Meta:
    sha256: str
    kind: str  # "original" or "derivative"
    retain_until: str | None  # ISO date; None: until the decision sets it
    key_id: str
    size: int


class PhotoStore:
    def __init__(self, root: Path, keys: dict[str, bytes], actor: str = "system"):
        self.root = Path(root)
        self.keys = keys
        self.key_id = list(keys)[-1]
        self.actor = actor

    @classmethod
    def open(cls, home: Path | None = None, actor: str = "system") -> PhotoStore:
        if home is None:
            from atauly.settings import get_settings

            home = get_settings().home
        return cls(Path(home) / "vision" / "store", load_keys(Path(home)), actor=actor)

    # -- paths ---------------------------------------------------------------------------------------
    def _path(self, sha: str, kind: str) -> Path:
        if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
            raise StoreError("not a SHA-256 address")
        suffix = ".bin" if kind == "original" else ".jpg.bin"
        return self.root / sha[:2] / sha[2:4] / f"{sha}{suffix}"

    def _meta_path(self, sha: str) -> Path:
        return self._path(sha, "original").with_suffix(".json")

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

    def _write(self, path: Path, blob: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + f".{secrets.token_hex(4)}.tmp")
        tmp.write_bytes(blob)
        tmp.replace(path)

    def put(self, original: bytes, derivative: bytes | None = None, retain_until: date | None = None) -> str:
        """Store an original (and its redacted derivative); returns its SHA-256 address. Idempotent."""
        sha = hashlib.sha256(original).hexdigest()
        path = self._path(sha, "original")
        if not path.exists():
            self._write(path, self._seal(original, sha, "original"))
        if derivative is not None:
            self._write(self._path(sha, "derivative"), self._seal(derivative, sha, "derivative"))
        meta_path = self._meta_path(sha)
        meta = self.meta(sha) if meta_path.exists() else None
        keep = retain_until.isoformat() if retain_until else (meta.retain_until if meta else None)
        m = Meta(sha, "original", keep, self.key_id, len(original))
        self._write(meta_path, json.dumps(m.__dict__).encode())
        self._audit("store", sha)
        return sha

    def set_retention(self, sha: str, retain_until: date | None) -> None:
        """Keep the original until ``retain_until`` (``None``: until a decision sets a date again)."""
        m = self.meta(sha)
        m.retain_until = retain_until.isoformat() if retain_until else None
        self._write(self._meta_path(sha), json.dumps(m.__dict__).encode())
        self._audit("retention", sha)

    def discard(self, sha: str) -> None:
        """Delete an original, its derivative and its metadata at once (a batch that was not recorded)."""
        for path in (self._path(sha, "original"), self._path(sha, "derivative"), self._meta_path(sha)):
            path.unlink(missing_ok=True)
        self._audit("discard", sha)

    # -- reading -------------------------------------------------------------------------------------
    def meta(self, sha: str) -> Meta:
        path = self._meta_path(sha)
        if not path.exists():
            raise KeyError(sha)
        return Meta(**json.loads(path.read_text()))

    def get(self, sha: str, kind: str = "derivative", reason: str = "") -> bytes:
        """Decrypt a stored file; every read is audited (``kind='original'`` only for a stated reason)."""
        if kind == "original" and not reason:
            raise StoreError("reading an original (with faces) needs a stated reason")
        path = self._path(sha, kind)
        if not path.exists():
            raise KeyError(sha)
        self._audit(f"read {kind}" + (f" ({reason})" if reason else ""), sha)
        return self._open(path.read_bytes(), sha, kind)

    def __contains__(self, sha: str) -> bool:
        return self._path(sha, "original").exists()

    # -- retention -----------------------------------------------------------------------------------
    def purge(self, today: date | None = None) -> list[str]:
        """Delete every original and derivative past its retention date; returns their addresses."""
        today = today or date.today()
        gone = []
        for meta_path in self.root.glob("*/*/*.json"):
            try:
                m = Meta(**json.loads(meta_path.read_text()))
            except FileNotFoundError:  # purged meanwhile by another process (each service worker purges)
                continue
            if m.retain_until and date.fromisoformat(m.retain_until) < today:
                for kind in ("original", "derivative"):
                    self._path(m.sha256, kind).unlink(missing_ok=True)
                meta_path.unlink(missing_ok=True)
                self._audit("purge", m.sha256)
                gone.append(m.sha256)
        return gone
