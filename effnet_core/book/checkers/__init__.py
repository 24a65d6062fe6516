"""Exercise checkers, one file per chapter, all reachable from here.

``from effnet_core.checkers import check_swish`` then ``check_swish(my_swish)``;
``check_swish.hint(1)`` for a nudge. See :mod:`effnet_core.checkers._core`.
"""

from ._core import EXERCISES, CheckFailed, Exercise, Result, expect, hint
from .b0 import check_feature_sizes, check_mbconv_params, check_search_reward, check_stage_macs  # noqa: F401
from .conv_cost import check_conv_macs, check_conv_params, check_roofline_point  # noqa: F401
from .intro import check_linear_params, check_param_report  # noqa: F401
from .mbconv import check_mbconv, check_mbconv_macs  # noqa: F401
from .progressive import (  # noqa: F401
    check_mixup_targets,
    check_resnet_for_progressive,
    check_schedule_cost,
    check_stage_value,
)
from .scaling import check_coefficients, check_matched_single, check_predict_macs, check_round_filters  # noqa: F401
from .se import check_gate_report, check_se  # noqa: F401
from .swish import check_swish, check_swish_grad, check_swish_minimum  # noqa: F401
from .v2 import check_conv_intensity as check_conv_intensity
from .v2 import check_fused_mbconv, check_fused_tradeoff  # noqa: F401

__all__ = ["EXERCISES", "CheckFailed", "Exercise", "Result", "expect", "hint"]
