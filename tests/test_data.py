import warnings

import pytest
import torch

from course_tools.idx import write_idx
from course_utils import (
    DATASET_NAMES,
    Dataset,
    DatasetFallbackWarning,
    DatasetUnavailableError,
    load_dataset,
)


def test_digits_looks_like_mnist():
    data = load_dataset("digits")
    assert data.name == "digits"
    assert data.input_shape == (1, 28, 28)
    assert data.X_train.dtype == torch.float32 and data.y_train.dtype == torch.int64
    assert float(data.X_train.min()) == 0.0 and float(data.X_train.max()) == 1.0
    # MNIST framing: the digit sits in the central 20x20 box, the 4-pixel border is empty.
    assert float(data.X_train[:, :, :4].abs().sum()) == 0.0
    assert float(data.X_train[:, :, :, -4:].abs().sum()) == 0.0
    assert data.classes == [str(d) for d in range(10)]
    assert (len(data.y_train), len(data.y_val), len(data.y_test)) == (1137, 300, 360)
    assert set(data.y_train.tolist()) == set(range(10))


def test_splits_are_disjoint_and_test_set_ignores_seed():
    a = load_dataset("digits", seed=0)
    b = load_dataset("digits", seed=1)
    assert torch.equal(a.X_test, b.X_test)  # like MNIST: one fixed test set
    assert not torch.equal(a.X_train[:50], b.X_train[:50])
    rows = lambda X: {tuple(x.flatten().tolist()) for x in X}  # noqa: E731
    assert not rows(a.X_train) & rows(a.X_val)
    assert not rows(a.X_train) & rows(a.X_test)


def test_train_size_and_val_size():
    data = load_dataset("digits", train_size=100, val_size=50, seed=3)
    assert (len(data.y_train), len(data.y_val)) == (100, 50)
    again = load_dataset("digits", train_size=100, val_size=50, seed=3)
    assert torch.equal(data.X_train, again.X_train) and torch.equal(data.y_train, again.y_train)


def test_train_size_larger_than_data_is_a_clear_error():
    with pytest.raises(ValueError, match=r"train_size=5000 is larger than the data.*1137"):
        load_dataset("digits", train_size=5000)
    with pytest.raises(ValueError, match="leaves no training data"):
        load_dataset("digits", val_size=1437)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"name": "cifar"}, ValueError, "fashion-mnist, mnist, digits, moons"),
    ({"name": 3}, TypeError, "string"),
    ({"name": "digits", "train_size": 0}, ValueError, "train_size must be a positive int"),
    ({"name": "digits", "train_size": 10.5}, TypeError, "train_size"),
    ({"name": "digits", "val_size": -2}, ValueError, "val_size"),
    ({"name": "digits", "label_noise": 1.0}, ValueError, r"label_noise must be in \[0, 1\)"),
    ({"name": "digits", "label_noise": "0.1"}, TypeError, "label_noise"),
    ({"name": "digits", "fallback": "moons"}, ValueError, "fallback"),
    ({"name": "digits", "seed": 1.0}, TypeError, "seed"),
    ({"name": "digits", "noise": 0.1}, ValueError, "moons"),
    ({"name": "moons", "noise": -0.1}, ValueError, "noise"),
])
def test_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        load_dataset(**kwargs)


def test_names_are_forgiving_about_case_and_underscores():
    assert load_dataset("Digits", train_size=10).name == "digits"
    assert "fashion-mnist" in DATASET_NAMES


def test_label_noise_changes_exactly_that_fraction_of_training_labels_only():
    clean = load_dataset("digits", seed=5)
    noisy = load_dataset("digits", seed=5, label_noise=0.2)
    changed = (clean.y_train != noisy.y_train).float().mean().item()
    assert changed == pytest.approx(0.2, abs=1 / len(clean.y_train))
    assert torch.equal(clean.y_val, noisy.y_val) and torch.equal(clean.y_test, noisy.y_test)
    assert torch.equal(clean.X_train, noisy.X_train)


def test_moons():
    data = load_dataset("moons", train_size=60, seed=2)
    assert data.input_shape == (2,) and data.num_classes == 2
    assert (len(data.y_train), len(data.y_val), len(data.y_test)) == (60, 500, 1000)
    assert torch.equal(data.X_test, load_dataset("moons", train_size=30, seed=9).X_test)
    assert not torch.equal(data.X_train[:30], load_dataset("moons", train_size=60, seed=9).X_train[:30])
    calm = load_dataset("moons", train_size=60, seed=2, noise=0.0)
    # noise=0 puts every point exactly on its moon: radius 1 around its centre
    upper = calm.X_train[calm.y_train == 0]
    assert torch.allclose(upper.norm(dim=1), torch.ones(len(upper)), atol=1e-5)


def test_device_argument_and_to():
    data = load_dataset("moons", train_size=10, device="cpu")
    assert data.device.type == "cpu"
    assert isinstance(data.to("cpu"), Dataset)
    assert "moons" in repr(data) and "train=10" in repr(data)


def test_torchvision_path_reads_idx_files(mnist_files):
    root, pixels, labels = mnist_files
    data = load_dataset("mnist", root=root, download=False, val_size=100, seed=0)
    assert data.name == "mnist"
    assert data.classes[0].startswith("0")
    assert (len(data.y_train), len(data.y_val), len(data.y_test)) == (500, 100, 200)
    # One vectorised uint8 -> float conversion, same values as ToTensor(): x / 255.
    assert torch.equal(data.X_test, pixels[600:].unsqueeze(1).float() / 255)
    assert torch.equal(data.y_test, labels[600:].long())
    fashion = load_dataset("fashion-mnist", root=root, download=False, val_size=100)
    assert fashion.name == "fashion-mnist" and fashion.classes[0] == "T-shirt/top"


def test_torchvision_path_matches_totensor(mnist_files):
    from torchvision import datasets, transforms

    root, _, _ = mnist_files
    data = load_dataset("mnist", root=root, download=False, val_size=100)
    reference = datasets.MNIST(str(root), train=False, download=False,
                               transform=transforms.ToTensor())
    first, _ = reference[0]
    assert torch.allclose(data.X_test[0], first)


def test_fallback_when_network_is_down(network_down, tmp_path):
    with pytest.warns(DatasetFallbackWarning) as caught:
        data = load_dataset("fashion-mnist", root=tmp_path / "empty", train_size=200)
    assert data.name == "digits" and len(data.y_train) == 200
    assert len(caught) == 1
    message = str(caught[0].message)
    assert "\n" not in message  # one visible line
    assert "could not load 'fashion-mnist'" in message and "'digits'" in message
    assert caught[0].filename == __file__, "the warning should point at the student's call"


def test_fallback_caps_sizes_meant_for_the_big_dataset(network_down, tmp_path):
    with pytest.warns(DatasetFallbackWarning, match="capped"):
        data = load_dataset("mnist", root=tmp_path / "empty", train_size=50000, val_size=5000)
    assert (len(data.y_train), len(data.y_val)) == (1137, 300)


def test_no_fallback_raises_with_instructions(network_down, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning either: the error says it all
        with pytest.raises(DatasetUnavailableError) as info:
            load_dataset("fashion-mnist", root=tmp_path / "empty", fallback=None)
    message = str(info.value)
    assert str(tmp_path / "empty" / "FashionMNIST" / "raw") in message
    assert "train-images-idx3-ubyte" in message and "fallback='digits'" in message


def test_download_false_without_files_falls_back(tmp_path):
    with pytest.warns(DatasetFallbackWarning, match="not found"):
        data = load_dataset("mnist", root=tmp_path / "nothing", download=False)
    assert data.name == "digits"


def test_write_idx_round_trips_through_torchvision(tmp_path):
    from torchvision.datasets.mnist import read_image_file, read_label_file

    images = torch.randint(0, 256, (3, 28, 28), dtype=torch.uint8)
    labels = torch.tensor([9, 0, 4], dtype=torch.uint8)
    assert torch.equal(read_image_file(str(write_idx(tmp_path / "a" / "images", images))), images)
    assert torch.equal(read_label_file(str(write_idx(tmp_path / "labels", labels))), labels.long())


@pytest.mark.parametrize("array, error, message", [
    (torch.rand(2, 28, 28), TypeError, r"uint8 data .* got dtype torch.float32; convert first"),
    (torch.tensor([300, 2]), TypeError, "got dtype torch.int64"),
    ([1, 2], TypeError, "needs a torch.Tensor, got list"),
    (torch.tensor(3, dtype=torch.uint8), ValueError, r"1 to 255 dimensions, got shape \(\)"),
])
def test_write_idx_refuses_what_it_would_corrupt(tmp_path, array, error, message):
    with pytest.raises(error, match=message):
        write_idx(tmp_path / "file", array)
    assert not (tmp_path / "file").exists()


# --- where the real data comes from -------------------------------------------------------------


@pytest.fixture
def debian_copy(tmp_path, mnist_files, monkeypatch):
    """A system data folder laid out like Debian's dataset-fashion-mnist: four read-only .gz files."""
    import gzip

    root, _, _ = mnist_files
    folder = tmp_path / "system" / "fashion-mnist"
    folder.mkdir(parents=True)
    for raw in (root / "FashionMNIST" / "raw").iterdir():
        (folder / f"{raw.name}.gz").write_bytes(gzip.compress(raw.read_bytes()))
        (folder / f"{raw.name}.gz").chmod(0o444)
    monkeypatch.setenv("COURSE_SYSTEM_DATA_DIR", str(tmp_path / "system"))
    return folder


def test_the_debian_package_is_used_before_the_network(debian_copy, network_down, tmp_path):
    before = sorted((p.name, p.stat().st_mtime_ns) for p in debian_copy.iterdir())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback warning: the real files were found
        data = load_dataset("fashion-mnist", root=tmp_path / "empty", val_size=100)
    assert data.name == "fashion-mnist" and len(data.y_test) == 200
    assert data.source == "600 images, Debian package dataset-fashion-mnist"
    assert data.description == "fashion-mnist (600 images, Debian package dataset-fashion-mnist)"
    # Nothing is written next to the package, and nothing is left in the data folder either.
    assert sorted((p.name, p.stat().st_mtime_ns) for p in debian_copy.iterdir()) == before
    assert not (tmp_path / "empty").exists()


def test_a_copy_in_root_comes_before_the_debian_package(debian_copy, mnist_files):
    root, pixels, _ = mnist_files
    data = load_dataset("fashion-mnist", root=root, download=False, val_size=100)
    assert data.source == "600 images, local copy"
    assert torch.equal(data.X_test, pixels[600:].unsqueeze(1).float() / 255)


def test_offline_switch_skips_the_download(monkeypatch, tmp_path):
    import torchvision

    def no_download(*args, **kwargs):
        raise AssertionError("COURSE_OFFLINE=1 must not try the network")

    monkeypatch.setattr(torchvision.datasets.FashionMNIST, "download", no_download)
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    with pytest.warns(DatasetFallbackWarning, match=r"no download \(COURSE_OFFLINE=1\)"):
        data = load_dataset("fashion-mnist", root=tmp_path / "empty")
    assert data.name == "digits" and data.description == "digits (offline fallback)"


def test_require_real_data_turns_the_fallback_into_an_error(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_REQUIRE_REAL_DATA", "1")
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    with pytest.raises(DatasetUnavailableError, match="COURSE_REQUIRE_REAL_DATA=1 forbids"):
        load_dataset("fashion-mnist", root=tmp_path / "empty")
    # Asking for the digits by name is not a fallback.
    assert load_dataset("digits").source == "1,437 images, bundled with scikit-learn"


def test_the_error_says_how_to_install_the_package(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    with pytest.raises(DatasetUnavailableError, match="apt install dataset-fashion-mnist"):
        load_dataset("fashion-mnist", root=tmp_path / "empty", fallback=None)


def test_a_broken_local_copy_is_reported_not_skipped(debian_copy, mnist_files):
    root, _, _ = mnist_files
    (root / "FashionMNIST" / "raw" / "train-labels-idx1-ubyte").write_bytes(b"\x00\x00")
    with pytest.warns(DatasetFallbackWarning) as caught:
        load_dataset("fashion-mnist", root=root, download=False)
    assert "not found" not in str(caught[0].message)
