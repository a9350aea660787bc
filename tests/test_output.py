import json
import os
import stat

import numpy as np
import pytest

from jaxneuro.output import MANIFEST, OutputFolder, json_text


def test_json_is_strict_with_reasons_beside_nulls():
    text = json_text({"v_m_per_s": np.float64("nan"), "t_ms": np.array([1.0, np.inf]), "n": 3})
    data = json.loads(text)
    assert data["v_m_per_s"] is None and "not a finite" in data["v_m_per_s_reason"]
    assert data["t_ms"] == [1.0, None] and "t_ms_reason" in data and data["n"] == 3


def test_output_folder_writes_readable_files_and_refuses_what_it_did_not_write(tmp_path):
    folder = OutputFolder(tmp_path / "out")
    path = folder.write_text("summary.json", "{}")
    mode = stat.S_IMODE(os.stat(path).st_mode)
    assert mode & 0o044 == 0o044 & ~_umask()  # readable by others as the umask allows, not mkstemp's 0600
    assert OutputFolder(tmp_path / "out").owned == {"summary.json"}  # an earlier output is accepted
    (tmp_path / "out" / "mine.txt").write_text("user")
    with pytest.raises(ValueError, match="did not write: mine.txt"):
        OutputFolder(tmp_path / "out")
    odd = tmp_path / "odd"
    (odd / MANIFEST).mkdir(parents=True)
    with pytest.raises(ValueError, match="is not a file jaxneuro wrote"):
        OutputFolder(odd)


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask
