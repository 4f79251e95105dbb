#include "control_thread.h"

#include <pthread.h>
#include <sched.h>

int ThreadRegistry::WaitAll(std::chrono::milliseconds timeout) {
  {
    std::unique_lock<std::mutex> lock(mutex_);
    ended_.wait_for(lock, timeout, [this] { return running_ == 0; });
  }
  Reap();
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& entry : threads_) entry.second.detach();  // stuck: left behind
  threads_.clear();
  return running_;
}

int ThreadRegistry::Running() {
  std::lock_guard<std::mutex> lock(mutex_);
  return running_;
}

void ThreadRegistry::Reap() {
  for (std::thread& thread : TakeEnded()) thread.join();
}

std::vector<std::thread> ThreadRegistry::TakeEnded() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::thread> ended;
  std::vector<std::thread::id> notAdopted;
  for (std::thread::id id : endedIds_) {
    auto entry = threads_.find(id);
    if (entry == threads_.end()) {
      notAdopted.push_back(id);  // ended before Start() could adopt it
      continue;
    }
    ended.push_back(std::move(entry->second));
    threads_.erase(entry);
  }
  endedIds_ = std::move(notAdopted);
  return ended;
}

void ThreadRegistry::Started() {
  std::lock_guard<std::mutex> lock(mutex_);
  running_++;
}

void ThreadRegistry::Adopt(std::thread thread) {
  std::lock_guard<std::mutex> lock(mutex_);
  threads_.emplace(thread.get_id(), std::move(thread));
}

void ThreadRegistry::Ended(std::thread::id id) {
  std::lock_guard<std::mutex> lock(mutex_);
  running_--;
  endedIds_.push_back(id);
  ended_.notify_all();
}

std::shared_ptr<ControlThread> ControlThread::Start(const std::string& name, std::shared_ptr<ThreadRegistry> registry) {
  std::shared_ptr<ControlThread> self(new ControlThread(std::move(registry)));
  self->registry_->Started();
  // The thread keeps itself alive (its own shared_ptr) until its queue is finished.
  self->registry_->Reap();  // threads of pipelines closed earlier
  self->registry_->Adopt(std::thread([self, name] { self->Run(name); }));
  return self;
}

bool ControlThread::Post(Task task) {
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (ended_) return false;
    tasks_.push_back(std::move(task));
    wake = waiting_;
  }
  // Outside the lock, and only when the thread sleeps: a woken thread that first
  // has to wait for the lock the poster (the JS thread) holds costs both a switch,
  // and a busy thread takes the task before it waits again.
  if (wake) wake_.notify_one();
  return true;
}

bool ControlThread::Idle() {
  std::lock_guard<std::mutex> lock(mutex_);
  return tasks_.empty() && !running_;
}

void ControlThread::Finish() {
  std::lock_guard<std::mutex> lock(mutex_);
  finishing_ = true;
  wake_.notify_one();
}

void ControlThread::Run(const std::string& name) {
  pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
#ifdef SCHED_BATCH
  // Linux: a batch thread gets its fair share of CPU, but waking it (every
  // Post() from JS) does not preempt the thread that woke it. Without this, on
  // a busy machine the JS thread lost its CPU at nearly every post and waited
  // for it again (figure 5's "preempted" calls).
  sched_param param{};
  pthread_setschedparam(pthread_self(), SCHED_BATCH, &param);
#endif
  std::shared_ptr<ThreadRegistry> registry = registry_;
  for (;;) {
    Task task;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      running_ = false;
      waiting_ = true;
      wake_.wait(lock, [this] { return !tasks_.empty() || finishing_; });
      waiting_ = false;
      if (tasks_.empty()) {
        ended_ = true;
        break;
      }
      task = std::move(tasks_.front());
      tasks_.pop_front();
      running_ = true;
    }
    task();  // drops what it captured (object references) here, on this thread
  }
  registry->Ended(std::this_thread::get_id());
}
