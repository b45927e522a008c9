"""The skeleton every family shares (``lgvit.models.base``): bad architectures are refused at construction
with a ValueError naming the argument, the drop-path schedule is one, an empty batch runs, and the
capabilities the video wrapper needs are declared by the blocks."""

from __future__ import annotations

import pytest
import torch

import lgvit
from lgvit.models.base import check_architecture, drop_path_rates

TINY = {
    "regionvit_ti": dict(dims=(32, 64), depths=(1, 1), heads=(2, 4), window=2),
    "salg_st": dict(dims=(32, 64), depths=(1, 1), heads=(2, 4), pads=(1,), window=4),
    "rsir_t": dict(dims=(32, 64), depths=(1, 1), heads=(2, 4), window=2),
}
BAD = [
    (dict(window=0), "window must be a positive integer"),
    (dict(window=-3), "window must be a positive integer"),
    (dict(dims=(0, 64)), "dims must be positive integers"),
    (dict(dims=(-32, 64)), "dims must be positive integers"),
    (dict(depths=(1, -1)), "depths must be positive integers"),
    (dict(heads=(0, 4)), "heads must be positive integers"),
    (dict(heads=(3, 4)), "divisible by its heads"),
    (dict(depths=(1, 1, 1)), "one entry per stage"),
    (dict(in_chans=0), "in_chans must be a positive integer"),
    (dict(drop_path_rate=1.5), r"drop_path_rate must be in \[0, 1\)"),
    (dict(drop_path_rate=-0.1), r"drop_path_rate must be in \[0, 1\)"),
    (dict(drop_path_rate=1.0), r"drop_path_rate must be in \[0, 1\)"),
    (dict(num_classes=2.5), "num_classes must be an integer"),
    (dict(num_classes=-1), "num_classes must be an integer"),
    (dict(num_classes=True), "num_classes must be an integer"),
]


@pytest.mark.parametrize("name", sorted(TINY))
@pytest.mark.parametrize("bad, message", BAD, ids=[f"{k}={v}" for (b, _) in BAD for k, v in b.items()])
def test_bad_architecture_is_refused_at_construction(name, bad, message):
    with pytest.raises(ValueError, match=message):
        lgvit.create_model(name, **{**TINY[name], **bad})


def test_create_model_refuses_a_name_that_is_not_a_string():
    with pytest.raises(ValueError, match="model name must be a string"):
        lgvit.create_model(123)


def test_salg_refuses_more_pads_than_stages():
    with pytest.raises(ValueError, match="at most one pads entry per stage"):
        lgvit.create_model("salg_st", **{**TINY["salg_st"], "pads": (1, 1, 1)})


def test_check_architecture_accepts_the_registered_variants():
    check_architecture((96, 192), (2, 2), (3, 6), 3, 0, 0.0, 7)
    check_architecture((96, 192), (2, 2), (3, 6), 1, 1000, 0.99)


def test_drop_path_schedule_is_linear_over_all_blocks_and_split_per_stage():
    rates = drop_path_rates(0.3, (1, 2, 1))
    assert [len(r) for r in rates] == [1, 2, 1]
    torch.testing.assert_close(torch.tensor(sum(rates, [])), torch.linspace(0, 0.3, 4))
    for name, kw in TINY.items():  # every family takes its rates from the one schedule
        model = lgvit.create_model(name, **{**kw, "drop_path_rate": 0.2})
        got = [float(b.drop_path.drop_prob) if hasattr(b.drop_path, "drop_prob") else 0.0
               for _, b in model.encoder_blocks()]  # fmt: skip
        assert got == pytest.approx([0.0, 0.2]), name


@pytest.mark.parametrize("name", sorted(TINY))
def test_empty_batch_gives_empty_outputs(name):
    model = lgvit.create_model(name, **TINY[name], num_classes=5).eval()
    x = torch.zeros(0, 3, 45, 61)
    with torch.no_grad():
        assert model(x).shape == (0, 5)
        pyramid = model.forward_pyramid(x)
    assert [tuple(p.shape[:2]) for p in pyramid] == [(0, c) for c in model.pyramid_channels]


@pytest.mark.parametrize("name", sorted(TINY))
def test_builds_and_runs_on_the_meta_device(name):
    """Built under ``torch.device("meta")`` (timm's default_cfgs test, deferred initialisation), a model
    runs forward with gradients (RSIR's grouped projection asked autocast about "meta": torch refuses)."""
    with torch.device("meta"):
        model = lgvit.create_model(name, **TINY[name], num_classes=5)
    y = model(torch.randn(2, 3, 45, 61, device="meta"))
    assert y.shape == (2, 5) and y.device.type == "meta" and y.requires_grad


def test_blocks_declare_joint_space_time_support():
    expected = {"regionvit_ti": True, "salg_st": False, "rsir_t": False}
    for name, kw in TINY.items():
        blocks = [b for _, b in lgvit.create_model(name, **kw).encoder_blocks()]
        assert {type(b).supports_joint_space_time for b in blocks} == {expected[name]}, name


def test_rsir_eval_permutation_choice_is_made_at_construction():
    model = lgvit.create_model("rsir_t", **TINY["rsir_t"], rs_eval="random")
    attns = [b.attn for _, b in model.encoder_blocks()]
    assert all(a.random_eval for a in attns) and not any(hasattr(a, "rs_eval") for a in attns)
