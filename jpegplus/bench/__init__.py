"""``jpegplus bench``: rate-distortion and speed measurements with a report."""
