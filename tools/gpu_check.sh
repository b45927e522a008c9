#!/usr/bin/env bash
# The figures only a GPU gives, in one run sized for a lent device's few minutes (most valuable first):
#   probe     tools/probe_gpu.py: every family on the GPU vs the CPU (float32, TF32 off), and flex_attention
#             vs the package's SALG intra-region attention (exactness, time, memory)
#   eager     tools/benchmark.py --sections eager bf16: the speed table vs Swin-T, float32 and bf16 autocast
#   compiled  tools/benchmark.py --sections compiled (compilation takes minutes: a separate call)
# Usage: bash tools/gpu_check.sh [probe] [eager] [compiled]     (default: probe eager; --help: this text)
# Environment: DEVICE (default cuda), OUT (results folder, default gpu_check_out), INFER_BATCH / TRAIN_BATCH
# (default 64 / 32), ROUNDS (default 5), SITE (a folder of Python packages put first on the path, e.g. the
# pinned timm copied there from .venv when the machine's own timm differs).
# A dry run of the whole logic on a CPU: DEVICE=cpu INFER_BATCH=2 TRAIN_BATCH=2 ROUNDS=1 bash tools/gpu_check.sh
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
DEVICE="${DEVICE:-cuda}"
OUT="${OUT:-gpu_check_out}"
INFER_BATCH="${INFER_BATCH:-64}"
TRAIN_BATCH="${TRAIN_BATCH:-32}"
ROUNDS="${ROUNDS:-5}"
export PYTHONPATH="${SITE:+$SITE:}$ROOT${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1
PY="${PYTHON:-python3}"
parts=("$@")
[ ${#parts[@]} -eq 0 ] && parts=(probe eager)
for part in "${parts[@]}"; do
    case "$part" in
        probe | eager | compiled) ;;
        -h | --help) sed -n '2,/^set /p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown part '$part': choose from probe, eager, compiled (--help explains them)" >&2; exit 2 ;;
    esac
done
status=0
mkdir -p "$OUT"
"$PY" -c "import torch, timm; print('torch', torch.__version__, 'timm', timm.__version__, 'cuda', torch.cuda.is_available(), torch.cuda.get_device_name() if torch.cuda.is_available() else '')" | tee "$OUT/env.txt"
bench=("$PY" tools/benchmark.py --device "$DEVICE" --infer-batch "$INFER_BATCH" --train-batch "$TRAIN_BATCH"
       --rounds "$ROUNDS" --iters 10 --train-iters 5)
for part in "${parts[@]}"; do
    echo "== $part ($(date +%T))"
    case "$part" in
        probe) "$PY" tools/probe_gpu.py --device "$DEVICE" --batch "$TRAIN_BATCH" --out "$OUT/probe.md" ;;
        eager) "${bench[@]}" --sections eager bf16 --out "$OUT/eager" ;;
        compiled) "${bench[@]}" --sections compiled --out "$OUT/compiled" ;;
    esac || status=1
done
echo "== done ($(date +%T)), results in $OUT"
exit $status
