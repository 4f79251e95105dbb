// ControlThread: one per pipeline, and one per webrtcbin for its actions. Runs,
// in call order, the work that can wait on a GStreamer lock or a state change
// (state changes, teardown, latency recalculation; webrtcbin's actions), so the
// JS thread never does.
//
// Tasks hold their own references to the GObjects they touch. A task reports
// back to JS through the pipeline's Dispatcher, never by blocking anyone.
//
// Lifetime: Finish() lets the queued tasks run and then ends the thread; the
// thread owns itself until then, so a pipeline closed from JS frees itself in
// the background. A ThreadRegistry per Node.js environment counts the running
// threads, so the environment's cleanup hook can wait for them, up to a bound
// (a webrtcbin whose own thread spins must not hang process exit). Threads are
// joined, not just waited for: a worker's addon may be unloaded right after its
// environment ends, and no thread may still be running its code then.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <map>
#include <string>
#include <thread>
#include <vector>

class ThreadRegistry {
 public:
  // JS thread, at the environment's end: waits until every thread registered
  // here has ended, or until `timeout`; joins those that ended and leaves the
  // others running (detached). Returns how many were left.
  int WaitAll(std::chrono::milliseconds timeout);

  // Joins the threads that have ended so far (they are gone from the kernel
  // already; this frees what pthread keeps for a joinable thread).
  void Reap();

  // How many threads are running (pipelines open, or closed and still stopping).
  int Running();

 private:
  friend class ControlThread;
  void Started();
  void Adopt(std::thread thread);
  void Ended(std::thread::id id);
  std::vector<std::thread> TakeEnded();

  std::mutex mutex_;
  std::condition_variable ended_;
  int running_ = 0;
  std::map<std::thread::id, std::thread> threads_;
  std::vector<std::thread::id> endedIds_;
};

class ControlThread {
 public:
  using Task = std::function<void()>;

  // JS thread. `name` shows in `ps -L` / gdb (at most 15 characters).
  static std::shared_ptr<ControlThread> Start(const std::string& name, std::shared_ptr<ThreadRegistry> registry);

  // Any thread. Queues `task`; false (and the task is dropped) once the thread has ended.
  bool Post(Task task);

  // Any thread. Whether no task is queued or running now: a barrier behind
  // "what was queued before" has nothing to wait for (and need not wake it).
  bool Idle();

  // Any thread. The thread ends after the tasks queued so far, and those posted
  // while they run, have run. Idempotent.
  void Finish();

 private:
  explicit ControlThread(std::shared_ptr<ThreadRegistry> registry) : registry_(std::move(registry)) {}
  void Run(const std::string& name);

  std::shared_ptr<ThreadRegistry> registry_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Task> tasks_;
  bool finishing_ = false;
  bool ended_ = false;
  bool running_ = false;  // a task is running
  bool waiting_ = false;  // the thread waits on wake_ (Post() wakes it only then)
};
