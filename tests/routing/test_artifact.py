"""The artifact: atomic write, deterministic content, refusal of anything corrupt."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from routing.artifact import SCHEMA_VERSION, read_artifact, write_artifact
from routing.errors import ArtifactError


def _write(path: Path) -> Path:
    arrays = {"tt.a": np.arange(10, dtype=np.int32), "stops.lat": np.linspace(0, 1, 5)}
    docs = {"stops": {"ids": ["f:1", "f:2"]}}
    return write_artifact(path, arrays, docs, {"counts": {"stops": 2}})


def test_round_trip_is_memory_mapped(tmp_path: Path) -> None:
    art = read_artifact(_write(tmp_path / "g"))
    assert art.manifest["schema_version"] == SCHEMA_VERSION
    assert isinstance(art.arrays["tt.a"], np.memmap)
    assert art.arrays["tt.a"].tolist() == list(range(10))
    assert art.group("tt").keys() == {"a"}
    assert art.documents["stops"]["ids"] == ["f:1", "f:2"]
    assert not art.arrays["tt.a"].flags.writeable


def test_same_content_same_version_and_checksums(tmp_path: Path) -> None:
    a = read_artifact(_write(tmp_path / "a"))
    b = read_artifact(_write(tmp_path / "b"))
    assert a.graph_version == b.graph_version
    assert a.manifest["arrays"] == b.manifest["arrays"]
    c = write_artifact(tmp_path / "c", {"tt.a": np.arange(11, dtype=np.int32)}, {}, {})
    assert read_artifact(c).graph_version != a.graph_version


def test_rewrite_keeps_previous_version(tmp_path: Path) -> None:
    p = _write(tmp_path / "g")
    write_artifact(p, {"tt.a": np.zeros(3, dtype=np.int8)}, {}, {})
    assert read_artifact(p).arrays["tt.a"].tolist() == [0, 0, 0]
    assert read_artifact(p.with_name("g.prev")).arrays["tt.a"].tolist() == list(range(10))
    assert not [x for x in tmp_path.iterdir() if x.name.startswith(".g.")], "temp dir left behind"


def test_tampered_array_is_refused_naming_the_file(tmp_path: Path) -> None:
    p = _write(tmp_path / "g")
    f = p / "tt.a.npy"
    data = bytearray(f.read_bytes())
    data[-1] ^= 0xFF
    f.write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match=r"tt\.a\.npy: checksum mismatch"):
        read_artifact(p)


def test_truncated_array_is_refused(tmp_path: Path) -> None:
    p = _write(tmp_path / "g")
    f = p / "stops.lat.npy"
    f.write_bytes(f.read_bytes()[:40])
    with pytest.raises(ArtifactError, match=r"stops\.lat\.npy"):
        read_artifact(p)
    # even without checksum verification a truncated array never loads half
    with pytest.raises(ArtifactError, match=r"stops\.lat\.npy"):
        read_artifact(p, verify=False)


def test_missing_file_and_manifest_problems(tmp_path: Path) -> None:
    p = _write(tmp_path / "g")
    (p / "stops.json").unlink()
    with pytest.raises(ArtifactError, match=r"stops\.json is missing"):
        read_artifact(p)
    with pytest.raises(ArtifactError, match="not a directory"):
        read_artifact(tmp_path / "nothing")
    q = _write(tmp_path / "q")
    m = json.loads((q / "manifest.json").read_text())
    m["schema_version"] = 999
    (q / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(ArtifactError, match="schema_version 999"):
        read_artifact(q)
    (q / "manifest.json").write_text("{not json")
    with pytest.raises(ArtifactError, match="not valid JSON"):
        read_artifact(q)


def test_object_arrays_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="dtype object"):
        write_artifact(tmp_path / "g", {"x": np.array(["a", None], dtype=object)}, {}, {})
    assert not (tmp_path / "g").exists()
