"""Neural networks of jpegplus: the compact (ComCNN) and reconstruction (RecCNN, RestoreNet) models."""

import functools
from collections.abc import Callable

from jpegplus.models.comcnn import ComCNN
from jpegplus.models.folded import FoldedResidualNet
from jpegplus.models.reccnn import RecCNN
from jpegplus.models.restorenet import RestoreNet
from jpegplus.models.upsample import upsample2x

# architecture name, as in the manifest → constructor. The lean RestoreNet has no residual pairs at its
# coarsest level: 4 of its 28 3×3 convolutions, 12% of a 768×512 decode, for 0.01 dB before fine-tuning.
# The deep one adds pairs at the quarter and eighth levels (3.2 M parameters, 34.6 against 23.7 GMAC), to grow
# from a trained lean one (``copy_weights(grow=True)``); it has not measured better (``weights/jpeg-enhance.md``).
RECONSTRUCTORS: dict[str, Callable[[], FoldedResidualNet]] = {
    "RecCNN": RecCNN,
    "RestoreNet": RestoreNet,
    "LeanRestoreNet": functools.partial(RestoreNet, bottleneck_pairs=0),
    "DeepRestoreNet": functools.partial(RestoreNet, pairs=(2, 3, 4), bottleneck_pairs=0),
    "SlimRestoreNet": functools.partial(RestoreNet, pairs=(2, 1, 0), bottleneck_pairs=0, decoder_pairs=(2, 2, 0)),
}

__all__ = ["RECONSTRUCTORS", "ComCNN", "RecCNN", "RestoreNet", "upsample2x"]
