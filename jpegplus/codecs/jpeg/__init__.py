"""JPEG and what only JPEG has: the codec adapter (:mod:`~jpegplus.codecs.jpeg.codec`), its quantization
tables and the networks' condition (:mod:`~jpegplus.codecs.jpeg.quantization`), saliency dead zones per 8×8
block (:mod:`~jpegplus.codecs.jpeg.regionquant`), the consistency projection of restored JPEGs
(:mod:`~jpegplus.codecs.jpeg.consistency`), the marker-segment reader (:mod:`~jpegplus.codecs.jpeg.markers`), the
reading of files that lack only their end marker (:mod:`~jpegplus.codecs.jpeg.ending`) and what a file holds after
its picture (:mod:`~jpegplus.codecs.jpeg.appended`: an MPO's further pictures, a motion photo's video)."""
