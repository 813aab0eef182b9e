import numpy as np

from atauly.vision import synthetic
from atauly.vision.inventory import ASSET_CLASSES, asset_index, format_inventory


def test_every_asset_class_is_an_imagenet_class():
    idx = asset_index()
    assert set(idx) == set(ASSET_CLASSES)
    assert all(len(v) == len(ASSET_CLASSES[k]) for k, v in idx.items())


def test_onnx_model_recognises_sample_images(classifier, models_dir):
    assert (models_dir / "efficientnet_lite0.onnx").exists()
    expectations = {
        "chelsea": {"tabby cat", "tiger cat", "Egyptian Mau", "a cat having a striped coat"},
        "coffee": {"espresso", "tea cup", "coffee mug", "cup"},
        "rocket": {"missile", "space shuttle", "drilling rig"},
    }
    for name, expected in expectations.items():
        probs, feats = classifier.run(synthetic.sample(name))
        top5 = {n for n, _ in classifier.top(probs, 5)}
        assert top5 & expected, (name, top5)
        assert abs(probs.sum() - 1) < 1e-4
        assert feats.shape == (1280,) and abs(np.linalg.norm(feats) - 1) < 1e-4


def test_inventory_sums_the_classes_of_an_asset(classifier):
    probs = np.zeros(1000)
    idx = asset_index()
    probs[idx["vehicle"][0]] = 0.6
    probs[idx["vehicle"][1]] = 0.31
    probs[idx["livestock"][0]] = 0.05
    items = classifier.inventory(probs)
    assert [d.asset for d in items] == ["vehicle"]
    assert abs(items[0].confidence - 0.91) < 1e-9
    assert format_inventory(items).startswith("vehicle 0.91 (")


def test_cached_model_is_reused_and_checked(models_dir, classifier):
    from atauly.vision import effnet

    path = effnet.ensure_onnx(models_dir)
    before = path.stat().st_mtime_ns
    assert effnet.ensure_onnx(models_dir).stat().st_mtime_ns == before
    # a tampered file no longer matches its SHA-256 and is rebuilt
    path.write_bytes(path.read_bytes()[:-10] + b"0" * 10)
    effnet.ensure_onnx(models_dir)
    import hashlib

    assert (
        hashlib.sha256(path.read_bytes()).hexdigest() == path.with_suffix(".onnx.sha256").read_text().strip()
    )
