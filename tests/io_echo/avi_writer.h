// Small AVI files for the video reader tests (no video files are in the shared data): libavformat
// writes `frames` frames of the given codec and pixel format, and fill(frame, f) draws frame f.
#pragma once
#include <functional>
#include <string>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
}

namespace e2e::test {

struct AviSpec {
  AVCodecID codec = AV_CODEC_ID_MJPEG;
  AVPixelFormat pixFmt = AV_PIX_FMT_YUVJ420P;
  int width = 64, height = 48, frames = 1;
  int fpsNum = 25, fpsDen = 1;
  bool fixedQuality = false;  // MJPEG at a fixed quantiser (q 2): near-lossless
};

// False when the encoder is missing or a step fails.
inline bool writeTestAvi(const std::string& path, const AviSpec& s, const std::function<void(AVFrame*, int)>& fill) {
  const AVCodec* codec = avcodec_find_encoder(s.codec);
  if (!codec) return false;
  AVFormatContext* fmt = nullptr;
  if (avformat_alloc_output_context2(&fmt, nullptr, "avi", path.c_str()) < 0 || !fmt) return false;
  AVStream* st = avformat_new_stream(fmt, nullptr);
  AVCodecContext* ctx = avcodec_alloc_context3(codec);
  ctx->width = s.width;
  ctx->height = s.height;
  ctx->time_base = AVRational{s.fpsDen, s.fpsNum};
  ctx->framerate = AVRational{s.fpsNum, s.fpsDen};
  ctx->pix_fmt = s.pixFmt;
  if (s.fixedQuality) {
    ctx->flags |= AV_CODEC_FLAG_QSCALE;
    ctx->global_quality = FF_QP2LAMBDA * 2;
  }
  if (fmt->oformat->flags & AVFMT_GLOBALHEADER) ctx->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  bool ok = avcodec_open2(ctx, codec, nullptr) >= 0;
  if (ok) {
    avcodec_parameters_from_context(st->codecpar, ctx);
    st->time_base = ctx->time_base;
    st->avg_frame_rate = ctx->framerate;
    ok = avio_open(&fmt->pb, path.c_str(), AVIO_FLAG_WRITE) >= 0 && avformat_write_header(fmt, nullptr) >= 0;
  }
  AVFrame* fr = av_frame_alloc();
  AVPacket* pkt = av_packet_alloc();
  if (ok) {
    fr->format = ctx->pix_fmt;
    fr->width = s.width;
    fr->height = s.height;
    av_frame_get_buffer(fr, 0);
    auto drain = [&] {
      while (avcodec_receive_packet(ctx, pkt) == 0) {
        av_packet_rescale_ts(pkt, ctx->time_base, st->time_base);
        pkt->stream_index = st->index;
        av_interleaved_write_frame(fmt, pkt);
      }
    };
    for (int f = 0; f < s.frames; ++f) {
      av_frame_make_writable(fr);
      fill(fr, f);
      fr->pts = f;
      avcodec_send_frame(ctx, fr);
      drain();
    }
    avcodec_send_frame(ctx, nullptr);
    drain();
    av_write_trailer(fmt);
  }
  if (fmt->pb) avio_closep(&fmt->pb);
  av_packet_free(&pkt);
  av_frame_free(&fr);
  avcodec_free_context(&ctx);
  avformat_free_context(fmt);
  return ok;
}

}  // namespace e2e::test
