"""Chapter 06, section 3, on the real FashionMNIST over three seeds at the chapter's default-mode
sizes (10,000 images, 10 epochs, SGD lr 0.1, batch 64, p = 0.5): DropConnect and dropout end up
close, and the prose tells the student not to expect a clear winner."""

import statistics

from torch import nn

from course_utils import DropConnectLinear, evaluate, fit, set_seed

SEEDS = [0, 1, 2]
EPOCHS, TRAIN_SIZE, P = 10, 10_000, 0.5


def build(kind, num_classes):
    def after_hidden(n_in, n_out):
        return DropConnectLinear(n_in, n_out, p=P) if kind == "DropConnect" else nn.Linear(n_in, n_out)

    noise = [nn.Dropout(P)] if kind == "dropout" else []
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), *noise,
                         after_hidden(256, 256), nn.ReLU(), *noise,
                         after_hidden(256, num_classes))


def test_dropconnect_and_dropout_end_up_close(fashion_mnist):
    data = fashion_mnist(train_size=TRAIN_SIZE, seed=0)
    accuracy = {"dropout": [], "DropConnect": []}
    for seed in SEEDS:
        for kind, accs in accuracy.items():
            set_seed(seed)
            model = build(kind, data.num_classes)
            fit(model, data, epochs=EPOCHS, lr=0.1, batch_size=64, seed=seed, progress=False,
                train_metrics="running")
            accs.append(evaluate(model, data.X_test, data.y_test)[1])
    difference = statistics.mean(accuracy["DropConnect"]) - statistics.mean(accuracy["dropout"])
    assert abs(difference) < 0.03, accuracy
    assert min(min(a) for a in accuracy.values()) > 0.75, f"both should learn well: {accuracy}"
