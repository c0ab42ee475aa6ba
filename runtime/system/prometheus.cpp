// metrics::to_prometheus(): the Prometheus text exposition format 0.0.4.

#include <courier/metrics.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>

namespace courier {

namespace {

void family(std::string& out, const char* name, const char* type, const char* help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void sample(std::string& out, const char* name, std::uint64_t value, const std::string& labels = {}) {
  out += name;
  if (!labels.empty()) out += '{' + labels + '}';
  out += ' ';
  out += std::to_string(value);
  out += '\n';
}

void sample(std::string& out, const char* name, double value, const std::string& labels = {}) {
  char text[32];
  std::snprintf(text, sizeof text, "%.9g", value);
  out += name;
  if (!labels.empty()) out += '{' + labels + '}';
  out += ' ';
  out += text;
  out += '\n';
}

double seconds(std::chrono::nanoseconds d) { return static_cast<double>(d.count()) / 1e9; }

/// One histogram sample group: cumulative buckets, _sum and _count.
void histogram_samples(std::string& out, const std::string& name, const histogram& h, const std::string& labels) {
  std::uint64_t cumulative = 0;
  char le[32];
  for (std::size_t i = 0; i + 1 < histogram::bucket_count; ++i) {
    cumulative += h.buckets[i];
    std::snprintf(le, sizeof le, "%.9g", static_cast<double>(histogram::upper_bound_ns(i)) / 1e9);
    sample(out, (name + "_bucket").c_str(), cumulative, labels + ",le=\"" + le + "\"");
  }
  sample(out, (name + "_bucket").c_str(), h.count, labels + ",le=\"+Inf\"");
  sample(out, (name + "_sum").c_str(), static_cast<double>(h.sum_ns) / 1e9, labels);
  sample(out, (name + "_count").c_str(), h.count, labels);
}

std::string escaped(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

std::string metrics::to_prometheus() const {
  std::string out;
  struct per_worker {
    const char* name;
    const char* help;
    std::uint64_t worker_metrics::*field;
  };
  static constexpr per_worker fields[] = {
      {"courier_worker_messages_handled_total", "Messages whose handler ran on the worker.", &worker_metrics::handled},
      {"courier_worker_turns_total", "Actor turns the worker ran.", &worker_metrics::turns},
      {"courier_worker_batch_limit_hits_total", "Turns that ended at the batch limit with messages left.",
       &worker_metrics::batch_limit_hits},
      {"courier_worker_steals_attempted_total", "Victims the worker tried to steal from.",
       &worker_metrics::steals_attempted},
      {"courier_worker_steals_succeeded_total", "Steals that took work.", &worker_metrics::steals_succeeded},
      {"courier_worker_parks_total", "Times the worker slept on its futex.", &worker_metrics::parks},
      {"courier_worker_wakeups_total", "Futex wake-ups the worker received.", &worker_metrics::wakeups},
      {"courier_worker_injection_pops_total", "Actors taken from the injection queue.", &worker_metrics::injection_pops},
  };
  for (auto& f : fields) {
    family(out, f.name, "counter", f.help);
    for (auto& w : workers) sample(out, f.name, w.*(f.field), "worker=\"" + std::to_string(w.index) + "\"");
  }
  family(out, "courier_live_actors", "gauge", "Actors spawned and not yet stopped.");
  sample(out, "courier_live_actors", live_actors);
  family(out, "courier_queued_messages", "gauge", "Messages accepted and not yet handled or dropped.");
  sample(out, "courier_queued_messages", queued_messages);
  family(out, "courier_senders_waiting", "gauge", "Senders waiting for room in a bounded mailbox.");
  sample(out, "courier_senders_waiting", senders_waiting);
  family(out, "courier_dropped_messages_total", "counter", "Accepted messages destroyed unhandled.");
  sample(out, "courier_dropped_messages_total", dropped_messages);
  family(out, "courier_replies_dropped_total", "counter",
         "Requests answered with actor_stopped because their actor stopped first.");
  sample(out, "courier_replies_dropped_total", replies_dropped);
  family(out, "courier_downs_total", "counter", "Down notifications mailed to watchers (monitors).");
  sample(out, "courier_downs_total", downs);
  family(out, "courier_restarts_total", "counter", "Incarnations rebuilt in place (failure policy restart).");
  sample(out, "courier_restarts_total", restarts);
  family(out, "courier_ticks_skipped_total", "counter",
         "Periodic timer deadlines skipped because a tick was still queued or being handled.");
  sample(out, "courier_ticks_skipped_total", ticks_skipped);
  family(out, "courier_replies_discarded_total", "counter",
         "Replies nobody read: when_any's losers, and those of an awaiting frame that was destroyed.");
  sample(out, "courier_replies_discarded_total", replies_discarded);
  family(out, "courier_replies_failed_total", "counter", "Replies completed with an error, by kind (courier::errc).");
  for (auto [kind, n] : {std::pair{"actor_stopped", replies_failed.actor_stopped},
                         std::pair{"mailbox_full", replies_failed.mailbox_full}, std::pair{"timeout", replies_failed.timeout},
                         std::pair{"handler_failed", replies_failed.handler_failed}})
    sample(out, "courier_replies_failed_total", n, std::string("kind=\"") + kind + "\"");
  family(out, "courier_actor_stuck_seconds", "gauge",
         "Actors seen inside one handler for at least config::stuck_after: how long so far.");
  for (auto& a : stuck)
    sample(out, "courier_actor_stuck_seconds", seconds(a.inside),
           "name=\"" + escaped(a.name) + "\",type=\"" + escaped(a.type) + "\",id=\"" + std::to_string(a.id) +
               "\",suspended=\"" + (a.suspended ? "true" : "false") + "\"");
  struct per_type_count {
    const char* name;
    const char* type;
    const char* help;
    std::uint64_t actor_type_metrics::*field;
  };
  static constexpr per_type_count counts[] = {
      {"courier_actor_type_handled_total", "counter", "Messages handled by actors of the type.",
       &actor_type_metrics::handled},
      {"courier_actor_type_mailbox_high_water", "gauge", "Most messages seen waiting in one mailbox of an actor of the type.",
       &actor_type_metrics::mailbox_high_water},
  };
  struct per_type_histogram {
    const char* name;
    const char* help;
    histogram actor_type_metrics::*field;
  };
  static constexpr per_type_histogram histograms[] = {
      {"courier_actor_type_handler_seconds", "Time inside a handler of the type.", &actor_type_metrics::handler_time},
      {"courier_actor_type_mailbox_wait_seconds", "Time from send to the start of the handler, for actors of the type.",
       &actor_type_metrics::mailbox_wait},
  };
  if (!actor_types.empty()) {
    for (auto& f : counts) {
      family(out, f.name, f.type, f.help);
      for (auto& t : actor_types) sample(out, f.name, t.*(f.field), "type=\"" + escaped(t.type) + "\"");
    }
    for (auto& f : histograms) {
      family(out, f.name, "histogram", f.help);
      for (auto& t : actor_types) histogram_samples(out, f.name, t.*(f.field), "type=\"" + escaped(t.type) + "\"");
    }
  }
  return out;
}

}  // namespace courier
