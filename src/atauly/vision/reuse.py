"""The reuse index: has this photo (or a near copy, or its mirror image) been submitted before?

Two signals, as the evidence suggests (pHash distance after JPEG or resizing 0, rotation 5° ~8, crop 10%
~10, mirror 32, unrelated photos 33–40):

1. **Perceptual hash, by multi-index hashing.** Each 64-bit pHash is cut into four 16-bit bands; each
   band is kept sorted. If two hashes differ in at most ``r`` bits, at least one band differs in at most
   ``r // 4`` bits (pigeonhole), so enumerating the band values within that radius (137 keys for
   ``r = 11``) and looking them up with a binary search finds *every* hash within ``r`` exactly, in
   milliseconds at millions of photos. The query is made with the photo's hash and its mirror's.
2. **CNN features.** The EfficientNet-Lite0 pooled features, projected to 128 dimensions with a fixed
   random matrix (Johnson–Lindenstrauss: cosines kept to about ±0.1), stored as float16. They confirm the
   hash candidates at the edge of the radius and, while the index is small enough for a scan
   (``scan_max`` photos), find near copies that a crop or a rotation moved too far for the hash.

A match is ``hash distance ≤ HASH_SURE``, or ``≤ HASH_RADIUS`` with feature cosine ≥ ``COS_CONFIRM``, or
feature cosine ≥ ``COS_ALONE`` (scan only). Files on disk (``--index DIR``): ``hashes.u64`` and
``features.f16`` (raw, append-only) and ``items.tsv`` (id, group, reference, SHA-256).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HASH_SURE = 8
HASH_RADIUS = 11
COS_CONFIRM = 0.75
COS_ALONE = 0.93
DIM = 128
BANDS = 4
_PROJ_SEED = 20251117


def projection(in_dim: int = 1280, out_dim: int = DIM) -> np.ndarray:
    rng = np.random.default_rng(_PROJ_SEED)
    return (rng.standard_normal((in_dim, out_dim)) / np.sqrt(out_dim)).astype(np.float32)


_PROJ: np.ndarray | None = None


def project(features: np.ndarray) -> np.ndarray:
    """1280-d features → 128-d unit vectors (float32)."""
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

    def reason(self) -> str:
        parts = [f"hash distance {self.distance}"]
        if self.mirrored:
            parts.append("mirrored")
        if self.cosine == self.cosine:
            parts.append(f"feature similarity {self.cosine:.2f}")
        return ", ".join(parts)


class ReuseIndex:
    def __init__(self, path: Path | None = None, scan_max: int = 250_000):
        self.path = Path(path) if path else None
        self.scan_max = scan_max
        self.hashes = np.zeros(0, dtype=np.uint64)
        self.features = np.zeros((0, DIM), dtype=np.float16)
        self.refs: list[str] = []
        self.groups: list[str] = []
        self.shas: list[str] = []
        self._saved = 0
        if self.path and (self.path / "hashes.u64").exists():
            self._load()
        self._build()

    # -- storage -------------------------------------------------------------------------------------
    def _load(self) -> None:
        assert self.path is not None
        self.hashes = np.fromfile(self.path / "hashes.u64", dtype="<u8").astype(np.uint64)
        n = len(self.hashes)
        feats = np.fromfile(self.path / "features.f16", dtype="<f2")
        if feats.size != n * DIM:
            raise ValueError(f"reuse index {self.path}: features and hashes disagree; rebuild the index")
        self.features = feats.reshape(n, DIM)
        with (self.path / "items.tsv").open(encoding="utf-8") as fh:
            for line in fh:
                _id, group, ref, sha = line.rstrip("\n").split("\t")
                self.groups.append(group)
                self.refs.append(ref)
                self.shas.append(sha)
        if len(self.refs) != n:
            raise ValueError(f"reuse index {self.path}: items and hashes disagree; rebuild the index")
        self._saved = n

    def save(self) -> None:
        """Append what was added since the last save (the files only ever grow)."""
        if self.path is None:
            return
        self.path.mkdir(parents=True, exist_ok=True)
        new = slice(self._saved, len(self.hashes))
        with (self.path / "features.f16").open("ab") as fh:
            fh.write(np.ascontiguousarray(self.features[new], dtype="<f2").tobytes())
        with (self.path / "items.tsv").open("a", encoding="utf-8") as fh:
            for i in range(new.start, new.stop):
                fh.write(f"{i}\t{self.groups[i]}\t{self.refs[i]}\t{self.shas[i]}\n")
        with (self.path / "hashes.u64").open("ab") as fh:  # last: its length is the count of items
            fh.write(np.ascontiguousarray(self.hashes[new], dtype="<u8").tobytes())
        self._saved = len(self.hashes)

    # -- building ------------------------------------------------------------------------------------
    def _build(self) -> None:
        self._sorted: list[tuple[np.ndarray, np.ndarray]] = []
        for b in range(BANDS):
            band = ((self.hashes >> np.uint64(16 * b)) & np.uint64(0xFFFF)).astype(np.uint16)
            order = np.argsort(band, kind="stable")
            self._sorted.append((band[order], order))
        self._built = len(self.hashes)

    def __len__(self) -> int:
        return len(self.hashes)

    def add(self, h: int, features: np.ndarray | None, ref: str, group: str = "", sha256: str = "") -> int:
        self.hashes = np.append(self.hashes, np.uint64(h))
        vec = np.zeros((1, DIM), np.float16) if features is None else project(features).astype(np.float16)
        self.features = np.vstack([self.features, vec])
        self.refs.append(ref.replace("\t", " ").replace("\n", " "))
        self.groups.append(group.replace("\t", " ").replace("\n", " "))
        self.shas.append(sha256)
        if len(self.hashes) - self._built > 4096:
            self._build()
        return len(self.hashes) - 1

    def add_many(self, hashes: np.ndarray, features: np.ndarray, refs: list[str], groups: list[str]) -> None:
        """Bulk load (benchmarks, rebuilds): ``features`` already projected (n, DIM)."""
        self.hashes = np.concatenate([self.hashes, hashes.astype(np.uint64)])
        self.features = np.vstack([self.features, features.astype(np.float16)])
        self.refs += refs
        self.groups += groups
        self.shas += [""] * len(refs)
        self._build()

    # -- search --------------------------------------------------------------------------------------
    def hash_candidates(self, h: int, radius: int = HASH_RADIUS) -> np.ndarray:
        """Ids of every indexed hash within ``radius`` bits of ``h`` (exact)."""
        per_band = radius // BANDS
        masks = _MASKS.setdefault(per_band, _flip_masks(16, per_band))
        found = []
        for b, (keys, order) in enumerate(self._sorted):
            q = np.uint16((h >> (16 * b)) & 0xFFFF)
            probe = np.unique(masks ^ q)
            lo = np.searchsorted(keys, probe, side="left")
            hi = np.searchsorted(keys, probe, side="right")
            hit = hi > lo
            if hit.any():
                found.append(np.concatenate([order[a:z] for a, z in zip(lo[hit], hi[hit], strict=True)]))
        if self._built < len(self.hashes):
            found.append(np.arange(self._built, len(self.hashes)))
        if not found:
            return np.zeros(0, dtype=np.int64)
        ids = np.unique(np.concatenate(found))
        d = popcount64(self.hashes[ids] ^ np.uint64(h))
        return ids[d <= radius]

    def query(
        self, h: int, h_mirror: int, features: np.ndarray | None, exclude_group: str | None = None
    ) -> Match | None:
        """The best earlier photo this one reuses, or None."""
        vec = None if features is None else project(features)[0]
        best: Match | None = None
        for hq, mirrored in ((h, False), (h_mirror, True)):
            ids = self.hash_candidates(hq)
            if exclude_group is not None and len(ids):
                ids = np.array([i for i in ids if self.groups[i] != exclude_group], dtype=np.int64)
            for i in ids:
                d = (int(self.hashes[i]) ^ hq).bit_count()
                cos = float(self.features[i].astype(np.float32) @ vec) if vec is not None else float("nan")
                ok = d <= HASH_SURE or (vec is not None and cos >= COS_CONFIRM) or (vec is None and d <= 10)
                if ok and (best is None or (d, -cos if cos == cos else 0) < (best.distance, -best.cosine)):
                    best = Match(int(i), self.refs[i], self.groups[i], d, mirrored, cos)
        if best is None and vec is not None and 0 < len(self) <= self.scan_max:
            sims = self.features.astype(np.float32) @ vec
            if exclude_group is not None:
                mask = np.array([g == exclude_group for g in self.groups])
                sims[mask] = -1
            i = int(np.argmax(sims))
            if sims[i] >= COS_ALONE:
                d = min((int(self.hashes[i]) ^ h).bit_count(), (int(self.hashes[i]) ^ h_mirror).bit_count())
                mirrored = (int(self.hashes[i]) ^ h_mirror).bit_count() < (
                    int(self.hashes[i]) ^ h
                ).bit_count()
                best = Match(i, self.refs[i], self.groups[i], d, mirrored, float(sims[i]))
        return best
