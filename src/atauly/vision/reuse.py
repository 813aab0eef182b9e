"""The reuse index: has this photo (or a near copy, or its mirror image) been submitted before?

Two signals, as the evidence suggests (pHash distance after JPEG or resizing 0, rotation 5° ~8, crop 10%
~10, mirror 32, unrelated photos 33–40):

1. **Perceptual hash, by multi-index hashing.** Each photo is indexed with three 64-bit pHashes: of the
   whole image and of its central 90 % and 80 % (a crop of a reused photo then lands on one of them).
   Each hash is cut into four 16-bit bands; each band is kept sorted. If two hashes differ in at most
   ``r`` bits, at least one band differs in at most ``r // 4`` bits (pigeonhole), so enumerating the band
   values within that radius (137 keys for ``r = 11``) and looking them up with a binary search finds
   *every* hash within ``r`` exactly, in milliseconds at millions of photos. The query is made with the
   photo's hash and its mirror's.
2. **CNN features.** The EfficientNet-Lite0 pooled features, centred, projected to 256 dimensions with a
   fixed random matrix (Johnson–Lindenstrauss: cosines kept to about ±0.06), stored as float16. They confirm the
   hash candidates at the edge of the radius and, while the index is small enough for a scan
   (``scan_max`` photos), find near copies that a crop or a rotation moved too far for the hash.

A match is ``hash distance ≤ HASH_SURE``, or ``≤ HASH_RADIUS`` with feature cosine ≥ ``COS_CONFIRM``, or
feature cosine ≥ ``COS_ALONE`` with hash distance ≤ ``HASH_LOOSE`` (scan only). Files on disk (``--index DIR``): ``hashes.u64`` and
``features.f16`` (raw, append-only; three hashes and one vector per photo) and ``items.tsv`` (id, group,
reference, SHA-256). Thresholds were set on generated near copies of scikit-image's sample photos
(``atauly.vision.synthetic``; recall and false matches in ``benchmarks/bench_vision.py``).
"""

from __future__ import annotations

import contextlib
import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HASH_SURE = 8
HASH_RADIUS = 11
COS_CONFIRM = 0.80
COS_ALONE = 0.90
HASH_LOOSE = 22  # the feature match alone still needs the hashes to agree this far (unrelated photos: ≥ 16–18
# bits apart at the 1st percentile, two patches of one starry sky or gravel can reach cosine 0.93)
DIM = 256
CROPS = (0.0, 0.10, 0.20)  # indexed views: whole, central 90 %, central 80 %
BANDS = 4
_PROJ_SEED = 20251117


def projection(in_dim: int = 1280, out_dim: int = DIM) -> np.ndarray:
    rng = np.random.default_rng(_PROJ_SEED)
    return (rng.standard_normal((in_dim, out_dim)) / np.sqrt(out_dim)).astype(np.float32)


_PROJ: np.ndarray | None = None


def project(features: np.ndarray) -> np.ndarray:
    """1280-d features → DIM-d unit vectors (float32)."""
    global _PROJ
    if _PROJ is None:
        _PROJ = projection()
    f = np.atleast_2d(features).astype(np.float32)
    f = f - f.mean(axis=1, keepdims=True)  # ReLU features are all positive: centre them per photo
    z = f @ _PROJ
    return z / (np.linalg.norm(z, axis=1, keepdims=True) + 1e-12)


def _flip_masks(bits: int, radius: int) -> np.ndarray:
    masks = [0]
    for r in range(1, radius + 1):
        for combo in itertools.combinations(range(bits), r):
            m = 0
            for c in combo:
                m |= 1 << c
            masks.append(m)
    return np.array(masks, dtype=np.uint16)


_MASKS: dict[int, np.ndarray] = {}


def popcount64(x: np.ndarray) -> np.ndarray:
    return np.bitwise_count(x.astype(np.uint64)).astype(np.int64)


@dataclass
class Match:
    id: int
    ref: str
    group: str
    distance: int  # pHash Hamming distance (to the photo or its mirror image)
    mirrored: bool
    cosine: float  # NaN when features were not compared

    def reason(self, t=None) -> str:
        """In words, through a translator ``t`` (:class:`atauly.i18n.Translator`) when given."""
        from atauly.i18n import N_

        t = t or (lambda m, **kw: m.format(**kw))
        parts = [t(N_("hash distance {d}"), d=self.distance)]
        if self.mirrored:
            parts.append(t(N_("mirrored")))
        if self.cosine == self.cosine:
            parts.append(t(N_("feature similarity {c:.2f}"), c=self.cosine))
        return ", ".join(parts)


def index_hashes(rgb: np.ndarray, whole: int | None = None) -> np.ndarray:
    """The hashes a photo (RGB or grey) is indexed under: the whole image and its central crops (uint64,
    len(CROPS)); ``whole``: the whole image's hash when already computed (``phash_pair``)."""
    from . import phash

    if rgb.ndim == 3:
        import cv2

        rgb = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)  # once, not once per crop
    h, w = rgb.shape[:2]
    out = []
    for c in CROPS:
        if c == 0.0 and whole is not None:
            out.append(whole)
            continue
        dy, dx = int(h * c / 2), int(w * c / 2)
        out.append(phash.phash(rgb[dy : h - dy, dx : w - dx]))
    return np.array(out, dtype=np.uint64)


class ReuseIndex:
    K = len(CROPS)

    def __init__(self, path: Path | None = None, scan_max: int = 250_000):
        self.path = Path(path) if path else None
        self.scan_max = scan_max
        self.hashes = np.zeros((0, self.K), dtype=np.uint64)
        self.features = np.zeros((0, DIM), dtype=np.float16)
        self.refs: list[str] = []
        self.groups: list[str] = []
        self.shas: list[str] = []
        self._saved = 0
        self._items_offset = 0  # bytes of items.tsv read or written so far
        if self.path and (self.path / "hashes.u64").exists():
            self._load()
        self._build()

    # -- storage -------------------------------------------------------------------------------------
    def _load(self) -> None:
        assert self.path is not None
        flat = np.fromfile(self.path / "hashes.u64", dtype="<u8").astype(np.uint64)
        if flat.size % self.K:
            raise ValueError(f"reuse index {self.path}: hashes file is damaged; rebuild the index")
        self.hashes = flat.reshape(-1, self.K)
        n = len(self.hashes)
        feats = np.fromfile(self.path / "features.f16", dtype="<f2")
        if feats.size < n * DIM:
            raise ValueError(f"reuse index {self.path}: features and hashes disagree; rebuild the index")
        self.features = feats[: n * DIM].reshape(n, DIM)
        self._items_offset = 0
        self._read_items(n)
        if len(self.refs) < n:
            raise ValueError(f"reuse index {self.path}: items and hashes disagree; rebuild the index")
        self._saved = n

    def _read_items(self, n: int) -> None:
        """Append up to ``n`` lines of ``items.tsv`` from the last offset read (an interrupted save may have
        left more lines than hashes: only whole photos are taken)."""
        assert self.path is not None
        with (self.path / "items.tsv").open("rb") as fh:
            fh.seek(self._items_offset)
            for _ in range(n):
                line = fh.readline()
                if not line.endswith(b"\n"):
                    break
                _id, group, ref, sha = line.decode("utf-8").rstrip("\n").split("\t")
                self.groups.append(group)
                self.refs.append(ref)
                self.shas.append(sha)
                self._items_offset += len(line)

    @contextlib.contextmanager
    def lock(self):
        """Hold the index's file lock (``fcntl.flock`` on ``.lock``): several processes (service workers, a
        ``vision check`` run) may share one index folder when each calls :meth:`refresh` and :meth:`save`
        under it. Without a folder, nothing to lock."""
        if self.path is None:
            yield self
            return
        import fcntl

        self.path.mkdir(parents=True, exist_ok=True)
        with (self.path / ".lock").open("a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield self
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def refresh(self) -> int:
        """Load the photos other processes saved since this one last loaded or saved (call under
        :meth:`lock`, with nothing unsaved); returns how many."""
        if self.path is None or not (self.path / "hashes.u64").exists():
            return 0
        self._flush_pending()
        if len(self.hashes) != self._saved:
            raise RuntimeError("reuse index: refresh with unsaved photos")
        flat = np.fromfile(self.path / "hashes.u64", dtype="<u8", offset=self._saved * self.K * 8)
        n = flat.size // self.K
        if n == 0:
            return 0
        feats = np.fromfile(
            self.path / "features.f16", dtype="<f2", count=n * DIM, offset=self._saved * DIM * 2
        )
        before = len(self.refs)
        self._read_items(n)
        if feats.size < n * DIM or len(self.refs) - before < n:
            raise ValueError(f"reuse index {self.path}: files disagree; rebuild the index")
        self.hashes = np.vstack([self.hashes, flat[: n * self.K].astype(np.uint64).reshape(n, self.K)])
        self.features = np.vstack([self.features, feats.reshape(n, DIM)])
        self._saved += n
        self._build()
        return n

    def save(self) -> None:
        """Append what was added since the last save (the files only ever grow; hashes written last)."""
        if self.path is None:
            return
        self._flush_pending()
        self.path.mkdir(parents=True, exist_ok=True)
        new = slice(self._saved, len(self.hashes))
        with (self.path / "features.f16").open("ab") as fh:
            fh.write(np.ascontiguousarray(self.features[new], dtype="<f2").tobytes())
        with (self.path / "items.tsv").open("ab") as fh:
            for i in range(new.start, new.stop):
                line = f"{i}\t{self.groups[i]}\t{self.refs[i]}\t{self.shas[i]}\n".encode()
                fh.write(line)
                self._items_offset += len(line)
        with (self.path / "hashes.u64").open("ab") as fh:  # last: its length is the count of photos
            fh.write(np.ascontiguousarray(self.hashes[new], dtype="<u8").tobytes())
        self._saved = len(self.hashes)

    def truncate(self, n: int) -> None:
        """Forget the photos added after the first ``n`` (not yet saved ones only: files never shrink)."""
        self._flush_pending()
        n = max(n, self._saved)
        self.hashes, self.features = self.hashes[:n], self.features[:n]
        del self.refs[n:], self.groups[n:], self.shas[n:]
        self._build()

    # -- building ------------------------------------------------------------------------------------
    def _build(self) -> None:
        flat = self.hashes.ravel()
        self._sorted: list[tuple[np.ndarray, np.ndarray]] = []
        for b in range(BANDS):
            band = ((flat >> np.uint64(16 * b)) & np.uint64(0xFFFF)).astype(np.uint16)
            order = np.argsort(band, kind="stable")
            self._sorted.append((band[order], order.astype(np.int64)))
        self._built = flat.size
        self._pending_h: list[np.ndarray] = []
        self._pending_f: list[np.ndarray] = []

    def _flush_pending(self) -> None:
        if self._pending_h:
            self.hashes = np.vstack([self.hashes, *self._pending_h])
            self.features = np.vstack([self.features, *self._pending_f])
            self._pending_h, self._pending_f = [], []

    def __len__(self) -> int:
        return len(self.hashes) + len(self._pending_h)

    def has(self, ref: str, sha256: str) -> bool:
        """Whether this very file (same reference, same bytes) is already registered (a re-run)."""
        if getattr(self, "_keys_n", -1) != len(self.refs):
            self._keys = set(zip(self.refs, self.shas, strict=True))
            self._keys_n = len(self.refs)
        return (ref, sha256) in self._keys

    def add(
        self, hashes: np.ndarray, features: np.ndarray | None, ref: str, group: str = "", sha256: str = ""
    ) -> int:
        """Register a photo under its :func:`index_hashes`; returns its id."""
        vec = np.zeros((1, DIM), np.float16) if features is None else project(features).astype(np.float16)
        self._pending_h.append(np.asarray(hashes, dtype=np.uint64).reshape(1, self.K))
        self._pending_f.append(vec)
        self.refs.append(ref.replace("\t", " ").replace("\n", " "))
        self.groups.append(group.replace("\t", " ").replace("\n", " "))
        self.shas.append(sha256)
        if len(self._pending_h) >= 256:
            self._flush_pending()
        if self.hashes.size - self._built > 4096 * self.K:
            self._build()
        return len(self) - 1

    def add_many(self, hashes: np.ndarray, features: np.ndarray, refs: list[str], groups: list[str]) -> None:
        """Bulk load (benchmarks, rebuilds): ``hashes`` (n, K); ``features`` already projected (n, DIM)."""
        self._flush_pending()
        self.hashes = np.vstack([self.hashes, hashes.astype(np.uint64).reshape(-1, self.K)])
        self.features = np.vstack([self.features, features.astype(np.float16)])
        self.refs += refs
        self.groups += groups
        self.shas += [""] * len(refs)
        self._build()

    # -- search --------------------------------------------------------------------------------------
    def hash_candidates(self, h: int, radius: int = HASH_RADIUS) -> tuple[np.ndarray, np.ndarray]:
        """(photo ids, distances) of every photo with an indexed hash within ``radius`` bits of ``h``
        (exact; the smallest distance over its hashes)."""
        self._flush_pending()
        per_band = radius // BANDS
        masks = _MASKS.setdefault(per_band, _flip_masks(16, per_band))
        found = []
        for b, (keys, order) in enumerate(self._sorted):
            q = np.uint16((h >> (16 * b)) & 0xFFFF)
            probe = np.sort(masks ^ q)  # XOR with a constant keeps the keys distinct
            lo = np.searchsorted(keys, probe, side="left")
            hi = np.searchsorted(keys, probe, side="right")
            hit = hi > lo
            if hit.any():
                lo, hi = lo[hit], hi[hit]
                lens = hi - lo
                # all positions lo..hi-1 of every hit bucket, without a Python loop
                starts = np.repeat(lo - np.concatenate([[0], np.cumsum(lens)[:-1]]), lens)
                found.append(order[starts + np.arange(lens.sum())])
        flat = self.hashes.ravel()
        if self._built < flat.size:
            found.append(np.arange(self._built, flat.size))
        if not found:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        entries = np.concatenate(found)  # may repeat (several bands agree): dropped below, after the filter
        d = popcount64(flat[entries] ^ np.uint64(h))
        keep = d <= radius
        ids, d = entries[keep] // self.K, d[keep]
        if ids.size == 0:
            return ids, d
        order = np.lexsort((d, ids))
        ids, d = ids[order], d[order]
        first = np.concatenate([[True], ids[1:] != ids[:-1]])
        return ids[first], d[first]

    def query(
        self,
        h: int,
        h_mirror: int,
        features: np.ndarray | None,
        exclude_group: str | None = None,
        exclude_ref: str | None = None,
    ) -> Match | None:
        """The best earlier photo this one reuses, or None (never ``exclude_ref`` itself, never a photo of
        ``exclude_group``)."""
        self._flush_pending()
        vec = None if features is None else project(features)[0]
        best: Match | None = None
        for hq, mirrored in ((h, False), (h_mirror, True)):
            ids, dist = self.hash_candidates(hq)
            for i, d in zip(ids.tolist(), dist.tolist(), strict=True):
                if (exclude_group is not None and self.groups[i] == exclude_group) or self.refs[
                    i
                ] == exclude_ref:
                    continue
                cos = float(self.features[i].astype(np.float32) @ vec) if vec is not None else float("nan")
                ok = d <= HASH_SURE or (vec is not None and cos >= COS_CONFIRM) or (vec is None and d <= 10)
                if ok and (best is None or (d, -cos if cos == cos else 0) < (best.distance, -best.cosine)):
                    best = Match(i, self.refs[i], self.groups[i], d, mirrored, cos)
        if best is None and vec is not None and 0 < len(self) <= self.scan_max:
            sims = self.features.astype(np.float32) @ vec
            if exclude_group is not None:
                sims[np.array([g == exclude_group for g in self.groups])] = -1
            if exclude_ref is not None:
                sims[np.array([r == exclude_ref for r in self.refs])] = -1
            for i in np.flatnonzero(sims >= COS_ALONE)[np.argsort(-sims[sims >= COS_ALONE])][:16].tolist():
                d0 = int(popcount64(self.hashes[i] ^ np.uint64(h)).min())
                d1 = int(popcount64(self.hashes[i] ^ np.uint64(h_mirror)).min())
                if min(d0, d1) <= HASH_LOOSE:
                    best = Match(i, self.refs[i], self.groups[i], min(d0, d1), d1 < d0, float(sims[i]))
                    break
        return best
