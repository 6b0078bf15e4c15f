import random
import re
import sys

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


# --- set_threads: one core left free on your own machine -------------------------------------

@pytest.fixture
def four_core_torch(monkeypatch):
    """torch's default taken as 4 threads; torch's real count restored afterwards."""
    from course_utils import config
    before = torch.get_num_threads()
    monkeypatch.setattr(config, "_TORCH_DEFAULT_THREADS", 4)
    for name in ("OMP_NUM_THREADS", "COURSE_THREADS", "KAGGLE_KERNEL_RUN_TYPE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    yield
    torch.set_num_threads(before)


def test_set_threads_leaves_one_core_free_and_does_not_creep_down_on_a_rerun(four_core_torch):
    from course_utils import set_threads
    assert set_threads() == 3 and torch.get_num_threads() == 3
    assert set_threads() == 3  # the setup cell run again: still torch's default minus one


def test_set_threads_keeps_one_thread_on_one_core(four_core_torch, monkeypatch):
    from course_utils import config, set_threads
    monkeypatch.setattr(config, "_TORCH_DEFAULT_THREADS", 1)
    assert set_threads() == 1


def test_set_threads_keeps_torch_default_on_colab_and_kaggle(four_core_torch, monkeypatch):
    import types

    from course_utils import set_threads
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    assert set_threads() == 4
    monkeypatch.delitem(sys.modules, "google.colab")
    monkeypatch.setenv("KAGGLE_KERNEL_RUN_TYPE", "Interactive")
    assert set_threads() == 4


def test_set_threads_respects_omp_num_threads(four_core_torch, monkeypatch):
    from course_utils import set_threads
    monkeypatch.setenv("OMP_NUM_THREADS", "4")
    assert set_threads() == 4


@pytest.mark.parametrize("env, expected", [("2", 2), (" all ", 4), ("ALL", 4), ("1", 1)])
def test_course_threads_sets_the_count(four_core_torch, monkeypatch, env, expected):
    from course_utils import set_threads
    monkeypatch.setenv("COURSE_THREADS", env)
    assert set_threads() == expected == torch.get_num_threads()


@pytest.mark.parametrize("given, error, words", [
    ({"env": "two"}, ValueError, "COURSE_THREADS must be a positive whole number of threads or "
                                 "'all', got 'two'"),
    ({"env": "0"}, ValueError, "COURSE_THREADS must be a positive int, got 0"),
    ({"threads": 0}, ValueError, "threads must be a positive int, got 0"),
    ({"threads": 1.5}, TypeError, "threads must be a positive int, got float 1.5"),
    ({"threads": "many"}, ValueError, "threads must be a positive whole number"),
])
def test_set_threads_names_a_bad_count(four_core_torch, monkeypatch, given, error, words):
    from course_utils import set_threads
    if "env" in given:
        monkeypatch.setenv("COURSE_THREADS", given["env"])
    with pytest.raises(error, match=re.escape(words)):
        set_threads(given.get("threads"))
    assert torch.get_num_threads() != 0
