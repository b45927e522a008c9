"""The pure region helpers: partition round trip, padding masks, strict-mode equivalences."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

import lgvit
from lgvit.layers import region_padding_mask, region_partition, region_unpartition, region_window


@pytest.mark.parametrize(
    "hw,regional_hw,window", [((14, 21), (2, 3), 7), ((13, 17), (2, 3), 7), ((7, 9), (1, 1), (7, 9))]
)
def test_partition_round_trip(hw, regional_hw, window):
    local = torch.randn(2, 5, *hw)
    regional = torch.randn(2, 5, *regional_hw)
    tokens, local_hw = region_partition(regional, local, window)
    wh, ww = (window, window) if isinstance(window, int) else window
    assert tokens.shape == (2 * regional_hw[0] * regional_hw[1], 1 + wh * ww, 5)
    if regional_hw[1] > 1:  # region (0, 1) of image 1: its regional token, then its locals row-major
        r = regional_hw[0] * regional_hw[1] + 1
        torch.testing.assert_close(tokens[r, 0], regional[1, :, 0, 1])
        torch.testing.assert_close(tokens[r, 1], local[1, :, 0, ww])
        torch.testing.assert_close(tokens[r, 1 + ww], local[1, :, 1, ww])
    back_r, back_l = region_unpartition(tokens, 2, regional_hw, local_hw, window)
    torch.testing.assert_close(back_r, regional)
    torch.testing.assert_close(back_l, local)


def test_partition_rejects_local_map_larger_than_regions():
    with pytest.raises(ValueError, match="larger than the regional grid"):
        region_partition(torch.randn(1, 4, 1, 1), torch.randn(1, 4, 8, 8), 7)


def test_no_mask_without_padding():
    assert region_padding_mask((2, 3), (14, 21), 7) is None
    assert region_padding_mask((2, 3), (14, 21), 7, strict=True) is None


def test_strict_mask_hides_exactly_the_padded_tokens():
    mask = region_padding_mask((2, 3), (13, 17), 7, strict=True)  # pad 1 row, 4 columns
    assert mask.shape == (6, 50, 50)
    valid = mask.any(-1)  # a token that can attend anything is a real token
    tokens = valid[:, 1:].reshape(2, 3, 7, 7)
    assert tokens[0, :2].all() and tokens[1, :2, :6].all() and not tokens[1, :2, 6].any()
    assert tokens[0, 2, :, :3].all() and not tokens[0, 2, :, 3:].any()
    assert int(valid[:, 1:].sum()) == 13 * 17
    assert torch.equal(mask, mask.transpose(1, 2))


def test_official_mask_quirk_in_the_bottom_right_region():
    # Official convert_to_flatten_layout: the bottom-right region is `right` with the block of
    # un-padded rows opened, so padded columns of valid rows stay visible there.
    official = region_padding_mask((2, 3), (13, 17), 7)
    strict = region_padding_mask((2, 3), (13, 17), 7, strict=True)
    assert torch.equal(official[:5], strict[:5])  # every other region agrees
    assert (official[5] & ~strict[5]).any()  # the quirk opens some padded tokens
    assert not (strict[5] & ~official[5]).any()


def test_region_window_clips_only_lone_regions():
    assert region_window((1, 1), (7, 7), 14, clip=True) == (7, 7)
    assert region_window((1, 2), (7, 20), 14, clip=True) == (7, 14)
    assert region_window((2, 2), (20, 20), 14, clip=True) == (14, 14)
    assert region_window((1, 1), (7, 7), 14, clip=False) == (14, 14)


@pytest.mark.parametrize("size", [(224, 224), (200, 264)])
def test_strict_clipping_equals_strict_padding(size, monkeypatch):
    """Shrinking a lone region is exact under the strict mask: same outputs as padding + masking."""
    model = lgvit.create_model("regionvit_ti_w14", num_classes=10, strict_padding_mask=True).eval()
    x = torch.randn(1, 3, *size)
    with torch.no_grad():
        clipped = model(x)
        monkeypatch.setattr("lgvit.models.regionvit.region_window", lambda r, l, w, clip: (w, w))
        padded = model(x)
    torch.testing.assert_close(clipped, padded, atol=1e-5, rtol=0)


def test_strict_equals_official_without_padding():
    official = lgvit.create_model("regionvit_ti", num_classes=10).eval()
    strict = lgvit.create_model("regionvit_ti", num_classes=10, strict_padding_mask=True).eval()
    strict.load_state_dict(official.state_dict())
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        torch.testing.assert_close(official(x), strict(x), atol=0, rtol=0)


def test_region_map_tool_writes_png(tmp_path, repo_root):
    out = tmp_path / "map.png"
    cmd = [
        sys.executable,
        str(repo_root / "tools/visualize_regions.py"),
        "--model",
        "regionvit_ti",
        "--height",
        "200",
        "--width",
        "264",
        "-o",
        str(out),
    ]
    subprocess.run(cmd, check=True, capture_output=True)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
