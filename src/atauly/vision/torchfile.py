"""Read a PyTorch ``.pth`` state dict into numpy arrays without torch and without unsafe unpickling.

PyTorch writes tensors with pickle. Loading such a file with ``pickle.load`` can run any code the file
names, so this reader uses a restricted :class:`pickle.Unpickler` whose ``find_class`` answers only the
handful of names a plain state dict needs (``collections.OrderedDict``, ``torch._utils._rebuild_tensor_v2``
and the storage types) and refuses everything else. Tensors are rebuilt as numpy views on the raw storage
bytes. Both serialisation formats are read: the legacy stream (magic number, protocol, system info, the
pickle, the storage keys, then each storage as an int64 element count and its bytes) and the zip format
(``archive/data.pkl`` and ``archive/data/<key>``).
"""

from __future__ import annotations

import collections
import io
import pickle
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C

_STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


class UnsafePickleError(pickle.UnpicklingError):
    """The file names a Python object that a plain state dict never needs."""


@dataclass
class _StorageType:
    name: str

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(_STORAGE_DTYPES[self.name])


@dataclass
class _Storage:
    dtype: np.dtype
    numel: int
    data: np.ndarray | None = None


@dataclass
class _TensorRef:
    storage: _Storage
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]


def _rebuild_tensor_v2(storage, storage_offset, size, stride, *_ignored):
    return _TensorRef(
        storage, int(storage_offset), tuple(int(s) for s in size), tuple(int(s) for s in stride)
    )


@dataclass
class _Reader:
    storages: dict[str, _Storage] = field(default_factory=dict)

    def unpickler(self, fh) -> pickle.Unpickler:
        reader = self

        class Restricted(pickle.Unpickler):
            def find_class(self, module: str, name: str):
                if module == "collections" and name == "OrderedDict":
                    return collections.OrderedDict
                if module == "torch._utils" and name == "_rebuild_tensor_v2":
                    return _rebuild_tensor_v2
                if module == "torch" and name in _STORAGE_DTYPES:
                    return _StorageType(name)
                raise UnsafePickleError(f"refused to load {module}.{name}: not part of a plain state dict")

            def persistent_load(self, pid):
                if not isinstance(pid, tuple) or not pid or pid[0] != "storage":
                    raise UnsafePickleError(f"unexpected persistent id {pid!r:.80}")
                _, stype, key, _location, numel = pid[:5]
                if not isinstance(stype, _StorageType):
                    raise UnsafePickleError("storage without a known type")
                return reader.storages.setdefault(str(key), _Storage(stype.dtype, int(numel)))

        return Restricted(fh)


def _materialise(obj):
    if isinstance(obj, _TensorRef):
        base = obj.storage.data
        if base is None:
            raise ValueError("a tensor refers to a storage that the file does not contain")
        item = base.itemsize
        view = np.lib.stride_tricks.as_strided(
            base[obj.offset :], shape=obj.size, strides=tuple(s * item for s in obj.stride), writeable=False
        )
        return np.array(view)  # a contiguous copy, detached from the storage
    if isinstance(obj, dict):
        return collections.OrderedDict((k, _materialise(v)) for k, v in obj.items())
    return obj


def load_state_dict(path: str | Path) -> dict[str, np.ndarray]:
    """Tensors of a ``.pth`` state dict as numpy arrays, by name."""
    path = Path(path)
    reader = _Reader()
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
            pkl = next(n for n in names if n.endswith("/data.pkl") or n == "data.pkl")
            prefix = pkl[: -len("data.pkl")]
            state = reader.unpickler(io.BytesIO(zf.read(pkl))).load()
            for key, st in reader.storages.items():
                raw = zf.read(f"{prefix}data/{key}")
                st.data = np.frombuffer(raw, dtype=st.dtype, count=st.numel)
        return _materialise(state)
    with path.open("rb") as fh:
        magic = reader.unpickler(fh).load()
        if magic != _LEGACY_MAGIC:
            raise ValueError(f"{path.name}: not a PyTorch file")
        reader.unpickler(fh).load()  # protocol version
        sys_info = reader.unpickler(fh).load()
        if not sys_info.get("little_endian", True):
            raise ValueError(f"{path.name}: big-endian tensors are not supported")
        state = reader.unpickler(fh).load()
        keys = reader.unpickler(fh).load()
        for key in keys:
            st = reader.storages[str(key)]
            (numel,) = np.frombuffer(fh.read(8), dtype="<i8")
            raw = fh.read(int(numel) * st.dtype.itemsize)
            st.data = np.frombuffer(raw, dtype=st.dtype, count=int(numel))
    return _materialise(state)
