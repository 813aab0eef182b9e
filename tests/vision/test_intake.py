import io
from datetime import datetime

import numpy as np
import pytest
from PIL import Image

from atauly.vision import intake, synthetic
from atauly.vision.intake import IntakeError, Limits


@pytest.fixture(scope="module")
def photo():
    return synthetic.sample("coffee")


def test_type_is_decided_by_content_not_by_name(photo):
    jpeg = synthetic.jpeg_bytes(photo)
    png = io.BytesIO()
    Image.fromarray(photo).save(png, format="PNG")
    assert intake.sniff(jpeg[:32]) == "jpeg"
    assert intake.sniff(png.getvalue()[:32]) == "png"
    assert intake.sniff(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 20) == "mp4"
    assert intake.sniff(b"\x00\x00\x00\x18ftypheic" + b"\x00" * 20) == "heic"
    assert intake.sniff(b"GIF89a" + b"\x00" * 30) is None
    assert intake.sniff(b"<html><script>" + b" " * 30) is None


@pytest.mark.parametrize(
    "name,reason",
    [
        ("truncated.jpg", "corrupt"),
        ("polyglot_zip.jpg", "polyglot"),
        ("polyglot_html.jpg", "polyglot"),
        ("wrong_type.jpg", "wrong_type"),
        ("empty.jpg", "wrong_type"),
        ("decompression_bomb.png", "decompression_bomb"),
    ],
)
def test_bad_files_are_refused_with_a_reason(photo, name, reason):
    data = synthetic.bad_files(synthetic.jpeg_bytes(photo))[name]
    with pytest.raises(IntakeError) as err:
        intake.open_image(data)
    assert err.value.reason == reason
    assert str(err.value)


def test_size_limit_is_checked_before_anything_else(photo):
    data = synthetic.jpeg_bytes(photo)
    with pytest.raises(IntakeError) as err:
        intake.open_image(data, Limits(max_image_bytes=len(data) - 1))
    assert err.value.reason == "too_large"


def test_heic_from_a_phone_is_read(photo):
    import pillow_heif

    heif = pillow_heif.from_bytes(mode="RGB", size=(photo.shape[1], photo.shape[0]), data=photo.tobytes())
    buf = io.BytesIO()
    heif.save(buf, quality=80)
    dec = intake.open_image(buf.getvalue())
    assert dec.kind == "heic" and dec.rgb.shape == photo.shape


def test_exif_time_and_gps_are_read_and_never_reencoded(photo):
    ex = synthetic.exif_with("2025:03:04 10:20:30", lat=43.2389, lon=76.8897)
    data = synthetic.jpeg_bytes(photo, exif=ex)
    dec = intake.open_image(data)
    assert dec.exif.time == datetime(2025, 3, 4, 10, 20, 30)
    assert dec.exif.lat == pytest.approx(43.2389, abs=1e-4) and dec.exif.lon == pytest.approx(
        76.8897, abs=1e-4
    )
    out = intake.encode_jpeg(dec.rgb)
    again = Image.open(io.BytesIO(out))
    assert not again.getexif() and b"Exif" not in out[:200]


def test_missing_or_broken_exif_is_just_missing(photo):
    dec = intake.open_image(synthetic.jpeg_bytes(photo))
    assert dec.exif.time is None and dec.exif.lat is None
    ex = Image.Exif()
    ex[306] = "not a date"
    dec = intake.open_image(synthetic.jpeg_bytes(photo, exif=ex))
    assert dec.exif.time is None


def test_exif_orientation_is_applied(photo):
    ex = Image.Exif()
    ex[274] = 6  # rotate 90° clockwise to view
    dec = intake.open_image(synthetic.jpeg_bytes(photo, exif=ex))
    assert dec.rgb.shape[:2] == (photo.shape[1], photo.shape[0])


def test_large_photos_are_decoded_small(photo):
    big = np.tile(photo, (4, 4, 1))  # 1600×2400
    dec = intake.open_image(synthetic.jpeg_bytes(big), work_side=1024)
    assert max(dec.rgb.shape[:2]) <= 1024 and (dec.width, dec.height) == (2400, 1600)


@pytest.mark.parametrize("size", [(1, 500), (500, 1), (3000, 3), (31, 400)])
def test_a_strip_too_thin_to_show_anything_is_refused(size):
    buf = io.BytesIO()
    Image.new("RGB", size, (120, 130, 140)).save(buf, format="PNG")
    with pytest.raises(IntakeError) as err:
        intake.open_image(buf.getvalue())
    assert err.value.reason == "too_small"


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def test_a_flat_png_under_the_pixel_limit_is_refused_as_a_bomb():
    # 2048×2048 of one colour: a few KB that unpack to 12 MB; a photo compresses to about a pixel per byte
    with pytest.raises(IntakeError) as err:
        intake.open_image(_png(Image.new("RGB", (2048, 2048), (200, 100, 50))))
    assert err.value.reason == "decompression_bomb" and "compressed too far" in str(err.value)


def test_a_png_whose_pixels_unpack_past_the_memory_limit_is_refused():
    rgba = Image.fromarray(np.random.default_rng(1).integers(0, 255, (300, 300, 4), dtype=np.uint8), "RGBA")
    data = _png(rgba)
    assert intake.open_image(data).rgb.shape == (300, 300, 3)
    with pytest.raises(IntakeError) as err:
        intake.open_image(data, Limits(max_decoded_bytes=300 * 300 * 4 - 1))
    assert err.value.reason == "decompression_bomb"


def test_photos_saved_as_png_or_webp_still_pass(photo):
    for fmt in ("PNG", "WEBP"):
        buf = io.BytesIO()
        Image.fromarray(photo).save(buf, format=fmt)
        assert intake.open_image(buf.getvalue()).rgb.shape[:2] == photo.shape[:2]


def test_text_by_chance_in_compressed_data_is_not_a_polyglot_but_text_in_a_segment_is():
    from atauly.vision import intake

    app0 = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sos = b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00"
    scan = b"\x12\x34<svg \x56<Script>\x00\xff\x00\x9a"  # bytes a compressed scan may hold by chance
    intake.check_polyglot(b"\xff\xd8" + app0 + sos + scan + b"\xff\xd9", "jpeg")
    for where in ("before", "after", "trailing"):
        com = b"\xff\xfe\x00\x12<script>x</script>"[:20]
        if where == "before":
            data = b"\xff\xd8" + com + app0 + sos + scan + b"\xff\xd9"
        elif where == "after":  # a comment between the scans of a progressive JPEG
            data = b"\xff\xd8" + app0 + sos + scan + com + sos + scan + b"\xff\xd9"
        else:
            data = b"\xff\xd8" + app0 + sos + scan + b"\xff\xd9<html><script>x</script>"
        with pytest.raises(intake.IntakeError) as err:
            intake.check_polyglot(data, "jpeg")
        assert err.value.reason == "polyglot", where
