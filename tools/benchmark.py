#!/usr/bin/env python
"""Every speed and memory ratio of the lgvit models vs their baselines, in one table.

Prints the table and, with ``--out DIR``, writes it as ``DIR/benchmark.md`` and ``DIR/benchmark.json``;
the header gives torch version, threads, device name and load average. On a shared machine only ratios of
measurements taken side by side count: models alternate within every round, the ratio is taken per round,
and the median over rounds is reported (helpers: ``tools/lgvit_tools/benchmarking.py``). Speed ratio:
ours/baseline speed (above 1: ours faster); memory ratio: ours/baseline (below 1: ours smaller). Every
speed row vs Swin-T has its bound beside it: Swin-T's matrix-product work over ours (linear layers,
attention products, convolutions; one fp32 eager step counted by ``tools/profile_step.py``), the ratio
reached at Swin-T's throughput with no other cost; "of bound" is ratio / bound.

Sections (``--sections``, default all of them):
  eager      224, inference throughput (batch 8, eval, no grad) and training step (forward, cross-entropy,
             backward, AdamW; batch 4) of every ``--models`` vs timm's swin_tiny_patch4_window7_224
  compiled   the same, torch.compile(m, dynamic=False) on both (compilation in the untimed warm-up)
  official   regionvit_s vs the official IBM RegionViT code (regionvit_small), inference and training,
             built from ``--official PATH`` (a local checkout; never downloaded); with the detection
             section also the official backbone at detection size
  detection  backbone training step (forward_pyramid, sum of the maps, backward; batch 1) at ``--det-sizes``
             vs Detectron2's Swin-T backbone: step time interleaved in this process (with ``--det-compiled``
             also compiled), step memory (peak RSS minus RSS before the step) with each model in a fresh
             process
  global     R2L attention step memory vs global attention over all local tokens of each stage, on CPU
             (tools/benchmark_regionvit.py; a baseline that cannot fit is reported by its lower bound)
  video      divided space-time video RegionViT-S vs the joint space-time baseline (tools/benchmark_video.py)
  bf16       the eager comparison under torch.autocast(bfloat16) on both, and the max |logit difference|
             bf16 vs fp32 of each of our models on one batch (the accuracy cost)

    python tools/benchmark.py --out bench/                      # everything: long on a 2-core CPU
    python tools/benchmark.py --sections eager compiled --threads 2
    python tools/benchmark.py --sections official --official ~/src/RegionViT
    python tools/benchmark.py --sections eager --size 64 --rounds 1 --iters 1 --train-iters 1 --threads 1
"""

import argparse
import importlib
import importlib.util
import json
import statistics
import sys
import types
import warnings
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))  # lgvit_tools (it puts the checkout on the path)
import torch  # noqa: E402
from lgvit_tools import REPO_ROOT as REPO  # noqa: E402
from lgvit_tools.benchmarking import (  # noqa: E402
    compare_speed,
    create_classifier,
    environment,
    interleaved_rounds,
    median_ratio,
    ratio_range,
    row,
    run_json_worker,
    to_markdown,
    training_step_memory,
    write_table,
)

SECTIONS = ("eager", "compiled", "official", "detection", "global", "video", "bf16")
SWIN = "swin_tiny_patch4_window7_224"
SWIN_D2 = "swin_t_d2"  # detectron2.modeling.backbone.SwinTransformer with lgvit_det's Swin-T settings
OFFICIAL = "official_regionvit_small"


# ---------------------------------------------------------------------------------------- official code


def load_official(path: str | Path) -> types.ModuleType:
    """The official ``regionvit`` module (github.com/IBM/RegionViT) from a local ``path``: the checkout,
    its ``regionvit/`` folder, or ``regionvit/regionvit.py`` (its ``attention/`` folder must sit beside
    it). Imported as the package ``_official_regionvit``; timm 1.x shims: ``timm.models.registry`` and
    ``timm.models.layers`` are aliased to ``timm.models`` / ``timm.layers`` where they no longer exist."""
    p = Path(path).expanduser()
    cands = [p / "regionvit" / "regionvit.py", p / "regionvit.py", p]
    file = next((c for c in cands if c.is_file() and c.name == "regionvit.py"), None)
    if file is None:
        raise FileNotFoundError(
            f"--official {path}: no regionvit.py there; give a checkout of github.com/IBM/RegionViT, "
            "its regionvit/ folder or regionvit/regionvit.py"
        )
    pkg_dir = file.parent
    if not (pkg_dir / "attention" / "attention_variants.py").is_file():
        raise FileNotFoundError(
            f"--official {path}: {pkg_dir}/attention/attention_variants.py is missing (the official "
            "regionvit.py imports .attention.attention_variants and .attention.attention2d)"
        )
    name = "_official_regionvit"
    cached = sys.modules.get(f"{name}.regionvit")
    if cached is not None and Path(cached.__file__).resolve() == file.resolve():
        return cached
    for mod in [m for m in sys.modules if m == name or m.startswith(f"{name}.")]:  # another path's copy
        del sys.modules[mod]
    for old, new in (("timm.models.registry", "timm.models"), ("timm.models.layers", "timm.layers")):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                importlib.import_module(old)
        except ImportError:
            sys.modules[old] = importlib.import_module(new)
    pkg = types.ModuleType(name)  # the folder as a package without running its __init__ (a star import)
    pkg.__path__ = [str(pkg_dir)]
    sys.modules[name] = pkg
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return importlib.import_module(f"{name}.regionvit")
    except ImportError as e:
        del sys.modules[name]
        raise ImportError(f"cannot import the official RegionViT code from {file}: {e}") from e


def build_official(path: str | Path) -> torch.nn.Module:
    """The official ``regionvit_small_224`` (``RegionViT(**_model_cfg['small'])``), random weights."""
    mod = load_official(path)
    return mod.RegionViT(**mod._model_cfg["small"])


# ------------------------------------------------------------------------------------ detection worker


def build_backbone(kind: str, official: str | None = None):
    """``(module, pyramid_fn)`` for detection-size runs: an lgvit model's ``forward_pyramid``, Detectron2's
    Swin-T backbone (its four maps) or the official backbone (``forward_features(x, detection=True)``)."""
    if kind == SWIN_D2:
        from detectron2.modeling.backbone import SwinTransformer
        from lgvit_tools.det_benchmark import SWIN_T

        m = SwinTransformer(**SWIN_T, out_indices=(0, 1, 2, 3))
        return m, lambda x: list(m(x).values())
    if kind == OFFICIAL:
        m = build_official(official)
        return m, lambda x: m.forward_features(x, detection=True)
    import lgvit

    m = lgvit.create_model(kind, num_classes=0)
    return m, m.forward_pyramid


def det_worker(kind: str, h: int, w: int, threads: int, device: str = "cpu", official: str | None = None):
    """In a fresh process: one backbone training step (pyramid, sum of the maps, backward) at ``h`` x ``w``,
    batch 1. ``peak_bytes``/``before_bytes``/``step_bytes``: VmHWM and RSS on CPU, CUDA allocator on GPU."""
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    m, pyramid = build_backbone(kind, official)
    m.to(device).train()
    x = torch.randn(1, 3, h, w, device=device)
    what = dict(kind=kind, size=[h, w], device=device)
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
        sum(f.sum() for f in pyramid(x)).backward()
        torch.cuda.synchronize()
        r = dict(what, peak_bytes=torch.cuda.max_memory_allocated(), before_bytes=before, memory="cuda")
    else:
        r = training_step_memory(m, lambda: sum(f.sum() for f in pyramid(x)), **what, memory="VmHWM")
        r.update(peak_bytes=r.pop("peak_rss"), before_bytes=r.pop("rss_before"))
    r.update(step_bytes=r["peak_bytes"] - r["before_bytes"], params=sum(p.numel() for p in m.parameters()))
    return r


def measure_detection(kind: str, h: int, w: int, threads: int, device: str = "cpu", official=None) -> dict:
    """:func:`det_worker` in a fresh process (its own peak); ``error`` in the result if it fails."""
    cmd = [sys.executable, __file__, "--_det-worker", kind, str(h), str(w), "--threads", str(threads)]
    cmd += ["--device", device] + (["--official", str(official)] if official else [])
    return run_json_worker(cmd, dict(kind=kind, size=[h, w]))


# ------------------------------------------------------------------------------------------- sections


def matrix_work(names, args) -> dict[str, float]:
    """``{"<name>/infer": GFLOP, "<name>/train": GFLOP}``: the matrix-product work of one inference batch
    and one training step (forward, cross-entropy, backward; no optimizer) of each classifier at
    ``--size``, fp32 eager, fresh random weights (tools/profile_step.py's count)."""
    import torch.nn.functional as F

    count = _load_tool("profile_step").matrix_work_gflop
    dev, hw, work = torch.device(args.device), (args.size, args.size), {}
    xi = torch.randn(args.infer_batch, 3, *hw, device=dev)
    xt = torch.randn(args.train_batch, 3, *hw, device=dev)
    yt = torch.zeros(args.train_batch, dtype=torch.long, device=dev)
    for name in names:
        torch.manual_seed(0)
        m = create_classifier(name, args.size).to(dev)

        def infer(m=m):
            m.eval()
            with torch.no_grad():
                m(xi)

        def train(m=m):
            m.train()
            F.cross_entropy(m(xt), yt).backward()

        work[f"{name}/infer"], work[f"{name}/train"] = count(infer), count(train)
    return work


def _bound(work, ours, base, kind):
    a, b = work.get(f"{ours}/{kind}"), work.get(f"{base}/{kind}")
    return b / a if a and b else None


def _speed_rows(section, res, pairs, args, note="", work=None):
    """Inference and training rows for every ``(ours, baseline)`` pair of one :func:`compare_speed`;
    ``work`` (:func:`matrix_work`) gives each row its bound."""
    rounds, rows, work = res["rounds"], [], work or {}
    size = f"{args.size}x{args.size}"
    kinds = (("infer", args.infer_batch, "inference"), ("train", args.train_batch, "train step"))
    for ours, base in pairs:
        if ours in res["failed"] or base in res["failed"]:
            err = res["failed"].get(ours) or res["failed"][base]
            rows.append(row(section, "speed", size, ours, None, base, None, note=f"failed: {err}"))
            continue
        for kind, batch, what in kinds:
            a, b = (statistics.median(r[f"{n}/{kind}"] for r in rounds) for n in (ours, base))
            values, unit = ((batch / a, batch / b), "img/s") if kind == "infer" else ((a, b), "s/step")
            pair = (rounds, f"{base}/{kind}", f"{ours}/{kind}")
            rows.append(row(section, what, f"{size}, batch {batch}", ours, values[0], base, values[1],
                            unit, median_ratio(*pair), "speed", note, _bound(work, ours, base, kind),
                            ratio_range(*pair)))  # fmt: skip
    return rows


def _log_round(r, times):
    print(f"  round {r + 1}: " + ", ".join(f"{k} {v:.3f}s" for k, v in times.items()), flush=True)


def run_speed(section: str, args, rows: list, with_official: bool = False) -> None:
    """eager / compiled / bf16 (``--models`` vs Swin-T) and official (regionvit_s vs the official code):
    one interleaved rotation; ``with_official`` adds the official model to the eager rotation."""
    names = [] if section == "official" else list(args.models)
    with_official = with_official or section == "official"
    if with_official:
        names = list(dict.fromkeys([*names, "regionvit_s"]))
    models = {n: create_classifier(n, args.size) for n in names}
    if section != "official":
        models[SWIN] = create_classifier(SWIN, args.size)
    if with_official:
        models[OFFICIAL] = build_official(args.official)
    amp = torch.bfloat16 if section == "bf16" else None
    print(f"{section}: {', '.join(models)} at {args.size}", flush=True)
    res = compare_speed(
        models, (args.size, args.size), args.infer_batch, args.train_batch, args.rounds, args.iters,
        args.train_iters, args.device, compile=section == "compiled", autocast_dtype=amp, log=_log_round,
    )  # fmt: skip
    if section != "official":
        note = {"compiled": "torch.compile(dynamic=False) on both", "bf16": "autocast bf16 on both"}
        work = matrix_work([*args.models, SWIN], args)
        rows += _speed_rows(section, res, [(n, SWIN) for n in args.models], args, note.get(section, ""), work)
    if with_official:
        rows += _speed_rows("official", res, [("regionvit_s", OFFICIAL)], args, "official IBM code, eager")
    if section == "bf16":
        rows += _bf16_logit_rows(args)


def _bf16_logit_rows(args) -> list:
    """Max |logit difference| of each of our models, bf16 autocast vs fp32, one batch of random images."""
    rows = []
    dev = torch.device(args.device)
    x = torch.randn(args.infer_batch, 3, args.size, args.size, device=dev)
    cap = torch.backends.cpu.get_cpu_capability() if dev.type == "cpu" else args.device
    for name in args.models:
        torch.manual_seed(0)
        m = create_classifier(name, args.size).to(dev).eval()
        with torch.no_grad():
            ref = m(x)
            with torch.autocast(dev.type, dtype=torch.bfloat16):
                diff = (m(x).float() - ref).abs().max().item()
        note = f"max abs fp32 logit {ref.abs().max().item():.3g}; {cap}; random weights"
        size = f"{args.size}x{args.size}, batch {args.infer_batch}"
        rows.append(row("bf16", "max abs logit diff, bf16 vs fp32", size, name, diff, "", None,
                        ratio=diff, ratio_kind="diff", note=note))  # fmt: skip
    return rows


def _backbone_step(model: torch.nn.Module, pyramid: Callable, x: torch.Tensor) -> Callable[[], None]:
    """One backbone training step: the pyramid's maps summed, backward (gradients of ``model`` reset)."""

    def step() -> None:
        model.zero_grad(set_to_none=True)
        sum(f.sum() for f in pyramid(x)).backward()

    return step


def run_detection(args, rows: list) -> None:
    """Step time (interleaved, this process) and step memory (fresh processes) at each detection size."""
    ours_kinds = list(dict.fromkeys([*args.models, *(["regionvit_s"] if args.official else [])]))
    kinds = ours_kinds + ([OFFICIAL] if args.official else []) + [SWIN_D2]
    for h, w in args.det_sizes:
        print(f"detection {h}x{w}: {', '.join(kinds)}", flush=True)
        mem = {k: measure_detection(k, h, w, args.threads, args.device, args.official) for k in kinds}
        x = torch.randn(1, 3, h, w, device=args.device)
        fns, work, count = {}, {}, _load_tool("profile_step").matrix_work_gflop
        for k in kinds:
            m, pyramid = build_backbone(k, args.official)
            m.to(args.device).train()
            step = _backbone_step(m, pyramid, x)
            work[k] = count(step)  # the warm-up step, its matrix-product work counted
            fns[k] = step
            if args.det_compiled:
                compiled_step = _backbone_step(m, torch.compile(pyramid, dynamic=False), x)
                print(f"  compiling {k} (forward and backward)", flush=True)
                compiled_step()  # compilation, untimed
                fns[f"{k}/compiled"] = compiled_step
        rounds = interleaved_rounds(fns, args.det_rounds, 1, args.device, _log_round)
        size = f"{h}x{w}, batch 1"
        for ours in ours_kinds:
            bases = [SWIN_D2] if ours in args.models else []
            for base in bases + ([OFFICIAL] if ours == "regionvit_s" and args.official else []):
                modes = [("", "backbone train step", "interleaved")]
                if args.det_compiled:
                    modes.append(("/compiled", "backbone train step, compiled", "torch.compile on both"))
                for suffix, what, note in modes:
                    a, b = ours + suffix, base + suffix
                    t = [statistics.median(r[k] for r in rounds) for k in (a, b)]
                    rows.append(row("detection", what, size, ours, t[0], base, t[1], "s/step",
                                    median_ratio(rounds, b, a), "speed", note,
                                    work[base] / work[ours] if work[ours] else None,
                                    ratio_range(rounds, b, a)))  # fmt: skip
                a, b = mem[ours], mem[base]
                what = "backbone train step memory"
                if "step_bytes" not in a or "step_bytes" not in b:
                    rows.append(row("detection", what, size, ours, None, base, None, note=a.get("error") or
                                    b.get("error")))  # fmt: skip
                    continue
                note = f"peak {a['peak_bytes'] / 2**30:.2f} vs {b['peak_bytes'] / 2**30:.2f} GiB"
                sa, sb = a["step_bytes"] / 2**30, b["step_bytes"] / 2**30
                rows.append(row("detection", what, size, ours, sa, base, sb, "GiB", sa / sb, "memory", note))


def _load_tool(name: str) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(name, REPO / "tools" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def run_global(args, rows: list) -> None:
    """R2L vs materialised global attention, training-step memory of regionvit_s at ``--global-sizes``."""
    bench = _load_tool("benchmark_regionvit")
    for h, w in args.global_sizes:
        print(f"global attention memory {h}x{w}", flush=True)
        r = bench.global_memory_comparison(h, w, args.threads, "materialized")
        ours, base, bound = r["regionvit"], r["global_"], r["global_lower_bound"] / 2**30
        size, what, name = f"{h}x{w}, batch 1", "train step memory", "regionvit_s"
        if "peak_rss" not in ours:
            rows.append(row("global", what, size, name, None, "global", None, note=ours["error"]))
            continue
        a = (ours["peak_rss"] - ours["rss_before"]) / 2**30
        if "peak_rss" in base:
            b = (base["peak_rss"] - base["rss_before"]) / 2**30
            note = f"measured (CPU RSS); baseline lower bound {bound:.2f} GiB"
            rows.append(row("global", what, size, name, a, "global", b, "GiB", a / b, "memory", note))
        else:
            note = f"baseline not run ({base.get('skipped') or base.get('error')}): vs its lower bound; CPU"
            rows.append(row("global", what, size, name, a, "global >=", bound, "GiB", a / bound, "memory",
                            note))  # fmt: skip


def run_video(args, rows: list) -> None:
    """Divided vs joint space-time video RegionViT-S (each in its own process, tools/benchmark_video.py)."""
    from lgvit_tools.video_benchmark import run_all

    b, t, s = args.video_batch, args.video_frames, args.video_size
    print(f"video {b} x {t}x{s}x{s}", flush=True)
    size = f"{t}x{s}x{s}, batch {b}"
    try:
        d, j = run_all("regionvit_s", b, t, s, args.video_steps, args.device)
    except RuntimeError as e:
        rows.append(row("video", "clip training", size, "divided", None, "joint", None, note=str(e)[-200:]))
        return
    why = f"joint attends over T*N tokens per group (T={t}): quadratic in T; divided: N, then T"
    cs, mem = (d["clips_per_s"], j["clips_per_s"]), (d["peak_mem_mb"] / 1024, j["peak_mem_mb"] / 1024)
    rows.append(row("video", "training clips/s", size, "divided", cs[0], "joint", cs[1], "clips/s",
                    cs[0] / cs[1], "speed", why + "; separate processes, not interleaved"))  # fmt: skip
    rows.append(row("video", "training memory", size, "divided", mem[0], "joint", mem[1], "GiB",
                    mem[0] / max(mem[1], 1e-9), "memory", "peak minus RSS before 1st step"))  # fmt: skip


# ------------------------------------------------------------------------------------------------ main


def _hw(text: str) -> tuple[int, int]:
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected HxW (e.g. 672x1120), got {text!r}") from None
    return h, w


def _section(text: str) -> str:
    if text not in SECTIONS:
        raise argparse.ArgumentTypeError(f"unknown section {text!r}; choose from {', '.join(SECTIONS)}")
    return text


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sections", nargs="+", type=_section, default=None, metavar="NAME",
                   help=f"which parts to run (default all): {', '.join(SECTIONS)}")  # fmt: skip
    p.add_argument("--models", nargs="+", default=["regionvit_s", "salg_t", "rsir_t"],
                   help="our models (registered lgvit names) compared with the baselines")  # fmt: skip
    p.add_argument("--device", default="cpu", help="cpu or cuda (timings synchronise on cuda)")
    p.add_argument("--threads", type=int, default=torch.get_num_threads(), help="torch threads (all runs)")
    p.add_argument("--size", type=int, default=224, help="square input: eager/compiled/official/bf16")
    p.add_argument("--infer-batch", type=int, default=8, help="images per inference call")
    p.add_argument("--train-batch", type=int, default=4, help="images per training step")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds at --size; medians reported")
    p.add_argument("--iters", type=int, default=3, help="inference calls per model per round")
    p.add_argument("--train-iters", type=int, default=2, help="training steps per model per round")
    p.add_argument("--official", default=None, metavar="PATH",
                   help="local IBM RegionViT checkout, its regionvit/ folder or regionvit/regionvit.py "
                   "(enables the official section; never downloaded)")  # fmt: skip
    p.add_argument("--det-sizes", nargs="+", type=_hw, default=[(672, 1120), (896, 1344)], metavar="HxW",
                   help="detection-size inputs (batch 1)")  # fmt: skip
    p.add_argument("--det-rounds", type=int, default=2, help="interleaved training steps per backbone")
    p.add_argument("--det-compiled", action="store_true",
                   help="detection section: also time torch.compile(dynamic=False) of every backbone's "
                   "pyramid (compiling forward and backward per size, untimed, takes minutes)")  # fmt: skip
    p.add_argument("--global-sizes", nargs="+", type=_hw, default=[(224, 336), (288, 432), (896, 1344)],
                   metavar="HxW", help="sizes of the R2L vs global-attention memory rows")  # fmt: skip
    p.add_argument("--video-batch", type=int, default=1, help="clips per video training step")
    p.add_argument("--video-frames", type=int, default=8, help="frames per clip")
    p.add_argument("--video-size", type=int, default=224, help="frame side in pixels")
    p.add_argument("--video-steps", type=int, default=1, help="timed video training steps (after 1 warm-up)")
    p.add_argument("--out", type=Path, default=None, metavar="DIR", help="writes benchmark.md and .json")
    p.add_argument("--_det-worker", nargs=3, default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.official is not None and not Path(args.official).expanduser().exists():
        p.error(f"--official {args.official}: no such file or directory (a local checkout of "
                "github.com/IBM/RegionViT, its regionvit/ folder or regionvit/regionvit.py)")  # fmt: skip
    if args.official is not None:
        try:
            load_official(args.official)  # a wrong folder fails here, before any timing
        except (FileNotFoundError, ImportError) as e:
            p.error(str(e))
    if args.sections is None:
        args.sections = list(SECTIONS)
    elif "official" in args.sections and args.official is None:
        p.error("--sections official needs --official PATH (a local checkout of github.com/IBM/RegionViT)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore", message=".*(torch.jit.script|torch.meshgrid).*")  # library noise
    if args._det_worker:
        kind, h, w = args._det_worker
        print(json.dumps(det_worker(kind, int(h), int(w), args.threads, args.device, args.official)))
        return 0
    header = environment(args.device, args.threads)
    header.update(sections=args.sections, models=args.models, official=args.official)
    rows: list[dict[str, Any]] = []
    official = "official" in args.sections and args.official is not None
    for section in args.sections:
        if section in ("eager", "compiled", "bf16"):
            run_speed(section, args, rows, with_official=section == "eager" and official)
        elif section == "official" and not official:  # only part of the default "all"
            note = "not run: no --official PATH"
            rows.append(row("official", "speed", "-", "regionvit_s", None, OFFICIAL, None, note=note))
        elif section == "official" and "eager" not in args.sections:
            run_speed("official", args, rows)
        elif section == "detection":
            run_detection(args, rows)
        elif section == "global":
            run_global(args, rows)
        elif section == "video":
            run_video(args, rows)
    header["load_average_end"] = environment(args.device, args.threads)["load_average"]
    print(to_markdown(header, rows))
    if args.out:
        for f in write_table(args.out, header, rows):
            print(f"wrote {f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
