import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from atauly.vision import phash, synthetic
from atauly.vision.reuse import CROPS, ReuseIndex, index_hashes, popcount64


def test_mirror_hash_equals_hash_of_mirrored_image(bases):
    for _, a in bases[:8]:
        h, hm = phash.phash_pair(a)
        h2, hm2 = phash.phash_pair(np.ascontiguousarray(a[:, ::-1]))
        assert hm == h2 and h == hm2


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), flips=st.integers(0, 16))
def test_hash_search_is_exact_within_its_radius(seed, flips):
    rng = np.random.default_rng(seed)
    n = 3000
    hashes = rng.integers(0, 2**64 - 1, (n, len(CROPS)), dtype=np.uint64)
    ix = ReuseIndex(None)
    ix.add_many(hashes, np.zeros((n, 256)), [f"r{i}" for i in range(n)], ["g"] * n)
    target = int(rng.integers(n))
    q = int(hashes[target, int(rng.integers(len(CROPS)))])
    for b in rng.choice(64, size=flips, replace=False):
        q ^= 1 << int(b)
    ids, dist = ix.hash_candidates(q, 11)
    brute = popcount64(hashes ^ np.uint64(q)).min(axis=1)
    assert set(ids.tolist()) == set(np.flatnonzero(brute <= 11).tolist())
    assert all(brute[i] == d for i, d in zip(ids, dist, strict=True))


def _features(classifier, a):
    return classifier.run(a)[1]


def test_near_copies_are_found_and_unrelated_photos_are_not(bases, classifier):
    originals = bases[:12]
    ix = ReuseIndex(None)
    for name, a in originals:
        ix.add(index_hashes(a), _features(classifier, a), name, "family-A")
    found = total = 0
    for tname, transform in synthetic.NEAR_COPIES.items():
        for name, a in originals:
            b = transform(a)
            h, hm = phash.phash_pair(b)
            m = ix.query(h, hm, _features(classifier, b))
            total += 1
            found += m is not None and m.ref == name
            assert m is None or m.ref == name, (tname, name, m)
    assert found / total >= 0.95
    for name, a in bases[12:]:
        h, hm = phash.phash_pair(a)
        assert ix.query(h, hm, _features(classifier, a)) is None, name


def test_index_persists_and_grows(tmp_path, bases):
    ix = ReuseIndex(tmp_path / "idx")
    for name, a in bases[:3]:
        ix.add(index_hashes(a), None, name, "app-1", "sha")
    ix.save()
    again = ReuseIndex(tmp_path / "idx")
    assert len(again) == 3 and again.refs == [n for n, _ in bases[:3]]
    h, hm = phash.phash_pair(bases[1][1])
    m = again.query(h, hm, None)
    assert m is not None and m.ref == bases[1][0] and m.group == "app-1"
    again.add(index_hashes(bases[4][1]), None, "x", "app-2")
    again.save()
    assert len(ReuseIndex(tmp_path / "idx")) == 4
    # another application's photos only: the family's own are excluded on request
    assert again.query(h, hm, None, exclude_group="app-1") is None


def test_two_processes_share_one_index_folder(tmp_path, bases):
    """Two service processes (two index objects on one folder): each takes the lock, reads what the other
    saved, and appends after it, so neither misses the other's photos nor writes over its entries."""
    (_, a), (_, b) = bases[0], bases[1]
    first, second = ReuseIndex(tmp_path), ReuseIndex(tmp_path)
    with first.lock():
        first.refresh()
        first.add(index_hashes(a), None, "app-1/a.jpg", "app-1", "a" * 64)
        first.save()
    with second.lock():
        assert second.refresh() == 1
        h, hm = phash.phash_pair(a)
        assert second.query(h, hm, None).ref == "app-1/a.jpg"  # the other process's photo is seen
        second.add(index_hashes(b), None, "app-2/b.jpg", "app-2", "b" * 64)
        second.save()
    with first.lock():
        assert first.refresh() == 1 and first.refs == ["app-1/a.jpg", "app-2/b.jpg"]
    lines = (tmp_path / "items.tsv").read_text().splitlines()
    assert [line.split("\t")[0] for line in lines] == ["0", "1"]  # ids are the positions in the files
    again = ReuseIndex(tmp_path)
    assert again.refs == ["app-1/a.jpg", "app-2/b.jpg"] and len(again) == 2
