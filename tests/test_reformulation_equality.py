"""Issue 22: the faster SALG and RSIR formulations compute the same models as before. Each model runs twice
with the same parameters and input, once with its current forward and once with the pre-issue-22
formulation (tests/reference_impl.py, a verbatim copy kept only in the tests); logits, the gradient of
every parameter and the gradient of the input agree within 1e-5, at 224 and at a size whose maps need
window padding, in eval and in train mode (RSIR's random permutations under the same seed).

In train mode RSIR draws its RS-Win permutations from the global generator: the reformulation draws the same
numbers in the same order (one ``torch.rand(B, L)`` per attention layer, before the importance order), so
the generator's state after a training step is the same. Its backward sums in another order (one linear
layer's gradient in token order instead of one per permuted head group): gradients agree within float
rounding, not bit for bit."""

from __future__ import annotations

import pytest
import torch
from reference_impl import reference_forward

import lgvit

SIZES = [(224, 224), (230, 298)]  # whole windows at every stage; padded windows (and odd merges)
TOL = dict(rtol=1e-5, atol=1e-5)


def _run(model: torch.nn.Module, x: torch.Tensor, seed: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    model.zero_grad(set_to_none=True)
    x = x.clone().requires_grad_(True)
    torch.manual_seed(seed)  # RSIR's training-mode permutations draw from the global generator
    out = model(x)
    (out * torch.linspace(-1, 1, out.shape[-1])).sum().backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    grads["input"] = x.grad.clone()
    return out.detach(), grads


def _check(model: torch.nn.Module, size: tuple[int, int], train: bool) -> None:
    model.train(train)
    x = torch.randn(2, 3, *size, generator=torch.Generator().manual_seed(1))
    out, grads = _run(model, x, seed=5)
    with reference_forward():
        ref_out, ref_grads = _run(model, x, seed=5)
    torch.testing.assert_close(out, ref_out, **TOL)
    assert grads.keys() == ref_grads.keys()
    assert len(grads) == sum(1 for _ in model.parameters()) + 1  # every parameter got a gradient
    for name in grads:
        torch.testing.assert_close(grads[name], ref_grads[name], **TOL, msg=lambda m, n=name: f"{n}: {m}")


# every stage kind (p = 1, 2, 1 with AGR tokens, the normal stage), AP and MSA propagation
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", ["salg_st", "salg_st_msa"])
@pytest.mark.parametrize("train", [False, True], ids=["eval", "train"])
def test_salg_equals_previous_formulation(name, size, train):
    torch.manual_seed(0)
    _check(lgvit.create_model(name, num_classes=10), size, train)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("train", [False, True], ids=["eval", "train"])
def test_rsir_equals_previous_formulation(size, train):
    torch.manual_seed(0)
    model = lgvit.create_model("rsir_t", num_classes=10, depths=(2, 2, 2, 2))
    _check(model, size, train)


def _rng_after(model: torch.nn.Module, x: torch.Tensor, seed: int) -> torch.Tensor:
    torch.manual_seed(seed)
    with torch.no_grad():
        model(x)
    return torch.get_rng_state()


@pytest.mark.parametrize("size", SIZES)
def test_rsir_training_draws_the_same_random_numbers(size):
    """A training-mode forward consumes the global generator exactly as before: the same state after it,
    and more than an eval-mode forward (which draws nothing), so the permutations really are drawn."""
    torch.manual_seed(0)
    model = lgvit.create_model("rsir_t", num_classes=10, depths=(2, 2, 2, 2)).train()
    x = torch.randn(2, 3, *size, generator=torch.Generator().manual_seed(1))
    state = _rng_after(model, x, seed=7)
    with reference_forward():
        ref_state = _rng_after(model, x, seed=7)
    assert torch.equal(state, ref_state)
    assert not torch.equal(state, _rng_after(model.eval(), x, seed=7))


@pytest.mark.parametrize("train", [False, True], ids=["eval", "train"])
def test_video_rsir_equals_previous_formulation(train):
    """The divided space-time video model of tests/test_rsir_train.py (its config's architecture, 8 frames
    of 32x32): logits and every gradient as before (within 1e-5), in train mode under the same seed too;
    the same random numbers consumed."""
    from video.models import build_video_model

    torch.manual_seed(0)
    model = build_video_model(
        "rsir_t",
        num_classes=4,
        num_frames=8,
        drop_path_rate=0.0,
        dims=(32, 64),
        depths=(1, 1),
        heads=(2, 4),
        window=4,
    ).train(train)
    x = torch.randn(4, 3, 8, 32, 32, generator=torch.Generator().manual_seed(1))
    out, grads = _run(model, x, seed=5)
    state = torch.get_rng_state()
    with reference_forward():
        ref_out, ref_grads = _run(model, x, seed=5)
    assert torch.equal(state, torch.get_rng_state())
    torch.testing.assert_close(out, ref_out, **TOL)
    assert grads.keys() == ref_grads.keys()
    assert len(grads) == sum(1 for _ in model.parameters()) + 1
    for name in grads:
        torch.testing.assert_close(grads[name], ref_grads[name], **TOL, msg=name)


def test_reference_is_not_the_current_code():
    """The swap really runs other code (a test that compares a function with itself cannot fail)."""
    import reference_impl

    from lgvit.models import rsir, salg

    with reference_forward():
        assert salg.LocalGlobalBlock.forward is reference_impl.salg_block_forward
        assert rsir.RSIRAttention.forward is reference_impl.rsir_attention_forward
    assert salg.LocalGlobalBlock.forward is not reference_impl.salg_block_forward
