"""Checks that only a GPU can answer, in one short run: does each family compute the same model on the GPU as
on the CPU, and would ``torch.nn.attention.flex_attention`` pay as SALG's intra-region attention?

Sections (``--sections``, default both):
  parity  every ``--models`` family in float32 (TF32 off) on ``--device`` against the same weights and
          images on the CPU: max |logit difference|, max |gradient difference| over all parameters
          (relative to the largest gradient), eval mode (RSIR's permutations fixed). SALG's region
          assignment is an argmax: a near-tie that rounds the other way moves a token to another region,
          so its rows print how many of the first block's tokens changed region.
  flex    SALG-T's intra-region attention at its real layouts (the first block of each SALG stage, on a
          ``--batch`` of images): the package's path (sequences gathered, the per-sequence pair bias
          gathered from the block's table, SDPA) against ``flex_attention`` with the pair bias looked up in
          a ``score_mod`` (nothing materialised but the sequences), compiled. Prints the max output and
          gradient differences (float32 and bfloat16) and the forward + backward time and peak memory of
          each. On a CPU only the forward is compared (flex_attention has no CPU backward).

Prints a markdown table; ``--out FILE`` also writes it. The device's name is in the header: record it beside
every figure. A one-command run of this and the GPU benchmark: ``tools/gpu_check.sh``.

    python tools/probe_gpu.py --device cuda
    python tools/probe_gpu.py --device cpu --batch 2 --sections flex      # a dry run of the logic
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from lgvit_tools.benchmarking import (  # noqa: E402
    create_classifier,
    environment,
    interleaved_rounds,
    median_ratio,
    sync,
)

MODELS = ("regionvit_s", "salg_t", "rsir_t")


def _grad_vector(model) -> torch.Tensor:
    return torch.cat([p.grad.reshape(-1).float().cpu() for p in model.parameters() if p.grad is not None])


def parity(names, device: str, batch: int, size: int) -> list[str]:
    """One row per model: the same weights and images on ``device`` and on the CPU, float32, TF32 off."""
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    rows = []
    x = torch.randn(batch, 3, size, size, generator=torch.Generator().manual_seed(0))
    y = torch.arange(batch) % 1000
    for name in names:
        try:
            rows.append(_parity_row(name, x, y, device, size))
        except Exception as e:  # a report: one broken model must not hide the others' rows
            rows.append(_failed_row("parity", name, e))
        print(rows[-1], flush=True)
    return rows


def _failed_row(check: str, what: str, error: Exception) -> str:
    return f"| {check} | {what} | failed | | {type(error).__name__}: {str(error)[:200]} |"


def _parity_row(name: str, x: torch.Tensor, y: torch.Tensor, device: str, size: int) -> str:
    torch.manual_seed(0)
    ref = create_classifier(name, size).eval()
    dev = create_classifier(name, size).eval()
    dev.load_state_dict(ref.state_dict())
    dev.to(device)
    out = {}
    for tag, m, xx, yy in (("cpu", ref, x, y), ("dev", dev, x.to(device), y.to(device))):
        m.zero_grad(set_to_none=True)
        logits = m(xx)
        F.cross_entropy(logits, yy).backward()
        out[tag] = (logits.detach().float().cpu(), _grad_vector(m))
    logit_diff = (out["cpu"][0] - out["dev"][0]).abs().max().item()
    grad_diff = (out["cpu"][1] - out["dev"][1]).abs().max().item() / out["cpu"][1].abs().max().item()
    note = ""
    if name.startswith("salg"):
        note = f"{_salg_region_changes(ref, dev, x, device)} of the first block's tokens in another region"
    return f"| parity | {name} | {logit_diff:.2e} | {grad_diff:.2e} | {note} |"


def _salg_region_changes(ref, dev, x, device) -> int:
    """How many tokens the first SALG block assigns to another region on ``device`` than on the CPU."""
    regions = []
    for m, xx in ((ref, x), (dev, x.to(device))):
        with torch.no_grad():
            tokens, hw = _first_block_input(m, xx)
            block = m.stages[0].blocks[0]
            regions.append(block.regions(tokens, hw).cpu())
    return int((regions[0] != regions[1]).sum())


def _first_block_input(model, x):
    """The first block's input ``(B, nA + H*W, C)`` and map size, captured by a forward pre-hook."""
    seen = {}

    def hook(module, args, kwargs):
        seen["x"] = args[0]
        seen["hw"] = kwargs.get("hw", args[2] if len(args) > 2 else None)
        raise _Captured

    handle = model.stages[0].blocks[0].register_forward_pre_hook(hook, with_kwargs=True)
    try:
        model(x)
    except _Captured:
        pass
    finally:
        handle.remove()
    return seen["x"], seen["hw"]


class _Captured(Exception):
    pass


# --------------------------------------------------------------------------------------------- flex


def capture_member_calls(batch: int, size: int, device: str) -> list[dict]:
    """The arguments of SALG-T's first ``member_attention`` call in each SALG stage, on real layouts."""
    import lgvit.models.salg as salg

    torch.manual_seed(0)
    model = create_classifier("salg_t", size).eval().to(device)
    calls, original = [], salg.member_attention

    def record(qkv, region, table, hw, window, pad, agr, num_heads, dropout_p=0.0):
        calls.append(dict(qkv=qkv, region=region, table=table, hw=hw, window=window, pad=pad, agr=agr,
                          num_heads=num_heads))  # fmt: skip
        return original(qkv, region, table, hw, window, pad, agr, num_heads, dropout_p)

    salg.member_attention = record
    try:
        with torch.no_grad():
            model(torch.randn(batch, 3, size, size, device=device))
    finally:
        salg.member_attention = original
    firsts, seen = [], set()
    for c in calls:  # the first block of each stage (stages differ in width, pad and map size)
        key = (c["qkv"].shape[1], c["pad"], c["hw"])
        if c["agr"] and key not in seen:
            seen.add(key)
            firsts.append(c)
    return firsts


def _flex_member_attention(flex, qkv, region, table, hw, window, pad, agr, num_heads):
    """The same attention as :func:`lgvit.layers.member_attention` with the pair bias in a ``score_mod``:
    per slot, the code of its position in the coverage area (``member_layout``'s ``bias_index`` is
    ``query_code * (Kc + 1) + key_code``), and ``table[h, qc * (Kc + 1) + kc]`` added to each score."""
    from lgvit.layers.member_attention import _layout
    from lgvit.layers.permute import unwindow_permuted_rows, window_permuted_rows

    C = qkv.shape[1] // 3
    rows, slots, back, bias_index, N = _layout(region, hw, window, pad, agr, False)
    S = bias_index.shape[0]
    codes = _codes_per_row(table.shape[1])
    pairs = bias_index.reshape(S, N, N)
    query_code = pairs[:, :, 0] // (codes + 1)
    key_code = pairs[:, 0, :] % (codes + 1)
    seq = window_permuted_rows(qkv, rows, slots).reshape(S, N, 3, num_heads, C // num_heads)
    q, k, v = seq.permute(2, 0, 3, 1, 4).unbind(0)

    def score_mod(score, b, h, qi, ki):
        return score + table[h, query_code[b, qi] * (codes + 1) + key_code[b, ki]]

    out = flex(q, k, v, score_mod=score_mod).transpose(1, 2).reshape(S * N, C)
    return unwindow_permuted_rows(out, slots, back)


def _codes_per_row(table_width: int) -> int:
    """``Kc`` of a ``(heads, Kc * (Kc + 1))`` table (``Kc^2 <= Kc * (Kc + 1) < (Kc + 1)^2``)."""
    kc = math.isqrt(table_width)
    if kc * (kc + 1) != table_width:
        raise ValueError(f"a bias table of width {table_width} is not Kc * (Kc + 1)")
    return kc


def _peak_bytes(fn, device: str) -> int:
    """Peak memory of one ``fn()`` above what was allocated before it (CUDA allocator; 0 elsewhere)."""
    if not device.startswith("cuda"):
        return 0
    sync(device)
    torch.cuda.reset_peak_memory_stats()
    base = torch.cuda.memory_allocated()
    fn()
    sync(device)
    return torch.cuda.max_memory_allocated() - base


def flex_rows(device: str, batch: int, size: int) -> list[str]:
    from torch.nn.attention.flex_attention import flex_attention

    flex = torch.compile(flex_attention, dynamic=False)
    rows = []
    for call in capture_member_calls(batch, size, device):
        for dtype in (torch.float32, torch.bfloat16):
            try:
                rows.append(_flex_row(call, dtype, flex, device))
            except Exception as e:  # a report: one failing layout must not hide the others' rows
                rows.append(_failed_row("flex", f"SALG-T p={call['pad']}, {dtype}", e))
            print(rows[-1], flush=True)
    return rows


def _flex_row(call: dict, dtype: torch.dtype, flex, device: str) -> str:
    """One layout in one dtype: the package's attention and the flex formulation, compared and timed."""
    from lgvit.layers.member_attention import _member_attention

    train = not device.startswith("cpu")  # flex_attention has no backward on the CPU
    layout = (call["hw"], call["window"], call["pad"], call["agr"], call["num_heads"])
    qkv = call["qkv"].detach().to(dtype).requires_grad_(train)
    table = call["table"].detach().to(dtype).requires_grad_(train)
    grad = torch.randn(qkv.shape[0], qkv.shape[1] // 3, device=device, dtype=dtype)
    forwards = {
        "package": lambda: _member_attention(qkv, call["region"], table, *layout, 0.0),
        "flex": lambda: _flex_member_attention(flex, qkv, call["region"], table, *layout),
    }
    results, steps = {}, {}
    for tag, forward in forwards.items():
        if train:
            out = forward()
            grads = [g.float() for g in torch.autograd.grad(out, (qkv, table), grad)]
            steps[tag] = lambda f=forward: torch.autograd.grad(f(), (qkv, table), grad)
        else:
            with torch.no_grad():
                out, grads = forward(), []
            steps[tag] = torch.no_grad()(forward)
        results[tag] = (out.float(), grads, _peak_bytes(steps[tag], device))
    rounds = interleaved_rounds(steps, rounds=5, iters=1, device=device)  # both warm from the calls above
    pt, ft = (statistics.median(r[tag] for r in rounds) for tag in ("package", "flex"))
    speed = median_ratio(rounds, "package", "flex")
    (po, pg, pm), (fo, fg, fm) = results["package"], results["flex"]
    out_diff = (po - fo).abs().max().item()
    grad_diff = "-"
    if pg:
        grad_diff = f"{max(((a - b).abs().max() / a.abs().max()).item() for a, b in zip(pg, fg)):.2e}"
    shape = f"{call['qkv'].shape[0]} rows, C={call['qkv'].shape[1] // 3}, p={call['pad']}"
    mode = "fwd+bwd" if train else "forward"
    mem = f", peak {pm / 2**20:.0f} vs {fm / 2**20:.0f} MiB" if device.startswith("cuda") else ""
    return (
        f"| flex | SALG-T {shape}, {str(dtype)[6:]} | {out_diff:.2e} | {grad_diff} | "
        f"{mode} package {pt * 1e3:.2f} ms, flex {ft * 1e3:.2f} ms ({speed:.2f}x, interleaved){mem} |"
    )


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu",
                   help="the device to check against the CPU (default cuda when there is one)")  # fmt: skip
    p.add_argument("--sections", nargs="+", choices=("parity", "flex"), default=["parity", "flex"],
                   help="which checks to run (default both)")  # fmt: skip
    p.add_argument("--models", nargs="+", default=list(MODELS), help="families for the parity check")
    p.add_argument("--batch", type=int, default=8, help="images per check (default 8)")
    p.add_argument("--size", type=int, default=224, help="square image size (default 224)")
    p.add_argument("--out", type=Path, help="also write the table to this markdown file")
    args = p.parse_args(argv)
    env = environment(args.device)
    lines = [
        f"torch {env['torch']}, {args.device} ({env['device_name']}), "
        f"batch {args.batch}, {args.size}x{args.size}",
        "",
        "| check | what | max output / logit diff | max gradient diff (relative) | note |",
        "|---|---|---|---|---|",
    ]
    print("\n".join(lines), flush=True)
    if "parity" in args.sections:
        lines += parity(args.models, args.device, args.batch, args.size)
    if "flex" in args.sections:
        lines += flex_rows(args.device, args.batch, args.size)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
