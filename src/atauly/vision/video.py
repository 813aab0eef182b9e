"""Keyframes of a short video by scene change (PyAV), each then checked like a photo.

Only the stream's own key frames (I-frames) are decoded first — a phone writes one every one or two
seconds, and decoding them alone is several times faster than decoding every frame. When a video has
too few of them (a long GOP), frames are decoded and sampled at ``SAMPLE_FPS``. A frame becomes a
keyframe when its grey histogram differs from the last keyframe's by more than ``SCENE_THRESHOLD``
(half the L1 distance between the normalised 32-bin histograms, 0–1), plus the first frame.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import cv2
import numpy as np

from atauly.i18n import N_

from .intake import IntakeError, Limits

SCENE_THRESHOLD = 0.25
SAMPLE_FPS = 2.0
MAX_KEYFRAMES = 24
FRAME_SIDE = 1024


@dataclass
class Keyframe:
    time: float  # seconds from the start
    rgb: np.ndarray


def _hist(rgb: np.ndarray) -> np.ndarray:
    small = cv2.resize(rgb, (64, 36), interpolation=cv2.INTER_AREA)
    g = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    h = np.bincount((g // 8).ravel(), minlength=32).astype(np.float32)
    return h / h.sum()


def _frame_rgb(frame) -> np.ndarray:
    w, h = frame.width, frame.height
    s = min(1.0, FRAME_SIDE / max(w, h))
    if s < 1.0:
        frame = frame.reformat(width=round(w * s) // 2 * 2, height=round(h * s) // 2 * 2, format="rgb24")
        return frame.to_ndarray()
    return frame.to_ndarray(format="rgb24")


def keyframes(data: bytes, limits: Limits = Limits()) -> list[Keyframe]:
    """Scene-change keyframes of a video's bytes; :class:`IntakeError` when it cannot be read."""
    import av

    if len(data) > limits.max_video_bytes:
        raise IntakeError(
            "too_large",
            N_("the video is {size} MB; at most {limit} MB"),
            size=round(len(data) / 2**20),
            limit=limits.max_video_bytes // 2**20,
        )
    try:
        container = av.open(io.BytesIO(data), mode="r")
    except Exception:  # noqa: BLE001
        raise IntakeError("unreadable", N_("the video cannot be read")) from None
    with container:
        if not container.streams.video:
            raise IntakeError("wrong_type", N_("the file has no video stream"))
        stream = container.streams.video[0]
        duration = float(stream.duration * stream.time_base) if stream.duration else None
        if duration is None and container.duration:
            duration = container.duration / 1_000_000
        if duration is not None and duration > limits.max_video_seconds:
            raise IntakeError(
                "too_long",
                N_("the video lasts {seconds} s; at most {limit} s"),
                seconds=round(duration),
                limit=round(limits.max_video_seconds),
            )
        if (stream.width or 0) * (stream.height or 0) > limits.max_pixels:
            raise IntakeError(
                "decompression_bomb", N_("{w}×{h} pixels per frame"), w=stream.width, h=stream.height
            )
        stream.thread_type = "AUTO"
        out, seen = _scan(container, stream, limits, key_only=True)
        if duration and seen < max(2, duration / 3):
            container.seek(0)
            out, seen = _scan(container, stream, limits, key_only=False)
    if not out:
        raise IntakeError("corrupt", N_("no frame of the video could be decoded"))
    return out


def _scan(container, stream, limits: Limits, key_only: bool) -> tuple[list[Keyframe], int]:
    """Decode and choose keyframes in one pass: only the chosen frames (at most ``MAX_KEYFRAMES``) and the
    last keyframe's histogram are held, never the decoded video. The declared duration is not trusted:
    decoding stops with a refusal when a frame's time passes ``max_video_seconds``, when the decoder has
    produced ``max_video_frames`` frames, or after ``video_decode_seconds`` of work. Returns the keyframes
    and how many frames were sampled (key frames, or frames at ``SAMPLE_FPS``)."""
    import time

    stream.codec_context.skip_frame = "NONKEY" if key_only else "DEFAULT"
    out: list[Keyframe] = []
    last = None
    next_t = 0.0
    seen = decoded = 0
    deadline = time.monotonic() + limits.video_decode_seconds
    rate = float(stream.guessed_rate or stream.average_rate or 30)
    try:
        for frame in container.decode(stream):
            decoded += 1
            # a stream without timestamps (raw H.264): the time from the count of frames at its rate
            t = float(frame.time) if frame.time is not None else (decoded - 1) / rate
            if t > limits.max_video_seconds:
                raise IntakeError(
                    "too_long",
                    N_("the video lasts {seconds} s; at most {limit} s"),
                    seconds=round(t),
                    limit=round(limits.max_video_seconds),
                )
            if decoded > limits.max_video_frames or time.monotonic() > deadline:
                raise IntakeError(
                    "too_long",
                    N_("the video has too many frames to check (at most {n})"),
                    n=limits.max_video_frames,
                )
            if not key_only:
                if t < next_t:
                    continue
                next_t = t + 1.0 / SAMPLE_FPS
            seen += 1
            if len(out) >= MAX_KEYFRAMES:
                continue  # keep reading (nothing is converted or kept): the limits above still apply
            rgb = _frame_rgb(frame)
            h = _hist(rgb)
            if last is None or 0.5 * np.abs(h - last).sum() > SCENE_THRESHOLD:
                out.append(Keyframe(t, rgb))
                last = h
    except IntakeError:
        raise
    except Exception:  # noqa: BLE001 - keep what decoded before damaged data
        if not out:
            raise IntakeError("corrupt", N_("the video data is damaged")) from None
    return out, seen
