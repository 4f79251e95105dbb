#include "control_thread.h"

#include <pthread.h>

#include <thread>

int ThreadRegistry::WaitAll(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  ended_.wait_for(lock, timeout, [this] { return running_ == 0; });
  return running_;
}

void ThreadRegistry::Started() {
  std::lock_guard<std::mutex> lock(mutex_);
  running_++;
}

void ThreadRegistry::Ended() {
  std::lock_guard<std::mutex> lock(mutex_);
  running_--;
  ended_.notify_all();
}

std::shared_ptr<ControlThread> ControlThread::Start(const std::string& name, std::shared_ptr<ThreadRegistry> registry) {
  std::shared_ptr<ControlThread> self(new ControlThread(std::move(registry)));
  self->registry_->Started();
  // The thread keeps itself alive (its own shared_ptr) until its queue is finished.
  std::thread thread([self, name] { self->Run(name); });
  thread.detach();
  return self;
}

bool ControlThread::Post(Task task) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (ended_) return false;
  tasks_.push_back(std::move(task));
  wake_.notify_one();
  return true;
}

void ControlThread::Finish() {
  std::lock_guard<std::mutex> lock(mutex_);
  finishing_ = true;
  wake_.notify_one();
}

void ControlThread::Run(const std::string& name) {
  pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
  std::shared_ptr<ThreadRegistry> registry = registry_;
  for (;;) {
    Task task;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return !tasks_.empty() || finishing_; });
      if (tasks_.empty()) {
        ended_ = true;
        break;
      }
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();  // drops what it captured (object references) here, on this thread
  }
  registry->Ended();
}
