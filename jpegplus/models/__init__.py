"""Neural networks of jpegplus: the compact (ComCNN) and reconstruction (RecCNN) models."""

from jpegplus.models.comcnn import ComCNN
from jpegplus.models.reccnn import RecCNN

__all__ = ["ComCNN", "RecCNN"]
