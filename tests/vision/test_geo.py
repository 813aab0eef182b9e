from atauly.vision.geo import OUTSIDE, region_of


def test_points_fall_in_their_regions():
    assert region_of(43.24, 76.95) == "750000000"  # Almaty city, not the region around it
    assert region_of(43.5, 77.5) == "190000000"  # Almaty Region
    assert region_of(51.13, 71.43) == "710000000"  # Astana
    assert region_of(55.75, 37.6) == OUTSIDE  # Moscow
