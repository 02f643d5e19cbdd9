"""Neural networks of jpegplus: the compact (ComCNN) and reconstruction (RecCNN, RestoreNet) models."""

from jpegplus.models.comcnn import ComCNN
from jpegplus.models.reccnn import RecCNN
from jpegplus.models.restorenet import RestoreNet

RECONSTRUCTORS = {"RecCNN": RecCNN, "RestoreNet": RestoreNet}  # architecture name → class, as in the manifest

__all__ = ["RECONSTRUCTORS", "ComCNN", "RecCNN", "RestoreNet"]
