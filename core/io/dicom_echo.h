// DICOM ultrasound (echo) reader: US multi-frame and single-frame, incl. retired SOP classes.
#pragma once
#include <string>

#include "common/types.h"

namespace e2e {

bool isUltrasoundSopClass(const std::string& sopClassUid);

// Metadata only (no pixel decoding): geometry, timing with its source, regions, view label.
// Throws ReadError for non-DICOM, truncated or non-ultrasound files.
EchoInfo readDicomEchoInfo(const std::string& path);

// Decodes frames [first, first+count) (count < 0: to the end) to 8-bit grey or RGB.
// Handles uncompressed, RLE, JPEG baseline (YBR_FULL_422 -> RGB), PALETTE COLOR.
// Throws ReadError with a clear cause for undecodable data (JPEG 2000, odd palettes...).
EchoFrames readDicomEchoFrames(const std::string& path, int first = 0, int count = -1);

}  // namespace e2e
