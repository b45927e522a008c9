"""Small, import-light helpers shared by the benchmark tools (``tools/benchmark.py``,
``tools/benchmark_regionvit.py``, ``tools/benchmark_video.py``): peak memory of a process, interleaved timing
with per-round ratios, one-process-per-model workers, and the table every benchmark writes.

Why these and not ad-hoc code in every tool: on a shared machine only *ratios* of measurements taken side
by side are meaningful (models alternate within every round, the ratio is taken per round, the median over
rounds is reported); and peak RSS must come from the process's own high-water mark (``VmHWM``):
``ru_maxrss`` of a subprocess starts at its parent's peak, because exec keeps the old mark.

Nothing heavy is imported at module import time (torch is imported inside the functions that need it).
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "current_rss_bytes",
    "compare_speed",
    "create_classifier",
    "environment",
    "interleaved_rounds",
    "median_ratio",
    "ratio_range",
    "peak_rss_bytes",
    "proc_status_bytes",
    "row",
    "run_json_worker",
    "step_peak_rss_bytes",
    "sync",
    "to_markdown",
    "training_step_memory",
    "write_table",
]


# ------------------------------------------------------------------------------------------- memory


def proc_status_bytes(field: str) -> int | None:
    """A memory field of ``/proc/self/status`` (``VmHWM``, ``VmRSS``) in bytes; None off Linux."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def peak_rss_bytes() -> int:
    """This process's peak RSS: on Linux the mm's high-water mark (``VmHWM``), which starts fresh at
    exec; elsewhere ``ru_maxrss`` (which in a subprocess may start at the parent's peak)."""
    peak = proc_status_bytes("VmHWM")
    if peak is not None:
        return peak
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r if sys.platform == "darwin" else r * 1024


def current_rss_bytes() -> int:
    rss = proc_status_bytes("VmRSS")
    return rss if rss is not None else peak_rss_bytes()


def step_peak_rss_bytes(rss_before: int) -> int:
    """The process's peak RSS after a step that started at ``rss_before``: the whole-life ``VmHWM``, never
    reset (resetting it via ``/proc/self/clear_refs`` was tried and gave peaks *below* the RSS read just
    after the reset, because the kernel updates the high-water mark lazily), and never reported below the
    current RSS or ``rss_before``."""
    return max(peak_rss_bytes(), current_rss_bytes(), rss_before)


def training_step_memory(model: Any, loss: Callable[[], Any], **what: Any) -> dict[str, Any]:
    """Runs ``loss().backward()`` once on the built ``model``: RSS before the step (imports + weights), the
    process's peak RSS after it, seconds, parameters, plus ``what``. In a fresh process ``peak_rss -
    rss_before`` is the step's activations and gradients (peak: :func:`step_peak_rss_bytes`)."""
    before = current_rss_bytes()
    t = time.perf_counter()
    loss().backward()
    return dict(
        what,
        peak_rss=step_peak_rss_bytes(before),
        rss_before=before,
        seconds=time.perf_counter() - t,
        params=sum(p.numel() for p in model.parameters()),
    )


def run_json_worker(cmd: Sequence[str], what: dict[str, Any], env: dict[str, str] | None = None) -> dict:
    """Runs a worker process whose last stdout line is a JSON object and returns it; on failure ``what``
    plus ``error`` (the last stderr line), so one failed model does not end a whole benchmark."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore", **(env or {})}
    res = subprocess.run(list(cmd), capture_output=True, text=True, env=env)
    if res.returncode != 0:
        return dict(what, error=(res.stderr.strip().splitlines() or [f"exit code {res.returncode}"])[-1])
    return json.loads(res.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------------------------- timing


def sync(device: Any) -> None:
    """Waits for queued GPU work (timings on CUDA are otherwise just launch times); no-op on CPU."""
    if str(device).startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def interleaved_rounds(
    fns: dict[str, Callable[[], Any]],
    rounds: int,
    iters: int | dict[str, int] = 1,
    device: Any = "cpu",
    log: Callable[[int, dict[str, float]], None] | None = None,
) -> list[dict[str, float]]:
    """Seconds per call of every function, ``rounds`` times: within a round each function runs ``iters``
    times in a row (an int, or per name), the order reversed every other round so that nobody always goes
    first. Load drifts on a shared machine, and adjacent measurements see nearly the same load, so compare
    them with :func:`median_ratio` (per-round ratios), not with medians taken separately."""
    names = list(fns)
    out = []
    for r in range(rounds):
        times = {}
        for name in names if r % 2 == 0 else names[::-1]:
            n = iters[name] if isinstance(iters, dict) else iters
            sync(device)
            t = time.perf_counter()
            for _ in range(n):
                fns[name]()
            sync(device)
            times[name] = (time.perf_counter() - t) / n
        out.append(times)
        if log:
            log(r, times)
    return out


def median_ratio(rounds: list[dict[str, float]], num: str, den: str) -> float:
    """Median over rounds of ``round[num] / round[den]`` (measured side by side in each round)."""
    return statistics.median(r[num] / r[den] for r in rounds)


def ratio_range(rounds: list[dict[str, float]], num: str, den: str) -> tuple[float, float]:
    """The lowest and highest per-round ``round[num] / round[den]``: how far one round strays from the
    median of :func:`median_ratio` (the table prints it beside the ratio)."""
    ratios = [r[num] / r[den] for r in rounds]
    return min(ratios), max(ratios)


def create_classifier(name: str, size: int = 224) -> Any:
    """A timm or lgvit classifier by registered name, random weights, for ``size`` x ``size`` images: timm's
    Swin models fix their input size at build time (``img_size``); lgvit models take any size."""
    import timm

    import lgvit  # noqa: F401  (registers the lgvit models with timm)

    if name.startswith("swin") and size != 224:
        return timm.create_model(name, img_size=size)
    return timm.create_model(name)


def compare_speed(
    models: dict[str, Any],
    size: tuple[int, int],
    infer_batch: int = 8,
    train_batch: int = 4,
    rounds: int = 3,
    iters: int = 3,
    train_iters: int = 2,
    device: str = "cpu",
    compile: bool = False,
    autocast_dtype: Any = None,
    log: Callable[[int, dict[str, float]], None] | None = None,
) -> dict[str, Any]:
    """Inference (eval, no grad, ``infer_batch`` images) and training step (forward, cross-entropy,
    backward, AdamW; ``train_batch`` images) of classifiers, all in one interleaved rotation.

    ``compile``: each model through ``torch.compile(m, dynamic=False)``; compilation happens in the
    untimed warm-up. ``autocast_dtype``: forward and loss under ``torch.autocast`` (e.g. bfloat16).
    A model whose warm-up fails is left out and named in ``failed`` (one broken model does not end a
    benchmark). Returns ``{"rounds": [{"<name>/infer": s, "<name>/train": s}, ...], "failed": {...}}``.
    """
    import contextlib

    import torch
    import torch.nn.functional as F

    torch.manual_seed(0)
    dev = torch.device(device)
    models = {n: m.to(dev) for n, m in models.items()}
    if compile:
        models = {n: torch.compile(m, dynamic=False) for n, m in models.items()}
    xi = torch.randn(infer_batch, 3, *size, device=dev)
    xt = torch.randn(train_batch, 3, *size, device=dev)
    yt = torch.randint(0, 1000, (train_batch,), device=dev)
    opts = {n: torch.optim.AdamW(m.parameters(), lr=1e-4, weight_decay=0.05) for n, m in models.items()}

    def amp():
        if autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(dev.type, dtype=autocast_dtype)

    def infer(n: str) -> None:
        models[n].eval()
        with torch.no_grad(), amp():
            models[n](xi)

    def train(n: str) -> None:
        m, opt = models[n], opts[n]
        m.train()
        opt.zero_grad(set_to_none=True)
        with amp():
            loss = F.cross_entropy(m(xt), yt)
        loss.backward()
        opt.step()

    failed = {}
    for n in list(models):  # warm-up: allocator, kernels, optimizer state, compilation
        try:
            infer(n)
            train(n)
        except Exception as e:  # noqa: BLE001  (reported in the table instead)
            failed[n] = f"{type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''}"
            del models[n], opts[n]
    fns = {f"{n}/infer": (lambda n=n: infer(n)) for n in models}
    fns.update({f"{n}/train": (lambda n=n: train(n)) for n in models})
    n_iters = {k: iters if k.endswith("/infer") else train_iters for k in fns}
    return dict(rounds=interleaved_rounds(fns, rounds, n_iters, device, log), failed=failed)


# -------------------------------------------------------------------------------------------- table


def environment(device: str = "cpu", threads: int | None = None) -> dict[str, Any]:
    """What a benchmark's numbers depend on: torch version, threads, device name, load average."""
    import torch

    name = platform.processor() or platform.machine()
    if str(device).startswith("cuda") and torch.cuda.is_available():
        name = torch.cuda.get_device_name()
    else:
        try:
            for line in Path("/proc/cpuinfo").read_text().splitlines():
                if line.startswith("model name"):
                    name = line.split(":", 1)[1].strip()
                    break
        except OSError:
            pass
    return dict(
        torch=torch.__version__,
        threads=threads if threads is not None else torch.get_num_threads(),
        device=str(device),
        device_name=name,
        cpus=os.cpu_count(),
        load_average=[round(x, 2) for x in os.getloadavg()],
        time=time.strftime("%Y-%m-%d %H:%M:%S"),
    )


def row(
    section: str,
    what: str,
    size: str,
    ours: str,
    ours_value: float | None,
    baseline: str,
    baseline_value: float | None,
    unit: str = "",
    ratio: float | None = None,
    ratio_kind: str = "",
    note: str = "",
    bound: float | None = None,
    spread: tuple[float, float] | None = None,
) -> dict[str, Any]:
    """One table row. ``ratio_kind`` says how to read ``ratio``: ``speed`` is ours/baseline speed (above 1:
    ours faster), ``memory`` is ours/baseline memory (below 1: ours smaller), ``diff`` an absolute value.
    ``bound`` (speed rows): the speed ratio at the baseline's throughput with no cost outside matrix
    products, the baseline's matrix-product work over ours (``tools/profile_step.py``). ``spread``: the
    lowest and highest per-round ratio (:func:`ratio_range`) where ``ratio`` is their median."""
    return dict(
        section=section,
        what=what,
        size=size,
        ours=ours,
        ours_value=ours_value,
        baseline=baseline,
        baseline_value=baseline_value,
        unit=unit,
        ratio=ratio,
        ratio_kind=ratio_kind,
        bound=bound,
        spread=spread,
        note=note,
    )


def _fmt(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v:.3g}" if abs(v) < 1000 else f"{v:,.0f}"


def to_markdown(header: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    """The table as markdown: a header line with the environment, then one line per row."""
    load = "/".join(f"{x:.2f}" for x in header.get("load_average", []))
    lines = [
        f"torch {header.get('torch')}, {header.get('threads')} threads, {header.get('device')} "
        f"({header.get('device_name')}), load average {load}, {header.get('time', '')}",
        "",
        "| section | what | size, batch | ours | baseline | ratio | bound | of bound | note |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ratio = "-" if r["ratio"] is None else f"{r['ratio']:.3g}"
        if r["ratio"] is not None and r["ratio_kind"] in ("speed", "memory"):
            ratio += f"x {r['ratio_kind']}"
        if r["ratio"] is not None and r.get("spread"):
            ratio += " ({:.3g}-{:.3g})".format(*r["spread"])
        unit = f" {r['unit']}" if r["unit"] else ""
        ours = f"{r['ours']}: {_fmt(r['ours_value'])}{unit}"
        base = f"{r['baseline']}: {_fmt(r['baseline_value'])}{unit}" if r["baseline"] else "-"
        bound, of_bound = "-", "-"
        if r.get("bound") is not None:
            bound = f"{r['bound']:.3g}x"
            if r["ratio"] is not None:
                of_bound = f"{100 * r['ratio'] / r['bound']:.0f}%"
        cells = [r["section"], r["what"], r["size"], ours, base, ratio, bound, of_bound, r["note"]]
        lines.append("| " + " | ".join(str(c).replace("|", "/") for c in cells) + " |")
    lines.append("")
    lines.append(
        "speed ratio: ours/baseline speed (> 1: ours faster), median of per-round ratios (lowest-highest "
        "round in brackets); "
        "memory ratio: ours/baseline (< 1: ours smaller); bound: baseline matrix-product work / ours (linear "
        "layers, attention products, convolutions: the speed ratio at equal throughput and no other cost; "
        "tools/profile_step.py), of bound: ratio / bound."
    )
    return "\n".join(lines) + "\n"


def write_table(out_dir: str | Path, header: dict[str, Any], rows: list[dict[str, Any]]) -> list[Path]:
    """Writes ``benchmark.md`` (:func:`to_markdown`) and ``benchmark.json`` (``{"header", "rows"}``)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    md, js = out / "benchmark.md", out / "benchmark.json"
    md.write_text(to_markdown(header, rows))
    js.write_text(json.dumps(dict(header=header, rows=rows), indent=1, default=str) + "\n")
    return [md, js]
