import numpy as np

from atauly.vision import quality, synthetic


def _share(images, flag):
    return np.mean([getattr(quality.assess(a), flag) for a in images])


def test_flags_find_their_cases_and_spare_the_originals(bases):
    originals = [a for _, a in bases]
    assert _share([synthetic.blurred(a) for a in originals], "blurred") == 1.0
    assert _share([synthetic.dark(a) for a in originals], "dark") == 1.0
    assert _share([synthetic.moire(a, seed=i) for i, a in enumerate(originals)], "screen_photo") >= 0.85
    assert _share(originals, "screen_photo") <= 0.05
    assert _share(originals, "blurred") <= 0.1
    sharp = [a for a in originals if quality.assess(a).brightness > 60]
    assert _share(sharp, "dark") == 0.0


def test_moire_ignores_a_plain_image():
    flat = np.full((300, 300, 3), 128, np.uint8)
    assert quality.moire_score(flat[..., 0]) < quality.MOIRE_THRESHOLD
    assert quality.assess(flat).blurred  # nothing in focus: an officer should look
