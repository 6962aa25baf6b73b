// Embeddings in the study database (see embedder.h).
#include "pipeline/embedder.h"

#include <algorithm>
#include <cstring>
#include <future>
#include <set>

#include "io/dicom_echo.h"
#include "io/video_reader.h"
#include "model/autocast.h"
#include "model/mvit.h"
#include "common/text.h"

namespace e2e::pipeline {

EchoFrames readEchoFrames(const std::string& path) {
  if (looksLikeVideoFile(path)) return readVideoFrames(path);
  return readDicomEchoFrames(path);
}

EchoFrames readEchoFrames(const std::string& path, const model::VideoInputSpec& spec, int startFrame) {
  if (!looksLikeVideoFile(path))
    return readDicomEchoFrames(path, model::clipFrameIndices(readDicomEchoInfo(path).frames, spec, startFrame));
  // A video's frame count is only sure once decoded. Once the loop reaches past the clip's span the
  // indices no longer depend on it: read those; a shorter loop is read whole (it is short).
  const int span = startFrame + static_cast<int>(std::max<int64_t>(0, spec.frames - 1) * spec.frameStride) + 1;
  int available = 0;
  EchoFrames fr = readVideoFrames(path, model::clipFrameIndices(span, spec, startFrame), &available);
  if (fr.frames > 0) return fr;
  return readVideoFrames(path, model::clipFrameIndices(available, spec, startFrame));
}

torch::Tensor ecgBatchTensor(const std::vector<std::vector<float>>& xs) {
  auto t = torch::empty({static_cast<int64_t>(xs.size()), static_cast<int64_t>(kEcgLeads),
                         static_cast<int64_t>(kEcgSamples)});
  for (std::size_t i = 0; i < xs.size(); ++i)
    std::memcpy(t[static_cast<int64_t>(i)].data_ptr<float>(), xs[i].data(), xs[i].size() * sizeof(float));
  return t;
}

std::vector<float> rowVec(const torch::Tensor& t) {
  auto c = t.detach().to(torch::kCPU).to(torch::kFloat32).contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

torch::Tensor featTensor(const std::vector<std::vector<float>>& f) {
  auto t = torch::empty({static_cast<int64_t>(f.size()), f.empty() ? 0 : static_cast<int64_t>(f[0].size())});
  for (std::size_t i = 0; i < f.size(); ++i)
    std::memcpy(t[static_cast<int64_t>(i)].data_ptr<float>(), f[i].data(), f[i].size() * sizeof(float));
  return t;
}

namespace {
// One batch of inputs read for embedMissing: the inputs and their ids, the error line of each file
// that could not be read (in item order), and how many items it covered.
template <typename Input>
struct LoadedBatch {
  std::vector<Input> xs;
  std::vector<std::int64_t> ids;
  std::vector<std::string> errors;
  int count = 0;
};

template <typename Input, typename Load>
LoadedBatch<Input> loadBatch(const std::vector<std::pair<std::int64_t, std::string>>& todo, std::size_t begin,
                             std::size_t end, Load& load) {
  LoadedBatch<Input> out;
  out.count = static_cast<int>(end - begin);
  for (std::size_t j = begin; j < end; ++j) {
    try {
      out.xs.push_back(load(todo[j].second));
      out.ids.push_back(todo[j].first);
    } catch (const std::exception& e) {
      // the file readers' errors already start with the path
      const std::string what = errorText(e);
      const std::string& path = todo[j].second;
      out.errors.push_back(what.rfind(path, 0) == 0 ? what : path + ": " + what);
    }
  }
  return out;
}

// The stored embedding of each (id, path) under keyOf(id); the missing ones (each id once) are
// computed in batches, load(path) -> one input and encode(inputs) -> [n, D], and stored one
// transaction per batch. A file that cannot be read is an error line, not a stop.
// pipelined: batch k+1 is read on a second thread while batch k is encoded (at most one batch read
// ahead; load runs on one thread at a time, in item order). The errors, the stored vectors and the
// progress calls are those of the sequential loop; a cancelled run discards the batch read ahead.
template <typename KeyOf, typename Load, typename Encode>
void embedMissing(db::Database& db, const std::vector<std::pair<std::int64_t, std::string>>& items, KeyOf keyOf,
                  std::map<std::int64_t, std::vector<float>>& out, int& added, int& skipped,
                  std::vector<std::string>& errors, EmbedLoop loop, const job::CancelToken& cancel,
                  const BatchProgress& progress, Load load, Encode encode) {
  using Input = decltype(load(std::string()));
  std::vector<std::pair<std::int64_t, std::string>> todo;
  std::set<std::int64_t> queued;
  for (auto& it : items) {
    if (out.count(it.first) || queued.count(it.first)) continue;
    if (auto v = db.getEmbedding(keyOf(it.first))) {
      out[it.first] = *v;
      ++skipped;
    } else {
      todo.push_back(it);
      queued.insert(it.first);
    }
  }
  const std::size_t step = static_cast<std::size_t>(std::max(1, loop.batch));
  auto readAt = [&](std::size_t i) { return loadBatch<Input>(todo, i, std::min(todo.size(), i + step), load); };
  std::future<LoadedBatch<Input>> ahead;  // the next batch, being read (joined on every exit path)
  int done = 0;
  for (std::size_t i = 0; i < todo.size(); i += step) {
    if (cancel.cancelled()) return;
    LoadedBatch<Input> cur = ahead.valid() ? ahead.get() : readAt(i);
    if (loop.pipelined && i + step < todo.size() && !cancel.cancelled())
      ahead = std::async(std::launch::async, readAt, i + step);
    errors.insert(errors.end(), cur.errors.begin(), cur.errors.end());
    done += cur.count;
    if (!cur.xs.empty()) {
      std::vector<float> flat;  // [n, D] row-major
      {
        c10::InferenceMode im;
        torch::Tensor emb = encode(cur.xs).to(torch::kCPU).to(torch::kFloat32).contiguous();
        flat.assign(emb.data_ptr<float>(), emb.data_ptr<float>() + emb.numel());
      }
      const std::size_t dim = flat.size() / cur.ids.size();
      db::Database::Transaction tx(db);
      for (std::size_t j = 0; j < cur.ids.size(); ++j) {
        std::vector<float> v(flat.begin() + j * dim, flat.begin() + (j + 1) * dim);
        db.putEmbedding(keyOf(cur.ids[j]), v);
        out[cur.ids[j]] = std::move(v);
        ++added;
      }
      tx.commit();
    }
    if (progress) progress(done, static_cast<int>(todo.size()));
  }
}

// The database key of an embedding made by bundle `b`: its id for that kind of vector (`kindId`), the
// weights hash and the preprocessing version, for an instance or a study (exactly one of the two).
db::EmbeddingKey bundleEmbeddingKey(const Bundle& b, std::string kindId, std::optional<std::int64_t> instanceRowId,
                                    std::optional<std::int64_t> studyRowId = std::nullopt) {
  db::EmbeddingKey k;
  k.instanceRowId = instanceRowId;
  k.studyRowId = studyRowId;
  k.modelId = std::move(kindId);
  k.weightsHash = b.hash;
  k.preprocVersion = b.preprocVersion;
  k.precision = model::precisionName(b.precision);
  return k;
}
}  // namespace

db::EmbeddingKey EcgEmbedder::key(std::int64_t inst) const {
  return bundleEmbeddingKey(bundle, ecgEmbeddingId(bundle.modelId, bundle.version), inst);
}

void EcgEmbedder::ensure(const std::vector<Sample>& samples, int batch, const job::CancelToken& cancel,
                         const BatchProgress& progress) {
  std::vector<std::pair<std::int64_t, std::string>> items;
  for (auto& s : samples) items.emplace_back(s.ecgInstanceId, s.ecgPath);
  bundle.net->eval();
  embedMissing(
      db, items, [&](std::int64_t id) { return key(id); }, byInstance, added, skipped, errors, {batch, pipelined},
      cancel, progress,
      [&](const std::string& path) { return ecgInputFromFile(path, bundle.preprocVersion); },
      [&](const std::vector<std::vector<float>>& xs) {
        model::Bf16Autocast ac(bundle.precision == model::Precision::Bf16, bundle.device);
        return bundle.net->embedEcg(ecgBatchTensor(xs).to(bundle.device)).to(torch::kFloat32);
      });
}

const std::vector<float>* EcgEmbedder::find(std::int64_t instance) const {
  auto it = byInstance.find(instance);
  return it == byInstance.end() ? nullptr : &it->second;
}

db::EmbeddingKey EchoEmbedder::viewKey(std::int64_t inst) const {
  return bundleEmbeddingKey(bundle, viewEmbeddingId(bundle.modelId, bundle.version), inst);
}
db::EmbeddingKey EchoEmbedder::studyKey(std::int64_t study) const {
  return bundleEmbeddingKey(bundle, studyEmbeddingId(bundle.modelId, bundle.version), std::nullopt, study);
}

void EchoEmbedder::ensureViews(const std::vector<std::pair<std::int64_t, std::string>>& loops, int batch,
                               const job::CancelToken& cancel, const BatchProgress& progress) {
  auto& b = bundle;
  b.video->module()->eval();
  std::map<std::string, std::int64_t> idOf;
  for (auto& l : loops) idOf.emplace(l.second, l.first);
  // Each loop is decoded only if it is still the file that was imported (its stored SHA-256).
  std::map<std::int64_t, std::string> shaOf;
  if (!loops.empty()) {
    db::Filter us;
    us.modality = "US";
    for (const auto& i : db.listInstances(us)) shaOf[i.id] = i.sha256;
  }
  std::vector<std::pair<std::int64_t, std::string>> readResult;  // (loop, error or "")
  embedMissing(
      db, loops, [&](std::int64_t id) { return viewKey(id); }, views, viewAdded, viewSkipped, errors,
      {batch, pipelined}, cancel, progress,
      [&](const std::string& path) {
        try {
          const auto sha = shaOf.find(idOf.at(path));
          if (sha != shaOf.end()) requireUnchanged(path, sha->second);
          auto clip = model::prepareClipFromPicked(readEchoFrames(path, b.spec, 0), b.spec);
          readResult.emplace_back(idOf.at(path), "");
          return clip;
        } catch (const std::exception& e) {
          readResult.emplace_back(idOf.at(path), errorText(e));
          throw;
        }
      },
      [&](const std::vector<torch::Tensor>& clips) {
        model::Bf16Autocast ac(b.precision == model::Precision::Bf16, b.device);
        return b.video->encode(torch::stack(clips).to(b.device)).to(torch::kFloat32);
      });
  db::Database::Transaction tx(db);
  for (auto& [id, error] : readResult) db.setLoopDecodeError(id, error);
  tx.commit();
}

EchoStudies listEchoStudies(db::Database& db) {
  EchoStudies out;
  std::map<std::string, db::StudyRow> studies;
  for (auto& s : db.listStudies()) studies[s.studyUid] = s;
  db::Filter us;
  us.modality = "US";
  for (auto& i : db.listInstances(us)) {
    auto it = studies.find(i.studyUid);
    if (it == studies.end()) continue;
    out.loops[it->second.id].emplace_back(i.id, i.path);
    out.patientOf[it->second.id] = it->second.patientRowId;
    out.uidOf[it->second.id] = it->second.studyUid;
    out.patientIdOf[it->second.id] = it->second.patientId;
  }
  for (auto& [k, v] : out.loops) std::sort(v.begin(), v.end());
  return out;
}

void embedAllEcho(EchoEmbedder& cache, int batch, const job::CancelToken& cancel, const BatchProgress& progress) {
  db::Database& db = cache.db;
  Bundle& b = cache.bundle;
  auto es = listEchoStudies(db);
  const std::string precision = model::precisionName(b.precision);
  const auto stored = db.embeddedInstanceIds(viewEmbeddingId(b.modelId, b.version), b.hash, b.preprocVersion, precision);
  std::vector<std::pair<std::int64_t, std::string>> needed;
  for (auto& [study, loops] : es.loops)
    for (auto& l : loops) {
      if (stored.count(l.first)) ++cache.viewSkipped;
      else needed.push_back(l);
    }
  cache.ensureViews(needed, batch, cancel, progress);
  if (cancel.cancelled()) return;
  auto hasView = [&](std::int64_t id) { return stored.count(id) > 0 || cache.views.count(id) > 0; };
  torch::NoGradGuard ng;
  b.net->eval();
  db::Database::Transaction tx(db);
  for (auto& [study, loops] : es.loops) {
    std::vector<std::int64_t> ids;
    for (auto& l : loops) ids.push_back(l.first);
    const std::string inputs = studyVectorInputs(ids, hasView);
    const auto before = db.embeddingInputs(cache.studyKey(study));
    if (before && *before == inputs) {
      ++cache.studySkipped;
      continue;
    }
    // The aggregator takes up to maxViews views (128, as the reference): the first ones in loop order.
    const auto maxViews = static_cast<std::size_t>(b.net->echo_aggregator->maxViews);
    std::vector<torch::Tensor> vs;
    for (auto& l : loops) {
      if (vs.size() == maxViews) break;
      if (auto it = cache.views.find(l.first); it != cache.views.end()) vs.push_back(torch::tensor(it->second));
      else if (stored.count(l.first))
        if (auto v = db.getEmbedding(cache.viewKey(l.first))) vs.push_back(torch::tensor(*v));
    }
    if (vs.empty()) {  // no loop of it decodes: no vector (the errors name the loops), nor an old one
      if (before && db.deleteEmbedding(cache.studyKey(study))) ++cache.studyDropped;
      continue;
    }
    auto v = b.normViews(torch::stack(vs)).unsqueeze(0).to(b.device);
    auto valid = torch::ones({1, v.size(1)}, torch::kBool).to(b.device);
    model::Bf16Autocast ac(b.precision == model::Precision::Bf16, b.device);
    db.putEmbedding(cache.studyKey(study), rowVec(b.net->embedEcho(v, valid)[0]), inputs);
    ++(before ? cache.studyUpdated : cache.studyAdded);
  }
  // A study that has no loops any more (all deleted) keeps no vector made from them.
  for (const auto& [study, inputs] : db.studyEmbeddingInputs(studyEmbeddingId(b.modelId, b.version), b.hash,
                                                             b.preprocVersion, precision))
    if (!es.loops.count(study) && db.deleteEmbedding(cache.studyKey(study))) ++cache.studyDropped;
  tx.commit();
}

}  // namespace e2e::pipeline
