"""Chapter 05's exercise checks against the wrong answers students plausibly write, each with the
first hint it must give, and against right answers written other ways. Only the checks' toy part
runs here (the part before the real data): every wrong answer below fails there."""

import re
import statistics

import numpy as np
import pytest
import torch
from chapter_cells import check_source
from torch import nn

from course_utils import History
from course_utils.comparison import Run


def run_check(grade_id, real_data_starts, **answer):
    namespace = {"torch": torch, "nn": nn, "statistics": statistics, "History": History,
                 "Run": Run, **answer}
    exec(check_source("05_with_without_dropout.ipynb", grade_id, until=real_data_starts), namespace)


MEMORIZED = ("ex1-memorized-check", "wrong = data.y_train")
PICK_RATE = ("ex2-pick-rate-check", "means = {p:")


def memorized_right(model, X, y_given, y_true):
    wrong = y_given != y_true
    if not wrong.any():
        raise ValueError("nothing mislabeled")
    model.eval()
    with torch.no_grad():
        return (model(X[wrong]).argmax(1) == y_given[wrong]).float().mean().item()


def memorized_other_way(model, X, y_given, y_true):
    rows = torch.nonzero(y_given != y_true).flatten()
    if len(rows) == 0:
        raise ValueError("y_given and y_true agree everywhere")
    was = model.training
    model.train(False)
    with torch.inference_mode():
        hits = sum(int(model(X[i:i + 1]).argmax()) == int(y_given[i]) for i in rows)
    model.train(was)
    return hits / len(rows)


def memorized_against_truth(model, X, y_given, y_true):
    wrong = y_given != y_true
    if not wrong.any():
        raise ValueError
    model.eval()
    with torch.no_grad():
        return (model(X[wrong]).argmax(1) == y_true[wrong]).float().mean().item()


def memorized_all_rows(model, X, y_given, y_true):
    if not (y_given != y_true).any():
        raise ValueError
    model.eval()
    with torch.no_grad():
        return (model(X).argmax(1) == y_given).float().mean().item()


def memorized_train_mode(model, X, y_given, y_true):
    wrong = y_given != y_true
    if not wrong.any():
        raise ValueError
    with torch.no_grad():
        return (model(X[wrong]).argmax(1) == y_given[wrong]).float().mean().item()


def memorized_no_error(model, X, y_given, y_true):
    wrong = y_given != y_true
    model.eval()
    with torch.no_grad():
        return (model(X[wrong]).argmax(1) == y_given[wrong]).float().mean().nan_to_num().item()


def memorized_count(model, X, y_given, y_true):
    wrong = y_given != y_true
    if not wrong.any():
        raise ValueError
    model.eval()
    with torch.no_grad():
        return int((model(X[wrong]).argmax(1) == y_given[wrong]).sum())


@pytest.mark.parametrize("answer", [memorized_right, memorized_other_way])
def test_memorized_check_passes_right_answers(answer):
    for seed in range(5):
        torch.manual_seed(seed)
        run_check(*MEMORIZED, memorized=answer)


@pytest.mark.parametrize("answer, hint", [
    (memorized_against_truth, "compare the predictions with y_given, not y_true"),
    (memorized_all_rows, "count only the rows where y_given != y_true"),
    (memorized_train_mode, "call model.eval() before predicting"),
    (memorized_no_error, "raise ValueError"),
    (memorized_count, "expected 1.0"),
])
def test_memorized_check_names_the_mistake(answer, hint):
    with pytest.raises(AssertionError, match=re.escape(hint)):
        run_check(*MEMORIZED, memorized=answer)


def _means(sweep):
    return {p: statistics.mean(r.val_acc for r in rs) for p, rs in sweep.items()}


def pick_right(sweep):
    means = _means(sweep)
    best = max(means, key=means.get)
    noise = statistics.stdev(r.val_acc for r in sweep[best]) if len(sweep[best]) > 1 else 0.0
    return min(p for p, m in means.items() if m >= means[best] - noise)


def pick_numpy(sweep):
    rates = sorted(sweep)
    acc = [np.array([r.val_acc for r in sweep[p]]) for p in rates]
    best = int(np.argmax([a.mean() for a in acc]))
    noise = acc[best].std(ddof=1) if len(acc[best]) > 1 else 0.0
    return next(p for p, a in zip(rates, acc, strict=True) if a.mean() >= acc[best].mean() - noise)


def pick_argmax(sweep):
    means = _means(sweep)
    return max(sorted(means), key=lambda p: (means[p], -p))


def pick_on_test(sweep):
    means = {p: statistics.mean(r.test_acc for r in rs) for p, rs in sweep.items()}
    return max(means, key=means.get)


def pick_largest_spread(sweep):
    means = _means(sweep)
    noise = max(statistics.stdev(r.val_acc for r in rs) if len(rs) > 1 else 0.0
                for rs in sweep.values())
    return min(p for p, m in means.items() if m >= max(means.values()) - noise)


def pick_fixed_tolerance(sweep):
    means = _means(sweep)
    return min(p for p, m in means.items() if m >= max(means.values()) - 0.015)


@pytest.mark.parametrize("answer", [pick_right, pick_numpy])
def test_pick_rate_check_passes_right_answers(answer):
    run_check(*PICK_RATE, pick_rate=answer)


@pytest.mark.parametrize("answer, hint", [
    (pick_argmax, "that is a tie, so return the smaller rate"),
    (pick_on_test, "choose on validation"),
    (pick_largest_spread, "use the standard deviation of the best rate's runs"),
    (pick_fixed_tolerance, "there is no spread to measure"),
])
def test_pick_rate_check_names_the_mistake(answer, hint):
    with pytest.raises(AssertionError, match=hint):
        run_check(*PICK_RATE, pick_rate=answer)
