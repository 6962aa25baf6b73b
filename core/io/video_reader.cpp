// Echo loops in ordinary video files (AVI, MP4, ...), decoded with FFmpeg.
//
// Frames come out as GRAY8 when the decoded pixel format is grey, else RGB24.
// fps comes from the stream (avg_frame_rate, else r_frame_rate, else 1/time_base
// where sensible) with FrameRateSource::Container; when none is usable: 30 fps,
// FrameRateSource::Default and a warning.
//
// Identity: a video carries no DICOM identity, so stable UIDs are synthesised from
// the SHA-256 of the file content: sopInstanceUid = "2.25." + decimal of the first
// 128 bits of SHA-256(file); seriesUid and studyUid the same construction applied to
// SHA-256("series:" + hex) and SHA-256("study:" + hex). patientId = "VID-" + the first
// 12 hex digits, modality "US", seriesDescription = file name without extension.
// The view label is taken from the file name when it names a view (ViewLabelSource::Filename).
#include "io/video_reader.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <memory>

#include "common/hash.h"
#include "io/dicom_echo.h"  // echoViewFromText (header-only)

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>
}

namespace e2e {

namespace {

std::string avErr(int code) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(code, buf, sizeof buf);
  return buf;
}

struct FormatCloser {
  void operator()(AVFormatContext* c) const { avformat_close_input(&c); }
};
struct CodecCloser {
  void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
struct FrameFree {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};
struct PacketFree {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct SwsFree {
  void operator()(SwsContext* s) const { sws_freeContext(s); }
};

struct Opened {
  std::unique_ptr<AVFormatContext, FormatCloser> fmt;
  int stream = -1;
  AVStream* st = nullptr;
};

Opened openVideo(const std::string& path) {
  if (!std::filesystem::is_regular_file(path)) throw ReadError(path, "cannot open file (not found)");
  Opened o;
  AVFormatContext* raw = nullptr;
  int r = avformat_open_input(&raw, path.c_str(), nullptr, nullptr);
  if (r < 0) throw ReadError(path, "not a readable video file (" + avErr(r) + ")");
  o.fmt.reset(raw);
  r = avformat_find_stream_info(raw, nullptr);
  if (r < 0) throw ReadError(path, "cannot read video stream information (" + avErr(r) + ")");
  r = av_find_best_stream(raw, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  if (r < 0) throw ReadError(path, "no video stream in the file");
  o.stream = r;
  o.st = raw->streams[r];
  if (o.st->codecpar->width <= 0 || o.st->codecpar->height <= 0)
    throw ReadError(path, "video stream without a valid frame size");
  return o;
}

bool isGrey(AVPixelFormat f) {
  return f == AV_PIX_FMT_GRAY8 || f == AV_PIX_FMT_GRAY16LE || f == AV_PIX_FMT_GRAY16BE || f == AV_PIX_FMT_MONOBLACK ||
         f == AV_PIX_FMT_MONOWHITE || f == AV_PIX_FMT_GRAY10LE || f == AV_PIX_FMT_GRAY12LE;
}

double streamFps(const AVStream* st) {
  auto ok = [](AVRational q) { return q.num > 0 && q.den > 0; };
  if (ok(st->avg_frame_rate)) return av_q2d(st->avg_frame_rate);
  if (ok(st->r_frame_rate)) return av_q2d(st->r_frame_rate);
  return 0.0;
}

// "2.25." + decimal of the first 128 bits of a hex SHA-256.
std::string uidFromHex(const std::string& hex) {
  unsigned __int128 v = 0;
  for (int i = 0; i < 32 && i < static_cast<int>(hex.size()); ++i) {
    const char c = hex[static_cast<std::size_t>(i)];
    const unsigned d = std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : (std::tolower(c) - 'a' + 10);
    v = (v << 4) | d;
  }
  std::string dec;
  if (v == 0) dec = "0";
  while (v > 0) {
    dec.push_back(static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  }
  std::reverse(dec.begin(), dec.end());
  return "2.25." + dec;
}

// Decodes frames [first, first+count) (count < 0: all). Calls sink(frame) for each.
template <class Sink>
void decodeFrames(const std::string& path, Opened& o, int first, int count, Sink sink) {
  const AVCodec* codec = avcodec_find_decoder(o.st->codecpar->codec_id);
  if (!codec)
    throw ReadError(path, std::string("no decoder for video codec ") + avcodec_get_name(o.st->codecpar->codec_id));
  std::unique_ptr<AVCodecContext, CodecCloser> ctx(avcodec_alloc_context3(codec));
  if (!ctx) throw ReadError(path, "out of memory");
  int r = avcodec_parameters_to_context(ctx.get(), o.st->codecpar);
  if (r < 0) throw ReadError(path, "bad codec parameters (" + avErr(r) + ")");
  ctx->thread_count = 1;
  r = avcodec_open2(ctx.get(), codec, nullptr);
  if (r < 0) throw ReadError(path, "cannot open video decoder (" + avErr(r) + ")");

  std::unique_ptr<AVPacket, PacketFree> pkt(av_packet_alloc());
  std::unique_ptr<AVFrame, FrameFree> frame(av_frame_alloc());
  int index = 0;
  bool done = false;
  auto drain = [&]() {
    while (!done) {
      int rr = avcodec_receive_frame(ctx.get(), frame.get());
      if (rr == AVERROR(EAGAIN) || rr == AVERROR_EOF) return;
      if (rr < 0) throw ReadError(path, "video decoding failed (corrupt or truncated data) at frame " + std::to_string(index) + " (" + avErr(rr) + ")");
      if (index >= first && (count < 0 || index < first + count)) sink(frame.get());
      ++index;
      if (count >= 0 && index >= first + count) done = true;
      av_frame_unref(frame.get());
    }
  };
  while (!done) {
    r = av_read_frame(o.fmt.get(), pkt.get());
    if (r == AVERROR_EOF) break;
    if (r < 0) throw ReadError(path, "cannot read video data (" + avErr(r) + "); truncated file?");
    if (pkt->stream_index == o.stream) {
      r = avcodec_send_packet(ctx.get(), pkt.get());
      av_packet_unref(pkt.get());
      if (r < 0 && r != AVERROR(EAGAIN))
        throw ReadError(path, "corrupt or truncated video data at frame " + std::to_string(index) + " (" + avErr(r) + ")");
      drain();
    } else {
      av_packet_unref(pkt.get());
    }
  }
  if (!done) {
    avcodec_send_packet(ctx.get(), nullptr);
    drain();
  }
}

}  // namespace

bool looksLikeVideoFile(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".avi" || ext == ".mp4" || ext == ".mov" || ext == ".mkv" || ext == ".m4v" || ext == ".wmv" ||
         ext == ".mpg" || ext == ".mpeg" || ext == ".webm";
}

EchoInfo readVideoInfo(const std::string& path) {
  Opened o = openVideo(path);
  EchoInfo info;
  info.sourcePath = path;
  info.format = SourceFormat::Video;
  const AVCodecParameters* par = o.st->codecpar;
  info.rows = par->height;
  info.cols = par->width;
  const auto pf = static_cast<AVPixelFormat>(par->format);
  const bool grey = isGrey(pf);
  info.samplesPerPixel = grey ? 1 : 3;
  info.photometric = grey ? "MONOCHROME2" : "RGB";
  info.bitsAllocated = info.bitsStored = 8;
  info.transferSyntaxUid.clear();
  const char* pfName = av_get_pix_fmt_name(pf);
  info.warnings.clear();

  info.fps = streamFps(o.st);
  if (info.fps > 0 && info.fps < 1000) {
    info.fpsSource = FrameRateSource::Container;
  } else {
    info.fps = 30.0;
    info.fpsSource = FrameRateSource::Default;
    info.warnings.push_back("video stream has no usable frame rate; assuming 30 fps");
  }

  // Frame count: the container's count when it has one, else count the packets.
  long long n = o.st->nb_frames;
  if (n <= 0) {
    n = 0;
    std::unique_ptr<AVPacket, PacketFree> pkt(av_packet_alloc());
    while (av_read_frame(o.fmt.get(), pkt.get()) >= 0) {
      if (pkt->stream_index == o.stream) ++n;
      av_packet_unref(pkt.get());
    }
  }
  info.frames = static_cast<int>(n);
  if (info.frames <= 0) throw ReadError(path, "video stream contains no frames");

  // Identity synthesised from the content hash.
  const std::string hex = sha256File(path);
  Identity& id = info.identity;
  id.sopInstanceUid = uidFromHex(hex);
  id.seriesUid = uidFromHex(sha256Hex("series:" + hex));
  id.studyUid = uidFromHex(sha256Hex("study:" + hex));
  id.patientId = "VID-" + hex.substr(0, 12);
  id.modality = "US";
  id.seriesDescription = std::filesystem::path(path).stem().string();
  id.manufacturer = std::string(avcodec_get_name(par->codec_id)) + (pfName ? std::string(" ") + pfName : "");

  const std::string view = echoViewFromText(id.seriesDescription);
  if (!view.empty()) {
    info.viewLabel = view;
    info.viewSource = ViewLabelSource::Filename;
  }
  return info;
}

namespace {

// Decoded frames -> 8-bit grey or RGB rows of `out`.
class FrameConverter {
 public:
  FrameConverter(const std::string& path, const AVCodecParameters* par, EchoFrames& out) : path_(path), out_(out) {
    out.rows = par->height;
    out.cols = par->width;
    const bool grey = isGrey(static_cast<AVPixelFormat>(par->format));
    out.channels = grey ? 1 : 3;
    dstFmt_ = grey ? AV_PIX_FMT_GRAY8 : AV_PIX_FMT_RGB24;
  }
  std::size_t frameBytes() const { return static_cast<std::size_t>(out_.rows) * out_.cols * out_.channels; }
  void convert(AVFrame* f, std::uint8_t* dstPixels) {
    if (f->width != out_.cols || f->height != out_.rows)
      throw ReadError(path_, "video frame size changes within the stream, not supported");
    if (!sws_ || swsW_ != f->width || swsH_ != f->height || swsFmt_ != f->format) {
      sws_.reset(sws_getContext(f->width, f->height, static_cast<AVPixelFormat>(f->format), out_.cols, out_.rows,
                                dstFmt_, SWS_BILINEAR | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT, nullptr, nullptr,
                                nullptr));
      if (!sws_) throw ReadError(path_, "cannot convert the video pixel format to 8-bit RGB/grey");
      swsW_ = f->width;
      swsH_ = f->height;
      swsFmt_ = f->format;
    }
    uint8_t* dst[4] = {dstPixels, nullptr, nullptr, nullptr};
    int dstStride[4] = {out_.cols * out_.channels, 0, 0, 0};
    sws_scale(sws_.get(), f->data, f->linesize, 0, f->height, dst, dstStride);
  }

 private:
  const std::string& path_;
  EchoFrames& out_;
  AVPixelFormat dstFmt_ = AV_PIX_FMT_RGB24;
  std::unique_ptr<SwsContext, SwsFree> sws_;
  int swsW_ = 0, swsH_ = 0, swsFmt_ = -1;
};

// Fewer frames decoded than the container declares from `first` on means a cut file.
void checkDeclared(const std::string& path, const AVStream* st, int first, int count, int decoded) {
  const long long declared = st->nb_frames;
  if (declared > 0 && first < declared) {
    const long long want = count < 0 ? declared - first : std::min<long long>(count, declared - first);
    if (decoded < want)
      throw ReadError(path, "truncated video: decoded " + std::to_string(decoded) + " of " + std::to_string(want) +
                                " frames the container declares");
  }
}

}  // namespace

EchoFrames readVideoFrames(const std::string& path, int first, int count) {
  if (first < 0) throw ReadError(path, "negative first frame " + std::to_string(first));
  Opened o = openVideo(path);
  EchoFrames out;
  FrameConverter conv(path, o.st->codecpar, out);
  if (count == 0) return out;
  decodeFrames(path, o, first, count, [&](AVFrame* f) {
    const std::size_t off = out.pixels.size();
    out.pixels.resize(off + conv.frameBytes());
    conv.convert(f, out.pixels.data() + off);
    ++out.frames;
  });
  if (out.frames == 0)
    throw ReadError(path, "no frames decoded (first frame " + std::to_string(first) + " beyond the end of the video?)");
  checkDeclared(path, o.st, first, count, out.frames);
  return out;
}

EchoFrames readVideoFrames(const std::string& path, const std::vector<int>& indices, int* available) {
  for (int i : indices)
    if (i < 0) throw ReadError(path, "negative frame index " + std::to_string(i));
  Opened o = openVideo(path);
  EchoFrames out;
  FrameConverter conv(path, o.st->codecpar, out);
  if (indices.empty()) return out;
  const int last = *std::max_element(indices.begin(), indices.end());
  out.frames = static_cast<int>(indices.size());
  out.pixels.resize(conv.frameBytes() * indices.size());
  std::vector<std::vector<int>> slots(static_cast<std::size_t>(last) + 1);  // frame -> places in `out`
  for (std::size_t i = 0; i < indices.size(); ++i) slots[static_cast<std::size_t>(indices[i])].push_back(static_cast<int>(i));
  int index = 0;
  decodeFrames(path, o, 0, last + 1, [&](AVFrame* f) {
    const auto& where = slots[static_cast<std::size_t>(index++)];
    if (where.empty()) return;
    conv.convert(f, out.pixels.data() + conv.frameBytes() * static_cast<std::size_t>(where[0]));
    for (std::size_t k = 1; k < where.size(); ++k)
      std::memcpy(out.pixels.data() + conv.frameBytes() * static_cast<std::size_t>(where[k]),
                  out.pixels.data() + conv.frameBytes() * static_cast<std::size_t>(where[0]), conv.frameBytes());
  });
  if (index <= last) {
    checkDeclared(path, o.st, 0, -1, index);
    if (!available)
      throw ReadError(path, "frame " + std::to_string(last) + " beyond the end of the video (" +
                                std::to_string(index) + " frames)");
    *available = index;
    EchoFrames none;
    none.rows = out.rows;
    none.cols = out.cols;
    none.channels = out.channels;
    return none;
  }
  return out;
}

}  // namespace e2e
