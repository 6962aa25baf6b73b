// Reader for Philips resting ECG XML exports (root <restingecgdata>, namespace
// http://www3.medical.philips.com): SierraECG 1.03 (HeartStart / PageWriter), PhilipsECG 1.04 and
// 1.04.01 (PageWriter TC/Touch, TraceMasterVue, IntelliSpace ECG). Rhythm leads are decoded from
// base64 (XLI-compressed or plain 16-bit) and the stored residuals of III, aVR, aVL and aVF are
// turned back into those leads as the devices define them; representative beats become the
// MEDIAN group. No Qt.
#pragma once
#include <string>
#include <string_view>

#include "common/types.h"

namespace e2e {

// True when `head` (the first bytes of a file, UTF-8 or UTF-16 with or without BOM) is XML
// whose root element is <restingecgdata>.
bool looksLikePhilipsXml(std::string_view head);

// Reads a Philips XML ECG. Throws ReadError with a clear cause on anything it cannot read.
EcgRecord readPhilipsXml(const std::string& path);

}  // namespace e2e
