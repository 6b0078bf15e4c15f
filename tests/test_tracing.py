"""The course's modules under torch.fx, torchvision's feature extraction and torch.compile: one
graph node per dropout, with the argument checks out of the graph and back when it runs."""

import pytest
import torch
from torch import nn
from torch.fx import symbolic_trace

from course_utils import (
    DropConnectLinear,
    Dropout,
    DropPath,
    StandardDropout,
    attention,
    drop_path,
    dropout_layer,
)
from course_utils.dropconnect import dropconnect_linear
from course_utils.dropout import standard_dropout


class Attend(nn.Module):
    """A student's module calling the functional form."""

    def forward(self, x):
        q = x.unsqueeze(1)  # (batch, heads=1, tokens=1, features)
        return attention(q, q, q, 0.3, training=self.training).squeeze(1)


def model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 8), Dropout(0.5), DropPath(0.2), DropConnectLinear(8, 8, 0.3),
                         StandardDropout(0.2), Attend(), nn.Linear(8, 2))


@pytest.mark.parametrize("train", [True, False])
def test_symbolic_trace_keeps_each_dropout_as_one_node(train):
    net = model().train(train)
    traced = symbolic_trace(net)
    targets = [n.target for n in traced.graph.nodes if n.op == "call_function"]
    assert targets == [dropout_layer, drop_path, dropconnect_linear, standard_dropout, attention]
    x = torch.randn(5, 6)
    if train:
        torch.manual_seed(1)
        a = traced(x)
        torch.manual_seed(1)
        assert torch.equal(a, net(x))  # the same draws, in the same order
    else:
        assert torch.equal(traced(x), net(x))


def test_the_traced_graph_still_checks_its_arguments():
    traced = symbolic_trace(nn.Sequential(DropPath(0.2), Dropout(0.5)))
    with pytest.raises(TypeError, match="X must be a floating-point tensor"):
        traced(torch.ones(3, 2, dtype=torch.long))
    traced = symbolic_trace(DropConnectLinear(4, 3, 0.5))
    with pytest.raises(ValueError, match="expected inputs with 4 features"):
        traced(torch.ones(2, 5))


def test_torchvision_feature_extraction_sees_the_course_modules():
    feature_extraction = pytest.importorskip("torchvision.models.feature_extraction")
    net = model()
    train_nodes, eval_nodes = feature_extraction.get_graph_node_names(net)
    for nodes in (train_nodes, eval_nodes):
        assert {"1.dropout_layer", "2.drop_path", "3.dropconnect_linear",
                "5.attention"} <= set(nodes), nodes
    extractor = feature_extraction.create_feature_extractor(
        net.eval(), return_nodes=["2.drop_path", "6"])
    features = extractor(torch.randn(4, 6))
    assert features["2.drop_path"].shape == (4, 8) and features["6"].shape == (4, 2)


def test_torch_compile_runs_the_course_modules():
    # aot_eager: dynamo and autograd tracing without generating C++, which needs a compiler.
    net = nn.Sequential(nn.Linear(6, 8), Dropout(0.5), DropPath(0.2), DropConnectLinear(8, 2, 0.3))
    compiled = torch.compile(net, backend="aot_eager")
    x = torch.randn(16, 6)
    out = compiled(x)
    assert out.shape == (16, 2)
    out.sum().backward()
    assert net[0].weight.grad is not None
    net.eval()
    assert torch.allclose(compiled(x), net(x))
