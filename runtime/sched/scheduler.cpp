#include "runtime/sched/scheduler.hpp"

#include "runtime/support/probes.hpp"

namespace courier::internal {

scheduler::scheduler(internal::system& sys, std::size_t workers, const config& cfg)
    : system_(sys),
      batch_(cfg.batch == 0 ? 1 : cfg.batch),
      spin_(cfg.spin),
      min_awake_(cfg.min_awake),
      pin_(cfg.pin),
      parker_(workers) {
  workers_.reserve(workers);
  for (std::size_t i = 0; i < workers; ++i) workers_.push_back(std::make_unique<worker>(*this, i));
}

scheduler::~scheduler() { stop(); }

void scheduler::start() {
  for (auto& w : workers_) w->start();
  if (workers_.size() > 1) monitor_.start();  // one worker has nobody to hand work to
}

void scheduler::stop() {
  if (joined_) return;
  // seq_cst: read by parking workers in their re-check after prepare_wait
  stopping_.store(true, std::memory_order_seq_cst);
  monitor_.stop();
  parker_.notify_all();
  for (auto& w : workers_) w->join();
  joined_ = true;
}

void scheduler::schedule(cell_base* cell) {
  COURIER_PROBE1(schedule, cell);
  auto* w = worker::current();
  if (w && &w->owner() == this) {
    w->schedule_local(cell);
    return;
  }
  injection_.push(cell);
  notify();
}

void scheduler::notify() noexcept {
  // seq_cst: the load after the caller's seq_cst work store (deque bottom or
  // injection count): the notifier's half of the parker's store->load pair.
  if (searching_.load(std::memory_order_seq_cst) != 0) return;
  parker_.notify_one([this] {
    // seq_cst: the woken worker starts out searching, so the next notifier
    // does not wake a second one for the same work
    searching_.fetch_add(1, std::memory_order_seq_cst);
  });
}

bool scheduler::work_visible() const noexcept {
  if (injection_.pending()) return true;
  for (auto& w : workers_)
    if (w->has_stealable_work()) return true;
  return false;
}

}  // namespace courier::internal
