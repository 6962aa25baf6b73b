// Echo loops stored as ordinary video files (AVI, MP4), decoded with FFmpeg.
#pragma once
#include <string>

#include "common/types.h"

namespace e2e {

bool looksLikeVideoFile(const std::string& path);  // by extension: .avi .mp4 .mov .mkv
EchoInfo readVideoInfo(const std::string& path);   // fps from the container (FrameRateSource::Container)
EchoFrames readVideoFrames(const std::string& path, int first = 0, int count = -1);

}  // namespace e2e
