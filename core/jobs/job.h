// A small, generic facility for long-running background work (import, embedding,
// training...): a cancellation token, a throttled progress reporter and a job runner
// that runs a function on its own thread. Qt-free; header-only.
#pragma once
#include <atomic>
#include <chrono>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace e2e::job {

// Shared, thread-safe cancellation flag. Copies share the same flag.
class CancelToken {
 public:
  CancelToken() : flag_(std::make_shared<std::atomic<bool>>(false)) {}
  void cancel() const { flag_->store(true, std::memory_order_relaxed); }
  bool cancelled() const { return flag_->load(std::memory_order_relaxed); }
  void reset() const { flag_->store(false); }

 private:
  std::shared_ptr<std::atomic<bool>> flag_;
};

// Generic progress snapshot.
struct Progress {
  std::int64_t done = 0;
  std::int64_t total = -1;  // -1: unknown yet
  std::string stage;        // e.g. "scanning", "importing"
  std::string message;      // e.g. the current file
  double fraction() const { return total > 0 ? static_cast<double>(done) / total : 0.0; }
};

// Calls `fn` at most once per `interval` (thread-safe), plus always for forced updates
// (first and last). Keeps GUIs and terminals from being flooded.
template <class P>
class ThrottledCallback {
 public:
  ThrottledCallback(std::function<void(const P&)> fn,
                    std::chrono::milliseconds interval = std::chrono::milliseconds(100))
      : fn_(std::move(fn)), interval_(interval) {}
  // Returns true if the callback was invoked.
  bool operator()(const P& p, bool force = false) {
    if (!fn_) return false;
    std::lock_guard<std::mutex> lock(mu_);
    const auto now = std::chrono::steady_clock::now();
    if (!force && started_ && now - last_ < interval_) return false;
    started_ = true;
    last_ = now;
    fn_(p);
    return true;
  }

 private:
  std::function<void(const P&)> fn_;
  std::chrono::milliseconds interval_;
  std::mutex mu_;
  bool started_ = false;
  std::chrono::steady_clock::time_point last_{};
};

// Runs `work(token)` on a background thread. wait() returns its result or rethrows.
// The destructor cancels and joins (never leaves a thread running).
template <class R>
class BackgroundJob {
 public:
  explicit BackgroundJob(std::function<R(const CancelToken&)> work) {
    std::packaged_task<R()> task([work = std::move(work), t = token_]() { return work(t); });
    future_ = task.get_future();
    thread_ = std::thread(std::move(task));
  }
  ~BackgroundJob() {
    token_.cancel();
    if (thread_.joinable()) thread_.join();
  }
  BackgroundJob(const BackgroundJob&) = delete;
  BackgroundJob& operator=(const BackgroundJob&) = delete;

  void cancel() { token_.cancel(); }
  const CancelToken& token() const { return token_; }
  bool finished() const {
    return future_.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
  }
  R wait() {
    if (thread_.joinable()) thread_.join();
    return future_.get();
  }

 private:
  CancelToken token_;
  std::future<R> future_;
  std::thread thread_;
};

}  // namespace e2e::job
