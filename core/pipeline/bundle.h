// A model bundle: the Echo2ECG network (ECG encoder, echo view aggregator, projections), its video
// encoder and bundle.json (architecture, weights files, weights hash). Loaded from and saved to a
// directory; the embedding, training, prediction and retrieval jobs all go through it. Needs torch.
#pragma once
#include <torch/torch.h>

#include <memory>
#include <string>

#include "model/model.h"
#include "model/precision.h"
#include "pipeline/embedding_model.h"

namespace e2e::pipeline {

struct Bundle {
  std::string dir, modelId = "echo2ecg", version = "1";
  model::EcgEncoderConfig ecgCfg;
  model::VideoInputSpec spec;
  model::Echo2Ecg net{nullptr};
  std::shared_ptr<model::VideoEncoder> video;
  std::string videoEncoder = "small3dcnn";  // bundle.json "video_encoder": small3dcnn | mvit_v2_s
  // bundle.json "role": "" for an Echo2ECG model; "video-encoder" for `train --task echo-pretrain`
  // bundles, whose ECG side is an untrained placeholder (usable only through --video-model);
  // "ecg-encoder" for `train --task ecg-pretrain` bundles, whose echo side is untrained (no retrieval).
  std::string role;
  std::string hash;
  torch::Device device = torch::kCPU;
  // Inference precision of the embedders (pipeline/embedder.h): Bf16 runs the encoders under bfloat16
  // autocast (model/autocast.h). The vectors are keyed by it (EmbeddingKey::precision). The jobs set
  // it from their resolved --precision; fp32 unless set.
  model::Precision precision = model::Precision::Fp32;
  // Per-dimension standardisation of the view embeddings before the aggregator (estimated on the
  // training loops at pretraining; undefined = identity). A frozen, randomly initialised video
  // encoder gives nearly collinear view embeddings (mean cosine ~0.999): without this the echo
  // side of the contrastive objective has no signal.
  torch::Tensor viewMean, viewStd;
  // The video encoder's weights were loaded in float32 (a converted external encoder such as
  // EchoPrime's MViT): saveBundle keeps them in float32 in their own file (video.pt) instead of
  // rounding them to float16 with the rest, so a frozen encoder stays exactly the one it was.
  bool videoFp32 = false;
  // Every weight is stored in float32 (weights_dtype "float32"): imported published weights (an
  // official Echo2ECG run, OTiS) keep their exact values; this project's own models are float16.
  bool weightsFp32 = false;
  // The echo side's widths (bundle.json view_dim, echo_dim, echo_heads, shared_dim): the official
  // default config aggregates 512-d views at 512, this project's models at 1024.
  int64_t viewDim = 512, echoDim = 1024, echoHeads = 4, sharedDim = 512;
  // bundle.json "synthetic_training_data": the weights were trained on the synthetic cohort (this
  // project's bundled models); false for imported published weights.
  bool syntheticTrainingData = true;
  // bundle.json "source" (JSON text, "" when absent): where imported weights came from, as the
  // converter recorded it (files, SHA-256, what was converted); kept as is by saveBundle.
  std::string sourceJson;
  // bundle.json "preprocessing": the ECG preprocessing the weights were trained with (kPreprocVersion,
  // or kPreprocFourierVersion for imported official weights); inputs and embedding keys use it.
  std::string preprocVersion = kPreprocVersion;

  model::TensorMap allWeights() const;
  torch::Tensor normViews(const torch::Tensor& v) const;
  void rehash() { hash = model::weightsHash(allWeights()); }
  void to(torch::Device d);
};

// A freshly initialised bundle (seeded): an ECG encoder of `depth` blocks and a small 3D-CNN video
// encoder for `videoSize` x `videoSize` clips.
Bundle freshBundle(int depth, int videoSize, std::uint64_t seed);

// Saves weights in fp16 (a float32 video encoder, b.videoFp32: in float32, in video.pt) and reloads
// them, so the in-memory model equals what a later load gives; writes bundle.json last.
void saveBundle(Bundle& b, const std::string& dir);

// checkHash: refuse weights that differ from bundle.json's weights_hash. Callers that compare the
// weights with a registry row or a head's card right after loading pass false, so their error names
// the registered version and what to do about it.
Bundle loadBundle(const std::string& dir, bool checkHash = true);

// findModelsDir(explicitDir), or std::runtime_error when no bundle is found.
std::string requireModelsDir(const std::string& explicitDir);

// The bundle of a resolved embedding model, its weights checked: a registered version must hash to
// its registered weights hash (embeddings are keyed by it), never silently to something else. The
// keys use the resolved id:version; for a directory the loaded hash is filled into `m`.
Bundle loadEmbeddingBundle(EmbeddingModel& m);

// ECG embeddings, retrieval and heads need a trained ECG side: a video-encoder bundle has none.
void requireEcgSide(const Bundle& b, const std::string& label);
// Retrieval needs a trained echo side: an ECG-only self-supervised bundle has none.
void requireEchoSide(const Bundle& b, const std::string& label);

// "cuda", "cpu" or "auto" (CUDA when libtorch sees a device).
torch::Device pickDevice(const std::string& name);
// torch intra-op threads: `threads` > 0, else $E2E_TORCH_THREADS, else every core.
void setThreads(int threads);

}  // namespace e2e::pipeline
