import io
import pickle

import numpy as np
import pytest

from atauly.vision import effnet
from atauly.vision.torchfile import UnsafePickleError, load_state_dict


def test_reads_the_packaged_weights_without_torch():
    sd = load_state_dict(effnet.weights_path())
    assert sd["_conv_stem.weight"].shape == (32, 3, 3, 3)
    assert sd["_fc.weight"].shape == (1000, 1280)
    assert sd["_conv_stem.weight"].dtype == np.float32
    # the stem is stored channels-last in the file: the rebuilt array must follow the strides, not the bytes
    assert np.isfinite(sd["_conv_stem.weight"]).all()
    assert abs(float(sd["_bn0.running_var"].mean())) > 0


class _Evil:
    def __reduce__(self):
        import os

        return (os.system, ("echo pwned",))


def test_refuses_a_pickle_that_runs_code(tmp_path):
    path = tmp_path / "evil.pth"
    buf = io.BytesIO()
    for obj in (0x1950A86A20F9469CFC6C, 1001, {"little_endian": True}):
        pickle.dump(obj, buf, protocol=2)
    pickle.dump({"w": _Evil()}, buf, protocol=2)
    path.write_bytes(buf.getvalue())
    with pytest.raises(UnsafePickleError, match="posix.system|os.system|nt.system"):
        load_state_dict(path)


def test_refuses_a_file_that_is_not_pytorch(tmp_path):
    path = tmp_path / "x.pth"
    path.write_bytes(pickle.dumps(123, protocol=2))
    with pytest.raises(ValueError, match="not a PyTorch file"):
        load_state_dict(path)
