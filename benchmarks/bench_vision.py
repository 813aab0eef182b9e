"""Benchmark: Stage 2 photo and video checks (issue 18). Nothing is downloaded.

    .venv/bin/python benchmarks/bench_vision.py [--photos 40] [--index-size 1000000] [--video-seconds 60]
        [--only pipeline,stages,video,index,reuse,flags,faces] [--out FILE.json] [--opencv-threads N]

Parts, each against a baseline measured in the same run (the machine is shared: ratios travel, absolute
times depend on the load, which is printed):

- ``pipeline``: the whole check of one phone photo (12 MP JPEG, 4032×3024: decode, redact, quality, hash,
  features, inventory, reuse query, re-encoded derivative), p50/p95 per photo. Baseline: a plain full
  decode of the same JPEG with Pillow. Target p95 ≤ 150 ms.
- ``stages``: the same photos stage by stage (decode, faces and people, blur, quality, hashes, CNN, reuse,
  derivative): CPU time (``time.process_time``, all threads) and wall time, p50/p95 per stage and in total.
- ``video``: keyframes of a 60-second 1080p H.264 video (GOP 1 s, a scene change every 10 s) and the
  photo pipeline on each keyframe. Baseline: decoding every frame. Target ≤ 5 s.
- ``index``: reuse search (hash and mirror hash, exact within 11 bits) among ``--index-size`` indexed
  photos of synthetic hashes (three per photo), p50/p95. Baseline: brute-force popcount over all hashes.
  Target ≤ 20 ms.
- ``reuse``: generated near copies (JPEG q40, resize, crop 10/20 %, rotation 3–5°, mirror, brightness) of
  base photos indexed under one application, queried as another's; unrelated photos queried too. Recall
  and false matches with Wilson intervals; with the feature scan (small index) and hash-only (the
  national-scale path). Target recall ≥ 0.95, false matches ≤ 1 %.
- ``flags``: blurred, dark and screen-photo flags on generated cases: precision and recall.
- ``faces``: every face in the sample images shipped with scikit-image (astronaut, camera) blurred in
  the derivative (the detector re-run on the derivative finds nothing).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from atauly.registry.intervals import wilson_interval
from atauly.vision import phash, privacy, quality, synthetic
from atauly.vision.check import Checker, Context
from atauly.vision.reuse import DIM, ReuseIndex, index_hashes, popcount64


def _load() -> str:
    la = os.getloadavg()
    return f"load average {la[0]:.1f} on {os.cpu_count()} CPUs"


def _pct(v, q) -> float:
    return float(np.percentile(np.asarray(v) * 1000, q))


def _wilson(k: int, n: int) -> str:
    lo, hi = wilson_interval(np.array([k]), np.array([max(n, 1)]))
    return f"{k}/{n} = {k / max(n, 1):.3f} [{float(lo[0]):.3f}, {float(hi[0]):.3f}]"


def phone_photo(a: np.ndarray, seed: int) -> bytes:
    """A 12 MP phone-like JPEG: upscaled, with sensor noise so that it compresses like a real photo."""
    rng = np.random.default_rng(seed)
    big = cv2.resize(a, (4032, 3024), interpolation=cv2.INTER_CUBIC).astype(np.int16)
    big += rng.normal(0, 4, big.shape).astype(np.int16)
    return synthetic.jpeg_bytes(np.clip(big, 0, 255).astype(np.uint8), quality=88)


def bench_pipeline(models: Path, n: int) -> dict:
    bases = synthetic.base_photos(max(n, 8), side=512)
    photos = [phone_photo(a, i) for i, (_, a) in enumerate(bases[:n])]
    checker = Checker(models, index=ReuseIndex(None))
    ctx = Context(group="bench", derivatives=Path(tempfile.mkdtemp()))
    checker.check_bytes(photos[0], "warm.jpg", ctx)  # load the models once
    t_pipe, t_base, cpu_pipe = [], [], []
    for i, data in enumerate(photos):
        t = time.perf_counter()
        np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
        t_base.append(time.perf_counter() - t)
        t, c = time.perf_counter(), time.process_time()
        rows = checker.check_bytes(data, f"p{i}.jpg", ctx)
        t_pipe.append(time.perf_counter() - t)
        cpu_pipe.append(time.process_time() - c)  # CPU time of all threads: less sensitive to the load
        assert rows[0]["status"] == "ok", rows[0]["flags"]
    out = {
        "photos": n,
        "photo_bytes_mean": int(np.mean([len(p) for p in photos])),
        "pipeline_p50_ms": _pct(t_pipe, 50),
        "pipeline_p95_ms": _pct(t_pipe, 95),
        "pipeline_cpu_p50_ms": _pct(cpu_pipe, 50),
        "pipeline_cpu_p95_ms": _pct(cpu_pipe, 95),
        "baseline_full_decode_p50_ms": _pct(t_base, 50),
        "ratio_p50_pipeline_to_decode": float(np.median(t_pipe) / np.median(t_base)),
        "face_detector": privacy.detector_name(),
        "load": _load(),
    }
    return out


def bench_stages(models: Path, n: int) -> dict:
    """CPU time (``time.process_time``: all threads) and wall time of each stage of the pipeline, on the
    same phone photos as ``pipeline``, the models loaded and run once before timing."""
    import hashlib

    from atauly.vision import intake
    from atauly.vision.check import _fit
    from atauly.vision.inventory import Classifier
    from atauly.vision.reuse import index_hashes

    bases = synthetic.base_photos(max(n, 8), side=512)
    photos = [phone_photo(a, i) for i, (_, a) in enumerate(bases[:n])]
    clf, ix = Classifier(models), ReuseIndex(None)
    warm = intake.open_image(photos[0])
    privacy.redact(warm.rgb)
    clf.run(warm.rgb)
    times: dict[str, list[tuple[float, float]]] = {}

    def stage(name, fn, *args):
        c, w = time.process_time(), time.perf_counter()
        out = fn(*args)
        times.setdefault(name, []).append((time.process_time() - c, time.perf_counter() - w))
        return out

    for i, data in enumerate(photos):
        c0, w0 = time.process_time(), time.perf_counter()
        stage("sha256", lambda d=data: hashlib.sha256(d).hexdigest())
        dec = stage("decode (incl. type and polyglot checks)", intake.open_image, data)
        grey = stage("grey", cv2.cvtColor, dec.rgb, cv2.COLOR_RGB2GRAY)
        h, hm = stage("phash + mirror", phash.phash_pair, grey)
        boxes = stage("detect faces + people", privacy.detect, dec.rgb)
        red = stage("blur", privacy.blur_regions, dec.rgb, boxes)
        stage("quality", quality.assess, red)
        probs, feats = stage("cnn (features + inventory)", clf.run, red)
        stage("inventory mapping", clf.inventory, probs)
        hashes = stage("index hashes (crops)", index_hashes, grey, h)
        stage("reuse query", ix.query, h, hm, feats)
        stage("reuse add", ix.add, hashes, feats, f"p{i}", "g")
        stage("derivative JPEG", lambda r=red: intake.encode_jpeg(_fit(r, 2048)))
        times.setdefault("total", []).append((time.process_time() - c0, time.perf_counter() - w0))
    out: dict = {"photos": n}
    for name, v in times.items():
        a = np.asarray(v)
        out[name] = {
            "cpu_p50_ms": round(_pct(a[:, 0], 50), 1),
            "cpu_p95_ms": round(_pct(a[:, 0], 95), 1),
            "wall_p50_ms": round(_pct(a[:, 1], 50), 1),
            "wall_p95_ms": round(_pct(a[:, 1], 95), 1),
        }
    out["opencv_threads"] = cv2.getNumThreads()
    out["load"] = _load()
    return out


def bench_video(models: Path, seconds: int) -> dict:
    import av

    from atauly.vision.video import keyframes

    scenes = [a for _, a in synthetic.base_photos(max(1, seconds // 10), side=512)]
    t = time.perf_counter()
    data = synthetic.video_bytes(
        scenes, seconds_each=seconds / len(scenes), fps=30, gop=30, size=(1920, 1080)
    )
    made = time.perf_counter() - t
    checker = Checker(models, index=ReuseIndex(None))
    checker.check_bytes(synthetic.jpeg_bytes(scenes[0]), "warm.jpg", Context())
    t, c = time.perf_counter(), time.process_time()
    kfs = keyframes(data)
    t_kf, c_kf = time.perf_counter() - t, time.process_time() - c
    t, c = time.perf_counter(), time.process_time()
    rows = checker.check_bytes(data, "video.mp4", Context(group="bench"))
    t_all, c_all = time.perf_counter() - t, time.process_time() - c
    t = time.perf_counter()
    with av.open(io.BytesIO(data)) as c:
        c.streams.video[0].thread_type = "AUTO"
        frames = sum(1 for _ in c.decode(video=0))
    t_full = time.perf_counter() - t
    return {
        "video_seconds": seconds,
        "video_mb": round(len(data) / 2**20, 1),
        "scenes": len(scenes),
        "keyframes": len(kfs),
        "keyframes_s": t_kf,
        "keyframes_plus_photo_checks_s": t_all,
        "keyframes_cpu_s": c_kf,
        "keyframes_plus_photo_checks_cpu_s": c_all,
        "rows": len(rows),
        "baseline_decode_all_frames_s": t_full,
        "frames": frames,
        "encode_s_not_timed": made,
        "load": _load(),
    }


def bench_index(size: int, queries: int = 200) -> dict:
    rng = np.random.default_rng(7)
    hashes = rng.integers(0, 2**64 - 1, (size, ReuseIndex.K), dtype=np.uint64)
    ix = ReuseIndex(None, scan_max=0)
    t = time.perf_counter()
    ix.add_many(hashes, np.zeros((size, DIM), np.float16), [""] * size, [""] * size)
    build = time.perf_counter() - t
    t_q, c_q, t_b, found = [], [], [], 0
    for _ in range(queries):
        i = int(rng.integers(size))
        q = int(hashes[i, 0])
        for b in rng.choice(64, size=int(rng.integers(0, 9)), replace=False):
            q ^= 1 << int(b)
        mirror = int(rng.integers(0, 2**63))
        t, c = time.perf_counter(), time.process_time()
        m = ix.query(q, mirror, None)
        t_q.append(time.perf_counter() - t)
        c_q.append(time.process_time() - c)
        found += m is not None and m.id == i
        t = time.perf_counter()
        flat = hashes.ravel()
        (popcount64(flat ^ np.uint64(q)) <= 11).nonzero()
        (popcount64(flat ^ np.uint64(mirror)) <= 11).nonzero()
        t_b.append(time.perf_counter() - t)
    return {
        "indexed_photos": size,
        "indexed_hashes": size * ReuseIndex.K,
        "build_s": build,
        "query_p50_ms": _pct(t_q, 50),
        "query_p95_ms": _pct(t_q, 95),
        "query_cpu_p50_ms": _pct(c_q, 50),
        "query_cpu_p95_ms": _pct(c_q, 95),
        "baseline_bruteforce_p50_ms": _pct(t_b, 50),
        "planted_found": f"{found}/{queries}",
        "load": _load(),
    }


def bench_reuse(models: Path) -> dict:
    from atauly.vision.inventory import Classifier

    clf = Classifier(models)
    bases = synthetic.base_photos(60, side=320, seed=3)
    indexed, unrelated = bases[:30], bases[30:]
    out = {}
    for mode, scan in (("with_feature_scan", 250_000), ("hash_only_national_scale", 0)):
        ix = ReuseIndex(None, scan_max=scan)
        for name, a in indexed:
            ix.add(index_hashes(a), clf.run(a)[1], name, "family-A")
        hits = wrong = total = 0
        per: dict[str, int] = {}
        for tname, tf in synthetic.NEAR_COPIES.items():
            for name, a in indexed:
                b = tf(a)
                h, hm = phash.phash_pair(b)
                m = ix.query(h, hm, clf.run(b)[1], exclude_group="family-B")
                total += 1
                ok = m is not None and m.ref == name
                hits += ok
                wrong += m is not None and m.ref != name
                per[tname] = per.get(tname, 0) + ok
        false_unrelated = 0
        for _name, a in unrelated:
            for variant in (a, synthetic.NEAR_COPIES["jpeg40"](a), synthetic.NEAR_COPIES["mirror"](a)):
                h, hm = phash.phash_pair(variant)
                false_unrelated += ix.query(h, hm, clf.run(variant)[1]) is not None
        n_unrel = 3 * len(unrelated)
        out[mode] = {
            "recall": _wilson(hits, total),
            "wrong_photo_matched": _wilson(wrong, total),
            "false_matches_unrelated": _wilson(false_unrelated, n_unrel),
            "false_match_rate_all_queries": _wilson(wrong + false_unrelated, total + n_unrel),
            "recall_by_transform": {k: f"{v}/{len(indexed)}" for k, v in per.items()},
        }
    return out


def bench_flags() -> dict:
    bases = synthetic.base_photos(40, side=256, seed=5)
    cases = {
        "blurred": [synthetic.blurred(a, s) for i, (_, a) in enumerate(bases) for s in ((2.0, 4.0)[i % 2],)],
        "dark": [synthetic.dark(a, 0.15 + 0.1 * (i % 2)) for i, (_, a) in enumerate(bases)],
        "screen_photo": [synthetic.moire(a, seed=i) for i, (_, a) in enumerate(bases)],
    }
    originals = [a for _, a in bases]
    out = {}
    for flag, positives in cases.items():
        tp = sum(getattr(quality.assess(a), flag) for a in positives)
        fp = sum(getattr(quality.assess(a), flag) for a in originals)
        out[flag] = {
            "recall": _wilson(int(tp), len(positives)),
            "false_positive_rate_on_originals": _wilson(int(fp), len(originals)),
            "precision": f"{tp / max(tp + fp, 1):.3f}",
        }
    return out


def bench_faces() -> dict:
    out = {}
    for name in ("astronaut", "camera"):
        img = synthetic.sample(name)
        redacted, boxes = privacy.redact(img)
        jpeg = Image.open(io.BytesIO(synthetic.jpeg_bytes(redacted)))
        left = [b for b in privacy.detect(np.asarray(jpeg.convert("RGB")), people=False) if b.kind == "face"]
        out[name] = {
            "faces_found": sum(b.kind == "face" for b in boxes),
            "faces_left_in_derivative": len(left),
        }
    out["detector"] = privacy.detector_name()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--photos", type=int, default=40)
    ap.add_argument("--index-size", type=int, default=1_000_000)
    ap.add_argument("--video-seconds", type=int, default=60)
    ap.add_argument("--only", default="pipeline,stages,video,index,reuse,flags,faces")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--opencv-threads", type=int, help="cv2.setNumThreads (default: OpenCV's own)")
    args = ap.parse_args()
    from atauly.vision import models_dir

    models = models_dir()
    if args.opencv_threads is not None:
        cv2.setNumThreads(args.opencv_threads)
    parts = args.only.split(",")
    result: dict = {}
    runs = {
        "faces": bench_faces,
        "flags": bench_flags,
        "pipeline": lambda: bench_pipeline(models, args.photos),
        "stages": lambda: bench_stages(models, args.photos),
        "video": lambda: bench_video(models, args.video_seconds),
        "index": lambda: bench_index(args.index_size),
        "reuse": lambda: bench_reuse(models),
    }
    for part, fn in runs.items():
        if part in parts:
            t = time.perf_counter()
            result[part] = fn()
            result[part]["part_wall_s"] = round(time.perf_counter() - t, 1)
            print(json.dumps({part: result[part]}, indent=2, default=float), flush=True)
    if args.out:
        args.out.write_text(json.dumps(result, indent=2, default=float), encoding="utf-8")


if __name__ == "__main__":
    main()
