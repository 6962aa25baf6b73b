#include "net/net_common.h"

#include <cstdio>
#include <cstdlib>
#include <mutex>

#include <dcmtk/oflog/oflog.h>

namespace e2e::net {

std::string Peer::str() const { return aet + "@" + host + ":" + std::to_string(port); }

bool validAeTitle(const std::string& aet) {
  if (aet.empty() || aet.size() > 16) return false;
  bool nonSpace = false;
  for (unsigned char c : aet) {
    if (c < 0x20 || c > 0x7e || c == '\\') return false;
    if (c != ' ') nonSpace = true;
  }
  return nonSpace;
}

Peer parsePeer(const std::string& text) {
  const auto at = text.rfind('@');
  const auto colon = text.rfind(':');
  if (at == std::string::npos || colon == std::string::npos || colon < at)
    throw std::invalid_argument("peer '" + text + "' is not AET@HOST:PORT");
  Peer p;
  p.aet = text.substr(0, at);
  p.host = text.substr(at + 1, colon - at - 1);
  const std::string port = text.substr(colon + 1);
  if (!validAeTitle(p.aet))
    throw std::invalid_argument("peer '" + text + "': AE title must be 1-16 printable characters");
  if (p.host.empty()) throw std::invalid_argument("peer '" + text + "': no host");
  long v = 0;
  for (char c : port) {
    if (c < '0' || c > '9' || v > 65535) throw std::invalid_argument("peer '" + text + "': port must be 1-65535");
    v = v * 10 + (c - '0');
  }
  if (port.empty() || v < 1 || v > 65535) throw std::invalid_argument("peer '" + text + "': port must be 1-65535");
  p.port = static_cast<int>(v);
  return p;
}

AllowedPeer parseAllowedPeer(const std::string& text) {
  const auto at = text.rfind('@');
  if (at == std::string::npos || at == 0 || at + 1 >= text.size())
    throw std::invalid_argument("allowed peer '" + text + "' is not AET@HOST");
  AllowedPeer a{text.substr(0, at), text.substr(at + 1)};
  if (!validAeTitle(a.aet))
    throw std::invalid_argument("allowed peer '" + text + "': AE title must be 1-16 printable characters");
  return a;
}

const char* toString(NetError::Kind k) {
  switch (k) {
    case NetError::Kind::Unreachable: return "unreachable";
    case NetError::Kind::Rejected: return "association rejected";
    case NetError::Kind::NoContext: return "no presentation context";
    case NetError::Kind::Timeout: return "timeout";
    case NetError::Kind::Tls: return "TLS";
    default: return "protocol error";
  }
}

const std::vector<std::string>& storageSopClasses() {
  static const std::vector<std::string> v = {
      "1.2.840.10008.5.1.4.1.1.9.1.1",   // 12-lead ECG Waveform
      "1.2.840.10008.5.1.4.1.1.9.1.2",   // General ECG Waveform
      "1.2.840.10008.5.1.4.1.1.9.1.3",   // Ambulatory ECG Waveform
      "1.2.840.10008.5.1.4.1.1.9.1.4",   // General 32-bit ECG Waveform
      "1.2.840.10008.5.1.4.1.1.9.2.1",   // Hemodynamic Waveform
      "1.2.840.10008.5.1.4.1.1.9.3.1",   // Basic Cardiac Electrophysiology Waveform
      "1.2.840.10008.5.1.4.1.1.9.5.1",   // Arterial Pulse Waveform
      "1.2.840.10008.5.1.4.1.1.9.6.1",   // Respiratory Waveform
      "1.2.840.10008.5.1.4.1.1.9.6.2",   // Multi-channel Respiratory Waveform
      "1.2.840.10008.5.1.4.1.1.9.7.1",   // Routine Scalp EEG (General waveform family)
      "1.2.840.10008.5.1.4.1.1.3.1",     // Ultrasound Multi-frame Image
      "1.2.840.10008.5.1.4.1.1.6.1",     // Ultrasound Image
      "1.2.840.10008.5.1.4.1.1.3",       // Ultrasound Multi-frame Image (Retired)
      "1.2.840.10008.5.1.4.1.1.6",       // Ultrasound Image (Retired)
      "1.2.840.10008.5.1.4.1.1.104.1",   // Encapsulated PDF
      "1.2.840.10008.5.1.4.1.1.88.33",   // Comprehensive SR
      "1.2.840.10008.5.1.4.1.1.7",       // Secondary Capture Image
  };
  return v;
}

bool isStorageSopClass(const std::string& uid) {
  for (const auto& s : storageSopClasses())
    if (s == uid) return true;
  return false;
}

const std::vector<std::string>& decodableTransferSyntaxes() {
  static const std::vector<std::string> v = {
      "1.2.840.10008.1.2.1",     // Explicit VR Little Endian
      "1.2.840.10008.1.2",       // Implicit VR Little Endian
      "1.2.840.10008.1.2.5",     // RLE Lossless
      "1.2.840.10008.1.2.4.50",  // JPEG Baseline (process 1)
      "1.2.840.10008.1.2.4.51",  // JPEG Extended (process 2 & 4)
      "1.2.840.10008.1.2.4.57",  // JPEG Lossless (process 14)
      "1.2.840.10008.1.2.4.70",  // JPEG Lossless, first-order prediction (process 14 SV1)
  };
  return v;
}

const std::vector<std::string>& acceptedTransferSyntaxes() {
  static const std::vector<std::string> v = [] {
    std::vector<std::string> a = decodableTransferSyntaxes();
    for (const char* ts : {"1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91",   // JPEG 2000
                           "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81"})  // JPEG-LS
      a.emplace_back(ts);
    return a;
  }();
  return v;
}

std::string dimseStatusText(std::uint16_t s) {
  char hex[16];
  std::snprintf(hex, sizeof hex, " (0x%04X)", static_cast<unsigned>(s));
  std::string t;
  if (s == 0x0000) t = "Success";
  else if (s == 0xFF00 || s == 0xFF01) t = "Pending";
  else if (s == 0xFE00) t = "Cancelled";
  else if (s == 0x0111) t = "Failure: duplicate SOP Instance (already stored with different content)";
  else if (s == 0x0122) t = "Refused: SOP class not supported";
  else if (s == 0x0124) t = "Refused: not authorized";
  else if (s == 0xA701 || s == 0xA702) t = "Refused: out of resources (sub-operations)";
  else if ((s & 0xFF00) == 0xA700) t = "Refused: out of resources";
  else if (s == 0xA801) t = "Refused: move destination unknown";
  else if ((s & 0xFF00) == 0xA900) t = "Error: data set does not match SOP class";
  else if (s == 0xB000) t = "Warning: sub-operations complete, one or more failures";
  else if ((s & 0xF000) == 0xB000) t = "Warning";
  else if ((s & 0xF000) == 0xC000) t = "Error: cannot understand / unable to process";
  else if (s == 0x0001 || s == 0x0107 || s == 0x0116) t = "Warning";
  else t = "Failure";
  return t + hex;
}

void initNetworking() {
  static std::once_flag once;
  std::call_once(once, [] {
    for (const char* name :
         {"dcmtk.dcmnet", "dcmtk.dcmtls", "dcmtk.dcmdata", "dcmtk.dcmjpeg", "dcmtk.dcmimgle"})
      OFLog::getLogger(name).setLogLevel(OFLogger::OFF_LOG_LEVEL);
    setenv("TCP_NODELAY", "1", 0);
  });
}

}  // namespace e2e::net
