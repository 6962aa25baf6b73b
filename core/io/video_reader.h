// Echo loops stored as ordinary video files (AVI, MP4), decoded with FFmpeg.
#pragma once
#include <string>
#include <vector>

#include "common/types.h"

namespace e2e {

bool looksLikeVideoFile(const std::string& path);  // by extension: .avi .mp4 .mov .mkv
EchoInfo readVideoInfo(const std::string& path);   // fps from the container (FrameRateSource::Container)
EchoFrames readVideoFrames(const std::string& path, int first = 0, int count = -1);

// The frames at `indices` (any order, repeats allowed), in that order: decodes from the start, keeps
// only the listed frames and stops after the last of them, so memory follows the list. When the
// video ends before the largest index: with `available`, it receives the number of frames in the
// video and the result has no frames; without it, a ReadError (a cut file, fewer frames than the
// container declares, is a ReadError either way).
EchoFrames readVideoFrames(const std::string& path, const std::vector<int>& indices, int* available = nullptr);

}  // namespace e2e
