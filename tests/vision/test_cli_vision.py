import csv
import io

import numpy as np
from PIL import Image
from typer.testing import CliRunner

from atauly.cli.main import app
from atauly.vision import synthetic

runner = CliRunner()
CONTRACT = [
    "file",
    "sha256",
    "phash",
    "blurred",
    "dark",
    "screen_photo",
    "faces",
    "exif_time",
    "gps_region",
    "duplicate_of",
    "inventory",
    "flags",
]


def _rows(path):
    with open(path, encoding="utf-8") as fh:
        return {r["file"]: r for r in csv.DictReader(fh)}


def _write(folder, name, data):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


def test_check_end_to_end(tmp_path, home, classifier):
    a = tmp_path / "app-1"
    coffee, astro = synthetic.sample("coffee"), synthetic.sample("astronaut")
    _write(
        a,
        "kitchen.jpg",
        synthetic.jpeg_bytes(coffee, exif=synthetic.exif_with("2025:02:10 09:00:00", 43.2389, 76.8897)),
    )
    _write(
        a,
        "old.jpg",
        synthetic.jpeg_bytes(synthetic.sample("rocket"), exif=synthetic.exif_with("2023:01:01 12:00:00")),
    )
    _write(a, "family.jpg", synthetic.jpeg_bytes(astro))
    _write(a, "blurry.jpg", synthetic.jpeg_bytes(synthetic.blurred(synthetic.sample("chelsea"))))
    _write(a, "night.jpg", synthetic.jpeg_bytes(synthetic.dark(synthetic.sample("brick"))))
    _write(a, "screen.jpg", synthetic.jpeg_bytes(synthetic.moire(synthetic.sample("immunohistochemistry"))))
    _write(a, "walk.mp4", synthetic.video_bytes([coffee, synthetic.sample("rocket")], seconds_each=2.0))
    for name, data in synthetic.bad_files(synthetic.jpeg_bytes(coffee)).items():
        _write(a, name, data)
    out, index, deriv = tmp_path / "a.csv", tmp_path / "index", tmp_path / "deriv"
    r = runner.invoke(
        app,
        [
            "vision",
            "check",
            "--photos",
            str(a),
            "--out",
            str(out),
            "--index",
            str(index),
            "--from",
            "2025-02-01",
            "--to",
            "2025-03-01",
            "--region",
            "190000000",
            "--derivatives",
            str(deriv),
            "--lang",
            "en",
        ],
    )
    assert r.exit_code == 0, r.output
    header = next(csv.reader(open(out, encoding="utf-8")))
    assert header[: len(CONTRACT)] == CONTRACT
    rows = _rows(out)
    assert rows["kitchen.jpg"]["exif_time"] == "2025-02-10T09:00:00"
    assert rows["kitchen.jpg"]["gps_region"] == "750000000"  # Almaty city, declared: Almaty Region
    assert "another region" in rows["kitchen.jpg"]["flags"]
    assert "before the application window" in rows["old.jpg"]["flags"]
    assert rows["family.jpg"]["faces"] == "1" and "blurred" in rows["family.jpg"]["flags"]
    assert rows["blurry.jpg"]["blurred"] == "true" and rows["night.jpg"]["dark"] == "true"
    assert rows["screen.jpg"]["screen_photo"] == "true"
    assert rows["kitchen.jpg"]["blurred"] == rows["kitchen.jpg"]["dark"] == "false"
    for ok in ("kitchen.jpg", "family.jpg", "old.jpg"):  # no EXIF or good EXIF: nothing against the family
        assert rows[ok]["status"] == "ok"
    assert rows["family.jpg"]["exif_time"] == "" and "window" not in rows["family.jpg"]["flags"]
    frames = [f for f in rows if f.startswith("walk.mp4#t=")]
    assert len(frames) == 2 and all(rows[f]["kind"] == "keyframe" for f in frames)
    # the video's first scene is the kitchen photo: reuse is found inside the application too
    assert rows[frames[0]]["duplicate_of"] == "app-1/kitchen.jpg"
    for bad in (
        "truncated.jpg",
        "polyglot_zip.jpg",
        "polyglot_html.jpg",
        "wrong_type.jpg",
        "empty.jpg",
        "decompression_bomb.png",
    ):
        assert rows[bad]["status"] == "rejected" and rows[bad]["flags"].startswith("refused:"), bad
    assert "espresso" in rows["kitchen.jpg"]["top_classes"]
    # every derivative: re-encoded, no EXIF/GPS, no face left for the detector
    from atauly.vision import privacy

    files = sorted(deriv.glob("*.jpg"))
    assert len(files) == sum(r["status"] == "ok" for r in rows.values())
    for f in files:
        img = Image.open(f)
        assert not img.getexif()
        assert not [
            b for b in privacy.detect(np.asarray(img.convert("RGB")), people=False) if b.kind == "face"
        ]

    # a second family submits a mirrored, cropped copy of the first family's photo: found in the index
    b = tmp_path / "app-2"
    _write(b, "mine.jpg", synthetic.jpeg_bytes(synthetic.crop(coffee[:, ::-1], 0.1), quality=70))
    _write(b, "other.jpg", synthetic.jpeg_bytes(synthetic.sample("coins")))
    r = runner.invoke(
        app, ["vision", "check", "--photos", str(b), "--out", str(tmp_path / "b.csv"), "--index", str(index)]
    )
    assert r.exit_code == 0, r.output
    rows = _rows(tmp_path / "b.csv")
    assert rows["mine.jpg"]["duplicate_of"] == "app-1/kitchen.jpg"
    assert rows["other.jpg"]["duplicate_of"] == ""
    # checking the same folder again: no photo is its own duplicate, and nothing is registered twice
    size = len((index / "items.tsv").read_text().splitlines())
    r = runner.invoke(
        app, ["vision", "check", "--photos", str(b), "--out", str(tmp_path / "b2.csv"), "--index", str(index)]
    )
    assert r.exit_code == 0, r.output
    rerun = _rows(tmp_path / "b2.csv")
    assert (
        rerun["other.jpg"]["duplicate_of"] == "" and rerun["mine.jpg"]["duplicate_of"] == "app-1/kitchen.jpg"
    )
    assert len((index / "items.tsv").read_text().splitlines()) == size
    assert (
        "то же или почти то же фото, что app-1/kitchen.jpg" in rows["mine.jpg"]["flags"]
    )  # Russian by default


def test_check_refuses_bad_options(tmp_path, home):
    r = runner.invoke(
        app, ["vision", "check", "--photos", str(tmp_path / "missing"), "--out", str(tmp_path / "o.csv")]
    )
    assert r.exit_code == 2
    tmp = tmp_path / "p"
    tmp.mkdir()
    r = runner.invoke(
        app, ["vision", "check", "--photos", str(tmp), "--out", str(tmp_path / "o.csv"), "--region", "abc"]
    )
    assert r.exit_code == 2 and "KATO" in r.output


def test_check_stores_only_accepted_files_encrypted(tmp_path, home, classifier, monkeypatch):
    monkeypatch.setenv("ATAULY_VISION_KEY", "ab" * 32)
    folder = tmp_path / "app-3"
    good = synthetic.jpeg_bytes(synthetic.sample("astronaut"))
    _write(folder, "family.jpg", good)
    _write(folder, "bad.jpg", synthetic.bad_files(good)["polyglot_zip.jpg"])
    r = runner.invoke(
        app,
        [
            "vision",
            "check",
            "--photos",
            str(folder),
            "--out",
            str(tmp_path / "c.csv"),
            "--store",
            "--no-inventory",
        ],
    )
    assert r.exit_code == 0, r.output
    from atauly.vision.store import PhotoStore

    store = PhotoStore.open(home)
    rows = _rows(tmp_path / "c.csv")
    assert rows["family.jpg"]["sha256"] in store and rows["bad.jpg"]["sha256"] not in store
    blobs = list((home / "vision" / "store").rglob("*.bin"))
    assert len(blobs) == 2 and all(good[100:200] not in b.read_bytes() for b in blobs)
    from atauly.vision import privacy

    derivative = np.asarray(Image.open(io.BytesIO(store.get(rows["family.jpg"]["sha256"]))))
    assert not [b for b in privacy.detect(derivative, people=False) if b.kind == "face"]
