"""``timeshap.explainer.feature_level`` (import path kept for drop-in use)."""

from .._explain import feat_explain_all, local_feat
from .._levels import feature_level, verify_feature_dict

__all__ = ["feat_explain_all", "feature_level", "local_feat", "verify_feature_dict"]
