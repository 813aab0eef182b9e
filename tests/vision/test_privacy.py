import numpy as np
import pytest

from atauly.vision import privacy, synthetic


@pytest.mark.parametrize("name", ["astronaut", "camera"])
def test_faces_in_package_sample_images_are_found_and_blurred(name):
    img = synthetic.sample(name)
    redacted, boxes = privacy.redact(img)
    faces = [b for b in boxes if b.kind == "face"]
    assert faces, f"no face found in {name}"
    # nothing face-like is left for the same detector, and the face region lost its detail
    assert not [b for b in privacy.detect(redacted, people=False) if b.kind == "face"]
    b = faces[0]
    before = img[b.y : b.y + b.h, b.x : b.x + b.w].astype(float)
    after = redacted[b.y : b.y + b.h, b.x : b.x + b.w].astype(float)
    assert np.abs(np.diff(after, axis=1)).mean() < 0.25 * np.abs(np.diff(before, axis=1)).mean()


def test_a_photo_without_people_is_unchanged():
    img = synthetic.sample("coffee")
    redacted, boxes = privacy.redact(img)
    assert boxes == [] and redacted is img


def test_blur_stays_inside_the_image():
    img = np.random.default_rng(0).integers(0, 255, (100, 120, 3), dtype=np.uint8)
    out = privacy.blur_regions(
        img, [privacy.Box(-10, 90, 50, 40, "face"), privacy.Box(100, 0, 40, 40, "person")]
    )
    assert out.shape == img.shape and not np.array_equal(out, img)
