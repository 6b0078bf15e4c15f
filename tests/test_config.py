import random

import numpy as np
import pytest
import torch

from course_utils import data_dir, fast_mode, get_device, set_seed
from course_utils.config import env_flag


def test_set_seed_repeats_python_numpy_and_torch():
    set_seed(123)
    first = (random.random(), np.random.rand(), torch.rand(3))
    set_seed(123)
    second = (random.random(), np.random.rand(), torch.rand(3))
    assert first[0] == second[0] and first[1] == second[1]
    assert torch.equal(first[2], second[2])


@pytest.mark.parametrize("bad, error", [(1.5, TypeError), ("0", TypeError), (True, TypeError),
                                        (-1, ValueError), (2**32, ValueError)])
def test_set_seed_rejects_bad_seeds(bad, error):
    with pytest.raises(error, match="seed"):
        set_seed(bad)


def test_get_device_default_is_available(monkeypatch):
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    device = get_device()
    if torch.cuda.is_available():
        assert device.type == "cuda"
    else:
        assert device.type in {"mps", "cpu"}


def test_get_device_override(monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    assert get_device() == torch.device("cpu")


def test_get_device_override_errors_clearly(monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", "gpu-please")
    with pytest.raises(ValueError, match="COURSE_DEVICE"):
        get_device()
    if not torch.cuda.is_available():
        monkeypatch.setenv("COURSE_DEVICE", "cuda")
        with pytest.raises(ValueError, match="CUDA is not available"):
            get_device()


@pytest.mark.parametrize("value, expected", [("1", True), ("true", True), ("0", False),
                                             ("", False), ("no", False)])
def test_fast_mode_reads_course_fast(monkeypatch, value, expected):
    monkeypatch.setenv("COURSE_FAST", value)
    assert fast_mode() is expected


def test_fast_mode_off_when_unset(monkeypatch):
    monkeypatch.delenv("COURSE_FAST", raising=False)
    assert fast_mode() is False


def test_env_flag_rejects_typos(monkeypatch):
    monkeypatch.setenv("COURSE_FAST", "ture")
    with pytest.raises(ValueError, match="COURSE_FAST='ture'"):
        fast_mode()
    assert env_flag("COURSE_NOT_SET_ANYWHERE", default=True) is True


def test_data_dir_env_override(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "cache"))
    assert data_dir() == tmp_path / "cache"


def test_data_dir_default_is_the_repository_data_folder(monkeypatch):
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    # The tests run from an editable install inside the checkout, which has data/.
    assert data_dir().name == "data" and data_dir().is_dir()
