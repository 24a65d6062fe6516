"""Class activation maps (CAM): where in the image the evidence for a class comes from.

For a network that ends in ``features -> global average pooling -> Linear`` the logit of
class ``c`` is ``sum_k w[c, k] * mean_xy F_k(x, y)``, so the map
``M_c(x, y) = sum_k w[c, k] * F_k(x, y)`` spreads that logit over positions (Zhou et al., 2016).
Works for every model with torchvision's structure (``model.features``, ``model.classifier``
ending in an ``nn.Linear``).

Introduced in the chapter "Progressive learning".
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ._checks import check_tensor, shape_errors


@torch.no_grad()
def class_activation_maps(
    model: nn.Module, images: torch.Tensor, classes: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """CAMs ``(B, H, W)`` scaled to [0, 1] per image, and the logits ``(B, num_classes)``.

    ``images`` are normalized float inputs ``(B, 3, H, W)``; ``classes`` picks the class
    of each map (default: the predicted class).
    """
    if not isinstance(model, nn.Module) or not hasattr(model, "features") or not hasattr(model, "classifier"):
        raise TypeError("model must have .features and .classifier (torchvision's structure)")
    linear = [m for m in model.classifier.modules() if isinstance(m, nn.Linear)]
    if not linear:
        raise TypeError("model.classifier must contain an nn.Linear")
    images = check_tensor("images", images, ndim=4, floating=True)
    was_training = model.training
    model.eval()
    try:
        with shape_errors("images", tuple(images.shape)):
            fmap = model.features(images).float()
            logits = linear[-1](fmap.mean(dim=(2, 3)))
    finally:
        model.train(was_training)
    if classes is None:
        classes = logits.argmax(1)
    elif (not isinstance(classes, torch.Tensor) or classes.shape != (len(images),)
          or classes.is_floating_point() or classes.dtype == torch.bool
          or not bool(((classes >= 0) & (classes < linear[-1].out_features)).all())):
        raise ValueError(f"classes must be None or an integer tensor of {len(images)} class indices in "
                         f"[0, {linear[-1].out_features}), got {classes!r:.60}")
    cams = torch.einsum("bk,bkhw->bhw", linear[-1].weight[classes].float(), fmap)
    cams = F.interpolate(cams[:, None], size=images.shape[-2:], mode="bilinear")[:, 0]
    low = cams.flatten(1).amin(1).view(-1, 1, 1)
    high = cams.flatten(1).amax(1).view(-1, 1, 1)
    return (cams - low) / (high - low).clamp_min(1e-8), logits
