"""Detectron2 detectors with lgvit backbones -> TorchScript (and ONNX), through Detectron2's own route, each
artifact verified against the eager detector.

The route is Detectron2's ``tools/deploy/export_model.py --export-method tracing``: a
:class:`detectron2.export.TracingAdapter` flattens the detector's ``[{"image": (C, H, W)}]`` input and
``Instances`` output into tensors, ``torch.jit.trace`` records it (TorchScript), and ``torch.onnx.export``
(the TorchScript-based exporter, ``dynamo=False``) writes the same traced graph as ONNX, run in ONNX
Runtime. R-CNNs are traced without the final resize (``inference(..., do_postprocess=False)``: masks are
the per-RoI 28x28 probabilities, as Detectron2 exports them); RetinaNet through its ``forward``.

**One artifact serves every input size** (status, torch 2.14.1, CPU): no re-tracing per size. Under
``torch.jit.trace`` a tensor's sizes are traced values, and the lgvit forward paths keep sizes as such
(padding written as ``n * ceil(H / n)`` on them, masks always built while capturing, crops by a gather:
:func:`lgvit.layers.capturing_graph`), as do Detectron2's detectors (``ImageList`` padding, anchors,
box clipping); the only sizes frozen at the traced values are the input checks' verdicts. Scripting the
backbone before tracing is therefore not needed.

Which meta-architectures export to what:

* TorchScript: Mask R-CNN, RetinaNet, Keypoint R-CNN (and Faster R-CNN): equal to eager at any size.
* ONNX (ONNX Runtime): Mask R-CNN and RetinaNet. Not Keypoint R-CNN: Detectron2's keypoint
  post-processing (``detectron2.structures.keypoints.heatmaps_to_keypoints``) is a scripted per-RoI loop
  that resizes each heatmap to its box's data-dependent size, which the ONNX exporter refuses
  ("advanced indexing on tensor of unknown rank"); :func:`onnx_problem` says so before exporting.
  Backbones: RegionViT and SALG equal eager in ONNX Runtime (~1e-5 px). RSIR exports (integer ``^`` of its
  fixed token permutation written as ONNX ``BitwiseXor``, :func:`_integer_xor_for_onnx`), but its maps
  differ from eager by ~1e-2 already in the first stage under this exporter (the permutations themselves
  are equal); the verification reports the mismatch. lgvit's own ONNX route
  (:mod:`lgvit.models.export`, ``torch.export`` based) equals eager for RSIR.

Outputs are compared after pairing each eager detection with an artifact detection of the same class
(:func:`compare_instances`): detections with equal scores may come out of NMS / top-k in either order.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn as nn
from detectron2.export import TracingAdapter
from detectron2.modeling import GeneralizedRCNN
from detectron2.structures import Instances

__all__ = [
    "FORMATS",
    "Check",
    "DetectorArtifact",
    "ExportArgumentError",
    "compare_instances",
    "detector_outputs",
    "example_image",
    "export_detector",
    "export_from_config",
    "load_detector",
    "meta_architecture",
    "onnx_problem",
    "set_score_threshold",
    "verify_detector",
]

FORMATS = ("torchscript", "onnx")
ONNX_OPSET = 18  # torchvision's RoIAlign(aligned=True) needs >= 16; RSIR's integer hash (bitwise and) 18


class ExportArgumentError(ValueError):
    """A detector that cannot be exported as asked (format, weights); the message says what to change."""


def meta_architecture(model: nn.Module) -> str:
    """``"Keypoint R-CNN"``, ``"Mask R-CNN"``, ``"Faster R-CNN"`` or the class name (``"RetinaNet"``)."""
    if isinstance(model, GeneralizedRCNN):
        roi = model.roi_heads
        if getattr(roi, "keypoint_on", False):
            return "Keypoint R-CNN"
        return "Mask R-CNN" if getattr(roi, "mask_on", False) else "Faster R-CNN"
    return type(model).__name__


def onnx_problem(model: nn.Module) -> str | None:
    """Why ``model`` cannot be exported to ONNX through Detectron2's tracing route, or None if it can."""
    if isinstance(model, GeneralizedRCNN) and getattr(model.roi_heads, "keypoint_on", False):
        return (
            "Keypoint R-CNN does not export to ONNX: Detectron2's keypoint post-processing "
            "(heatmaps_to_keypoints) is a scripted per-RoI loop resizing each heatmap to its box's size, "
            "which torch.onnx cannot express; export it with --format torchscript"
        )
    return None


def set_score_threshold(model: nn.Module, threshold: float) -> None:
    """Sets the score threshold of the detector's test-time output (it is traced into the artifact)."""
    if not 0.0 <= threshold < 1.0:
        raise ExportArgumentError(f"the score threshold must be in [0, 1), got {threshold}")
    if isinstance(model, GeneralizedRCNN):
        model.roi_heads.box_predictor.test_score_thresh = threshold
    elif hasattr(model, "test_score_thresh"):
        model.test_score_thresh = threshold
    else:
        raise ExportArgumentError(f"{type(model).__name__} has no test-time score threshold to set")


def load_detector(
    config_file: str | os.PathLike, weights: str | os.PathLike | None = None, overrides: Sequence[str] = ()
) -> tuple[Any, nn.Module]:
    """The detector of a Detectron2 lazy config (``key=value`` ``overrides`` applied), in eval mode on the
    CPU, with the detector ``weights`` (``model_final.pth``, ``.safetensors``...) loaded by the runtime's
    checked loader (:func:`lgvit_engine.weights.load_weights`: every key with its shape, a
    :class:`lgvit.checkpoint.CheckpointError` naming what does not fit). Classification weights are
    refused (:class:`ExportArgumentError`): export a trained detector."""
    from detectron2.config import instantiate
    from lgvit_engine.weights import load_weights, read_weights_state_dict

    from .checkpoint import is_detector_state_dict
    from .engine import load_config

    cfg = load_config(os.fspath(config_file), list(overrides))
    model = instantiate(cfg.model).eval()
    if weights is not None:
        sd = read_weights_state_dict(weights)
        if not is_detector_state_dict(sd):
            raise ExportArgumentError(
                f"{os.fspath(weights)!r} holds classification weights (no 'backbone.' keys), not a "
                "detector's: export a trained detector (train_net.py writes model_final.pth), or convert "
                "it first with tools/convert_cls_to_det.py to export a detector with untrained heads"
            )
        load_weights(
            model, sd, what=f"{os.fspath(weights)!r} (for the detector of {os.fspath(config_file)!r})"
        )
    return cfg, model.eval()


def detector_outputs(model: nn.Module, inputs: list[dict[str, torch.Tensor]]) -> list[dict[str, Instances]]:
    """What the artifact computes, run eagerly: ``[{"instances": Instances}]`` for ``[{"image": (C, H, W)}]``
    (R-CNNs without the final resize, as Detectron2's tracing export; RetinaNet through ``forward``)."""
    if isinstance(model, GeneralizedRCNN):
        return [{"instances": r} for r in model.inference(inputs, do_postprocess=False)]
    return model(inputs)


@dataclass
class Check:
    """One verification: the input size, the number of detections (eager, artifact), the largest absolute
    difference per output field, and whether every value is within the tolerance."""

    size: tuple[int, int]
    detections: tuple[int, int]
    diffs: dict[str, float]
    ok: bool

    @property
    def largest(self) -> float:
        return max(self.diffs.values(), default=0.0)


@dataclass
class DetectorArtifact:
    """An exported detector: where and how it was written, the size it was traced at, how long it took,
    and ``runner`` (image ``(C, H, W)`` -> ``Instances``) that runs the written file."""

    path: str
    fmt: str
    size: tuple[int, int]
    seconds: float
    runner: Callable[[torch.Tensor], Instances]
    adapter: TracingAdapter
    checks: list[Check] = field(default_factory=list)


def example_image(size: tuple[int, int], channels: int = 3, seed: int = 0) -> torch.Tensor:
    """A random ``(channels, H, W)`` image with pixel values in [0, 255] (the detectors' input range)."""
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(channels, *size, generator=gen) * 255


def export_detector(
    model: nn.Module, path: str | os.PathLike, fmt: str = "torchscript", size: tuple[int, int] = (320, 480)
) -> DetectorArtifact:
    """Traces ``model`` (put in eval mode) at one ``size`` ``(H, W)`` image through Detectron2's
    :class:`TracingAdapter` and writes it to ``path`` as ``fmt`` (one of :data:`FORMATS`); the returned
    artifact's ``runner`` runs the written file (TorchScript reloaded, ONNX in ONNX Runtime)."""
    if fmt not in FORMATS:
        raise ExportArgumentError(f"a detector exports to one of {FORMATS}, got {fmt!r}")
    if fmt == "onnx" and onnx_problem(model):
        raise ExportArgumentError(onnx_problem(model))
    path = os.fspath(path)
    model = model.eval()
    image = example_image(size, len(model.pixel_mean))
    adapter = TracingAdapter(model, [{"image": image}], detector_outputs).eval()
    start = time.perf_counter()
    if fmt == "torchscript":
        traced = torch.jit.trace(adapter, (image,), check_trace=False)
        torch.jit.save(traced, path)
        loaded = torch.jit.load(path)

        def run(x: torch.Tensor) -> Instances:
            return adapter.outputs_schema(loaded(x))[0]["instances"]

        return DetectorArtifact(path, fmt, size, time.perf_counter() - start, run, adapter)
    try:
        import onnxruntime as ort
    except ImportError as e:  # the optional extra
        raise RuntimeError("ONNX export needs the export extra: pip install 'lgvit[export]'") from e
    with _integer_xor_for_onnx():
        torch.onnx.export(
            adapter,
            (image,),
            path,
            dynamo=False,  # Detectron2's route: the traced (TorchScript) graph
            opset_version=ONNX_OPSET,
            input_names=["image"],
            dynamic_axes={"image": {1: "height", 2: "width"}},
        )
    adapter.eval()  # the exporter restores the adapter's own (training) mode on the whole tree
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])

    def run_onnx(x: torch.Tensor) -> Instances:
        outputs = session.run(None, {"image": x.detach().cpu().numpy()})
        return adapter.outputs_schema(tuple(torch.from_numpy(o) for o in outputs))[0]["instances"]

    return DetectorArtifact(path, fmt, size, time.perf_counter() - start, run_onnx, adapter)


@contextlib.contextmanager
def _integer_xor_for_onnx() -> Iterator[None]:
    """While exporting: ``^`` on integer tensors as ONNX ``BitwiseXor`` (opset 18), which the TorchScript
    exporter writes for booleans only (RSIR's fixed token permutation hashes positions with it)."""

    def xor(g, a, b):
        bools = all(v.type().scalarType() == "Bool" for v in (a, b) if v.type().kind() == "TensorType")
        return g.op("Xor" if bools else "BitwiseXor", a, b)

    names = ("aten::__xor_", "aten::bitwise_xor")
    for name in names:
        torch.onnx.register_custom_op_symbolic(name, xor, ONNX_OPSET)
    try:
        yield
    finally:
        for name in names:
            torch.onnx.unregister_custom_op_symbolic(name, ONNX_OPSET)


def _fields(inst: Instances) -> dict[str, torch.Tensor]:
    return {k: (v.tensor if hasattr(v, "tensor") else v) for k, v in inst.get_fields().items()}


def _pairing(want: dict[str, torch.Tensor], got: dict[str, torch.Tensor]) -> torch.Tensor:
    """For each eager detection (in score order), the artifact detection of the same class with the
    closest box and score, each used once: detections with equal scores may leave NMS in either order."""
    n = len(want["scores"])
    cost = (want["pred_boxes"][:, None] - got["pred_boxes"][None]).abs().amax(-1)
    cost = cost + (want["scores"][:, None] - got["scores"][None]).abs()
    cost = cost.masked_fill(want["pred_classes"][:, None] != got["pred_classes"][None], float("inf"))
    order = torch.empty(n, dtype=torch.long)
    used = torch.zeros(n, dtype=torch.bool)
    for i in torch.argsort(want["scores"], descending=True, stable=True).tolist():
        j = int(cost[i].masked_fill(used, float("inf")).argmin())
        if used[j]:  # only classes that differ are left: pair it anyway, the classes field shows it
            j = int((~used).nonzero()[0])
        order[i] = j
        used[j] = True
    return order


def compare_instances(
    want: Instances, got: Instances, atol: float = 1e-4, rtol: float = 1e-5
) -> tuple[dict[str, float], bool]:
    """Largest ``|artifact - eager|`` per field after pairing the detections (:func:`_pairing`), and
    whether every value is within ``atol + rtol * |eager|``. Different numbers of detections or fields
    are a mismatch (difference ``inf``)."""
    a, b = _fields(want), _fields(got)
    if len(want) != len(got) or set(a) != set(b):
        return {"detections": float("inf")}, False
    if len(want) == 0:
        return {k: 0.0 for k in a}, True
    order = _pairing(a, b)
    diffs, ok = {}, True
    for k, x in a.items():
        y = b[k][order]
        if x.shape != y.shape:
            diffs[k], ok = float("inf"), False
            continue
        err = (y.double() - x.double()).abs()
        diffs[k] = err.max().item()
        ok = ok and bool((err <= atol + rtol * x.double().abs()).all())
    return diffs, ok


def verify_detector(
    model: nn.Module,
    artifact: DetectorArtifact,
    sizes: Sequence[tuple[int, int]],
    atol: float = 1e-4,
    rtol: float = 1e-5,
    seed: int = 1,
) -> list[Check]:
    """Runs the artifact and the eager detector on a random image at each ``(H, W)`` of ``sizes``;
    appends a :class:`Check` per size to ``artifact.checks`` and returns the new ones."""
    checks = []
    for i, (h, w) in enumerate(sizes):
        x = example_image((h, w), len(model.pixel_mean), seed + i)
        with torch.no_grad():
            want = detector_outputs(model.eval(), [{"image": x}])[0]["instances"]
            got = artifact.runner(x)
        diffs, ok = compare_instances(want, got, atol, rtol)
        checks.append(Check((h, w), (len(want), len(got)), diffs, ok))
    artifact.checks.extend(checks)
    return checks


def export_from_config(
    config_file: str | os.PathLike,
    weights: str | os.PathLike | None,
    path: str | os.PathLike,
    fmt: str = "torchscript",
    size: tuple[int, int] = (320, 480),
    check_sizes: Sequence[tuple[int, int]] = ((480, 320), (301, 437)),
    score_thresh: float | None = None,
    atol: float = 1e-4,
    rtol: float = 1e-5,
) -> tuple[nn.Module, DetectorArtifact]:
    """Config + weights -> artifact + verification: :func:`load_detector`, the score threshold (traced into
    the artifact; default: the config's), :func:`export_detector` at ``size``, and :func:`verify_detector`
    at ``size`` and ``check_sizes`` (the results in ``artifact.checks``). Returns the eager detector and
    the artifact. Raises :class:`ExportArgumentError` / :class:`~lgvit.checkpoint.CheckpointError` /
    :class:`~lgvit_engine.ConfigError` for arguments that cannot work, before tracing anything."""
    import warnings

    _, model = load_detector(config_file, weights)
    if score_thresh is not None:
        set_score_threshold(model, score_thresh)
    with warnings.catch_warnings():  # TracerWarnings: the input checks' verdicts are frozen (harmless)
        warnings.simplefilter("ignore")
        artifact = export_detector(model, path, fmt, size)
    verify_detector(model, artifact, [size, *[s for s in check_sizes if s != size]], atol, rtol)
    return model, artifact
