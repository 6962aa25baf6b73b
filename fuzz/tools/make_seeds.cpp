// Writes the small seed files of fuzz/corpus/ that the shared data has no counterpart of (no video
// and no CardioSoft file there): `make fuzz_make_seeds && fuzz/fuzz_make_seeds <source>/fuzz/corpus`
// (build dir of a normal configure). The files are committed; this documents how they were made.
//   video/mjpeg_32x24_4f.avi, video/gray_32x24_4f.avi: 4 frames of 32 x 24, MJPEG and raw grey, 25 fps.
//   cardiosoft_xml/ludb1_1s.xml: LUDB record 1 cut to its first second (500 samples), with its median.
#include <cstdio>
#include <filesystem>
#include <string>

#include "io/wfdb.h"
#include "io_vendor_xml/cardiosoft_writer.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
}

namespace {

bool writeAvi(const std::string& path, AVCodecID codecId) {
  const AVCodec* codec = avcodec_find_encoder(codecId);
  if (!codec) return false;
  AVFormatContext* fmt = nullptr;
  if (avformat_alloc_output_context2(&fmt, nullptr, "avi", path.c_str()) < 0 || !fmt) return false;
  AVStream* st = avformat_new_stream(fmt, nullptr);
  AVCodecContext* ctx = avcodec_alloc_context3(codec);
  ctx->width = 32;
  ctx->height = 24;
  ctx->time_base = AVRational{1, 25};
  ctx->framerate = AVRational{25, 1};
  const bool mjpeg = codecId == AV_CODEC_ID_MJPEG;
  ctx->pix_fmt = mjpeg ? AV_PIX_FMT_YUVJ420P : AV_PIX_FMT_GRAY8;
  if (avcodec_open2(ctx, codec, nullptr) < 0) return false;
  avcodec_parameters_from_context(st->codecpar, ctx);
  st->time_base = ctx->time_base;
  st->avg_frame_rate = ctx->framerate;
  if (avio_open(&fmt->pb, path.c_str(), AVIO_FLAG_WRITE) < 0 || avformat_write_header(fmt, nullptr) < 0) return false;
  AVFrame* fr = av_frame_alloc();
  fr->format = ctx->pix_fmt;
  fr->width = ctx->width;
  fr->height = ctx->height;
  av_frame_get_buffer(fr, 0);
  AVPacket* pkt = av_packet_alloc();
  auto drain = [&] {
    while (avcodec_receive_packet(ctx, pkt) == 0) {
      av_packet_rescale_ts(pkt, ctx->time_base, st->time_base);
      pkt->stream_index = st->index;
      av_interleaved_write_frame(fmt, pkt);
    }
  };
  for (int f = 0; f < 4; ++f) {
    av_frame_make_writable(fr);
    for (int y = 0; y < ctx->height; ++y)
      for (int x = 0; x < ctx->width; ++x) fr->data[0][y * fr->linesize[0] + x] = (x > 4 * f && x < 4 * f + 8) ? 220 : 20;
    if (mjpeg)
      for (int p = 1; p <= 2; ++p)
        for (int y = 0; y < ctx->height / 2; ++y)
          for (int x = 0; x < ctx->width / 2; ++x) fr->data[p][y * fr->linesize[p] + x] = 128;
    fr->pts = f;
    avcodec_send_frame(ctx, fr);
    drain();
  }
  avcodec_send_frame(ctx, nullptr);
  drain();
  av_write_trailer(fmt);
  avio_closep(&fmt->pb);
  av_packet_free(&pkt);
  av_frame_free(&fr);
  avcodec_free_context(&ctx);
  avformat_free_context(fmt);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_make_seeds CORPUS_DIR\n");
    return 2;
  }
  const fs::path out = argv[1];
  fs::create_directories(out / "video");
  fs::create_directories(out / "cardiosoft_xml");
  if (!writeAvi((out / "video/mjpeg_32x24_4f.avi").string(), AV_CODEC_ID_MJPEG) ||
      !writeAvi((out / "video/gray_32x24_4f.avi").string(), AV_CODEC_ID_RAWVIDEO)) {
    std::fprintf(stderr, "cannot write the video seeds\n");
    return 1;
  }
  e2e::EcgRecord rec = e2e::readWfdb(std::string(E2E_DATA_DIR) + "/ecg_wfdb/ludb/data/1.hea");
  for (auto& g : rec.groups) {
    g.numSamples = std::min<std::size_t>(g.numSamples, 500);
    for (auto& c : g.channels) c.samples.resize(g.numSamples);
  }
  rec.identity.patientId = "FUZZ1";
  rec.identity.patientName = "FUZZ^SEED";
  rec.identity.studyDate = "20240101";
  e2e::test::writeCardioSoftXml(rec, (out / "cardiosoft_xml/ludb1_1s.xml").string());
  return 0;
}
