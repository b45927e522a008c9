"""Pure building blocks shared by the lgvit model families."""

from timm.layers import LayerNorm2d  # timm's (lgvit passes eps=1e-5 where its norms used that default)

from .attention import Attention, attention
from .mask import capturing_graph, crop, mask_bias, mask_value, onnx_export_mode, onnx_exporting
from .patch_embed import ConvStem, PatchMerging, RegionEmbed, TokenDownsample
from .permute import (
    fixed_permutation,
    grouped_linear_windows,
    importance_permutation,
    inverse_permutation,
    permute_tokens,
    random_permutation,
    token_window_bias,
    token_window_partition,
    token_window_unpartition,
    unwindow_permuted_rows,
    window_permutation_rows,
    window_permuted_rows,
)
from .region import (
    region_padding_allowed,
    region_padding_mask,
    region_partition,
    region_unpartition,
    region_window,
)
from .relpos import (
    canonical_to_official_table,
    official_to_canonical_table,
    relative_position_index,
    resize_rel_pos_table,
)
from .semantic_regions import (
    assign_regions,
    coverage_candidates,
    coverage_index,
    coverage_membership,
    coverage_rows,
    pad_to_windows,
    region_means,
    region_membership,
    valid_mask,
    window_grid,
    window_regions,
    write_back_rows,
)

__all__ = [
    "Attention",
    "attention",
    "ConvStem",
    "LayerNorm2d",
    "PatchMerging",
    "capturing_graph",
    "mask_bias",
    "mask_value",
    "crop",
    "onnx_exporting",
    "onnx_export_mode",
    "region_padding_allowed",
    "RegionEmbed",
    "TokenDownsample",
    "canonical_to_official_table",
    "fixed_permutation",
    "importance_permutation",
    "inverse_permutation",
    "official_to_canonical_table",
    "permute_tokens",
    "random_permutation",
    "region_padding_mask",
    "region_partition",
    "region_unpartition",
    "region_window",
    "relative_position_index",
    "resize_rel_pos_table",
    "grouped_linear_windows",
    "token_window_bias",
    "token_window_partition",
    "token_window_unpartition",
    "unwindow_permuted_rows",
    "window_permutation_rows",
    "window_permuted_rows",
    # SALG segmentation (semantic_regions)
    "assign_regions",
    "coverage_candidates",
    "coverage_index",
    "coverage_membership",
    "coverage_rows",
    "write_back_rows",
    "pad_to_windows",
    "region_means",
    "region_membership",
    "valid_mask",
    "window_grid",
    "window_regions",
]
