"""Where the time goes in the two rows whose limits are not the course's own code.

``python benchmarks/profile_limits.py`` runs ``torch.profiler`` over

- one ``fit`` epoch of row 2's model at batch size 256 (60,000 random images), and
- 20 forward + backward steps of row 4's per-batch ``DropConnectLinear`` (1024x1024, batch 128),

and prints the operators that took the most time. ``benchmarks/README.md`` quotes the output.
"""

from __future__ import annotations

import torch
from bench import LR, P, training_model  # bench.py sits beside this file
from torch.profiler import ProfilerActivity, profile

from course_utils import Dataset, DropConnectLinear, fit


def top_operators(run, label: str, rows: int = 8) -> None:
    run()  # warm-up, outside the profile
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        run()
    print(f"\n{label}\n")
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=rows))


def main() -> None:
    torch.manual_seed(0)
    n = 60_000
    images = torch.randint(0, 256, (n, 1, 28, 28), dtype=torch.uint8).float().div_(255)
    labels = torch.randint(0, 10, (n,))
    held_out = images[:1000], labels[:1000]
    data = Dataset("random", images, labels, *held_out, *held_out,
                   [str(c) for c in range(10)], (1, 28, 28))
    model = training_model()
    top_operators(lambda: fit(model, data, epochs=1, lr=LR, batch_size=256, progress=False,
                              train_metrics="running"),
                  "one fit epoch, batch 256, nn.Dropout(0.5) after each hidden layer")

    layer = DropConnectLinear(1024, 1024, P)
    x, grad = torch.randn(128, 1024), torch.ones(128, 1024)

    def steps():
        for _ in range(20):
            layer.zero_grad(set_to_none=True)
            layer(x).backward(grad)

    top_operators(steps, "20 steps of DropConnectLinear(1024, 1024), per-batch mask, batch 128")


if __name__ == "__main__":
    main()
