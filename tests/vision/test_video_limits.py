"""The video intake's bounds: what is held in memory and how long decoding may go on do not depend on
what the file declares (review finding: every decoded frame was kept before keyframes were chosen)."""

import io
import weakref

import av
import numpy as np
import pytest

from atauly.vision import synthetic, video
from atauly.vision.intake import IntakeError, Limits


def _h264(n: int = 60, fps: int = 15, gop: int = 1, fmt: str = "mp4", side: int = 64) -> bytes:
    """``n`` frames of one slowly changing grey scene, every frame a key frame (``gop=1``)."""
    buf = io.BytesIO()
    with av.open(buf, mode="w", format=fmt) as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width = stream.height = side
        stream.pix_fmt = "yuv420p"
        stream.codec_context.gop_size = gop
        stream.options = {"preset": "ultrafast"}
        for i in range(n):
            img = np.full((side, side, 3), 98 + (i % 4), np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buf.getvalue()


def test_decoded_frames_are_not_all_held(monkeypatch):
    alive: list[weakref.ref] = []
    most = 0
    original = video._frame_rgb

    def tracked(frame):
        nonlocal most
        rgb = original(frame)
        alive.append(weakref.ref(rgb))
        most = max(most, sum(r() is not None for r in alive))
        return rgb

    monkeypatch.setattr(video, "_frame_rgb", tracked)
    kfs = video.keyframes(_h264(60))
    assert len(alive) == 60  # every frame was a key frame and was looked at
    assert len(kfs) == 1  # one scene
    assert most <= 3  # the chosen keyframe, the previous frame and the current one — not 60


def test_keyframes_stop_at_the_cap_without_converting_the_rest(monkeypatch):
    scenes = [synthetic.sample(n) for n in ("coffee", "rocket", "astronaut")]
    data = synthetic.video_bytes(scenes, seconds_each=1.0, size=(160, 96))
    calls = []
    original = video._frame_rgb
    monkeypatch.setattr(video, "_frame_rgb", lambda f: calls.append(1) or original(f))
    monkeypatch.setattr(video, "MAX_KEYFRAMES", 1)
    kfs = video.keyframes(data)
    assert len(kfs) == 1 and len(calls) == 1


def test_frame_times_past_the_limit_are_refused_without_a_declared_duration():
    data = _h264(60, fps=15, fmt="h264")  # raw H.264: no container, no declared duration, 4 s
    assert len(video.keyframes(data)) == 1
    with pytest.raises(IntakeError) as exc:
        video.keyframes(data, Limits(max_video_seconds=2.0))
    assert exc.value.reason == "too_long"


def test_too_many_frames_are_refused():
    data = _h264(60)
    with pytest.raises(IntakeError) as exc:
        video.keyframes(data, Limits(max_video_frames=20))
    assert exc.value.reason == "too_long"


def test_a_decoding_time_budget_refuses():
    with pytest.raises(IntakeError) as exc:
        video.keyframes(_h264(30), Limits(video_decode_seconds=0.0))
    assert exc.value.reason == "too_long"
