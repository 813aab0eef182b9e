from atauly.vision import synthetic
from atauly.vision.video import keyframes


def test_one_keyframe_per_scene():
    scenes = [synthetic.sample(n) for n in ("coffee", "rocket", "astronaut")]
    kfs = keyframes(synthetic.video_bytes(scenes, seconds_each=2.0))
    assert len(kfs) == 3
    assert [round(k.time) for k in kfs] == [0, 2, 4]
    assert kfs[0].rgb.shape == (360, 640, 3)


def test_a_long_gop_falls_back_to_sampled_frames():
    scenes = [synthetic.sample(n) for n in ("coffee", "rocket")]
    kfs = keyframes(synthetic.video_bytes(scenes, seconds_each=3.0, gop=300))
    assert len(kfs) == 2 and round(kfs[1].time) == 3
