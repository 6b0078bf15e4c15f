"""Every checker stays small in memory and time whatever the answer returns: an answer whose
mask has the wrong shape would otherwise broadcast the checker's large inputs into gigabytes
(Colab's free runtime has about 12 GB), and the checker says what came back. Each worst case is
measured in a process of its own, so that no earlier test's peak hides it."""

import subprocess
import sys
import textwrap

import pytest
import torch

from course_utils import (
    check_attention_dropout,
    check_drop_path,
    check_dropconnect,
    check_dropout_layer,
)

# Each: the checker, then an answer whose mask gains a dimension: on the checker's largest
# input that is a (rows x rows x ...) tensor.
BLOW_UPS = {
    "dropout_layer": ("check_dropout_layer", """
        def answer(X, p):
            keep = (torch.rand(X.shape[0], 1) >= p).to(X.dtype)  # (N, 1) against (N,): N x N
            return X * keep / (1 - p) if p < 1 else X * 0
    """),
    "drop_path": ("check_drop_path", """
        def answer(X, p, mode="row", training=True):
            if not 0 <= p <= 1:
                raise ValueError("p must be in [0, 1]")
            if not training or p == 0:
                return X
            keep = (torch.rand(X.shape[0], 1, 1, 1, device=X.device) >= p).to(X.dtype)
            return X * keep if p == 1 else X * keep / (1 - p)
    """),
    "attention": ("check_attention_dropout", """
        def answer(q, k, v, p, *, training):
            w = (q @ k.transpose(-2, -1) / q.shape[-1] ** 0.5).softmax(-1)
            if training:  # one coin per example, shaped (B, 1): broadcasts to (B, B, ...)
                keep = (torch.rand(w.shape[0], 1, 1, 1, 1) >= p).to(w.dtype)
                w = w * keep / (1 - p) if p < 1 else w * 0
            return w @ v
    """),
    "dropconnect": ("check_dropconnect", """
        class answer(torch.nn.Linear):
            def __init__(self, n_in, n_out, p):
                super().__init__(n_in, n_out)
                self.p = p
            def forward(self, x):
                if not self.training:
                    return super().forward(x)
                # a mask per example in per-batch mode, then summed the wrong way: (B, B, out)
                keep = (torch.rand(len(x), *self.weight.shape) >= self.p).to(x.dtype)
                w = self.weight * keep / (1 - self.p) if self.p < 1 else self.weight * 0
                return torch.einsum("bi,coi->bco", x, w).sum(1) + self.bias
    """),
}


@pytest.mark.parametrize("name", sorted(BLOW_UPS))
def test_a_mask_of_the_wrong_shape_costs_the_checker_little_memory_and_time(name):
    checker, answer = BLOW_UPS[name]
    script = textwrap.dedent("""
        import resource, time, torch
        from course_utils import {checker}
        {answer}
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = time.perf_counter()
        try:
            {checker}(answer)
        except AssertionError:
            pass
        grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
        print(f"{{grown:.0f}} {{time.perf_counter() - start:.1f}}")
    """).format(checker=checker, answer=textwrap.dedent(answer))
    # A hard limit too: 4 GB of address space (torch alone maps about 1.5 GB); a checker that
    # blows up dies here instead of swapping the machine.
    limit = "import resource; resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))\n"
    run = subprocess.run([sys.executable, "-c", limit + script], capture_output=True, text=True,
                         timeout=300, env={"OMP_NUM_THREADS": "1", **_env()})
    assert run.returncode == 0, run.stderr[-2000:]
    megabytes, seconds = map(float, run.stdout.split()[-2:])
    assert megabytes < 200, f"{checker}'s peak memory grew by {megabytes:.0f} MB"
    assert seconds < 20, f"{checker} took {seconds:.1f} s"


def _env():
    import os
    return {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}


ODD_RETURNS = {
    "a Python float": lambda *args, **kwargs: 0.5,
    "None": lambda *args, **kwargs: None,
    "a huge tensor": lambda *args, **kwargs: torch.zeros(3000, 3000),
}


def answer_for(checker, fn):
    """An answer with the signature ``checker`` calls, returning ``fn()``."""
    if checker is check_dropout_layer:
        return lambda X, p: fn()
    if checker is check_drop_path:
        return lambda X, p, mode="row", training=True: fn()
    if checker is check_dropconnect:
        class Answer(torch.nn.Linear):
            def __init__(self, in_features, out_features, p):
                super().__init__(in_features, out_features)
                if not 0 <= p <= 1:
                    raise ValueError("p must be in [0, 1]")

            def forward(self, x):
                return fn()
        return Answer
    return lambda q, k, v, p, *, training: fn()


@pytest.mark.parametrize("what", sorted(ODD_RETURNS))
@pytest.mark.parametrize("checker", [check_dropout_layer, check_drop_path,
                                     check_attention_dropout, check_dropconnect],
                         ids=lambda c: c.__name__)
def test_whatever_comes_back_is_named(checker, what, capsys):
    with pytest.raises(AssertionError):
        checker(answer_for(checker, ODD_RETURNS[what]))
    lines = capsys.readouterr().out.splitlines()
    first = next(i for i, line in enumerate(lines) if line.strip().startswith("✗"))
    said = "shape (3000, 3000)" if what == "a huge tensor" else "not a tensor"
    assert said in lines[first + 1], "\n".join(lines)
