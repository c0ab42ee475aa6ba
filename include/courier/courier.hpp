#pragma once
// The umbrella header: includes every public header and declares nothing.

#include <courier/actor.hpp>
#include <courier/actor_id.hpp>
#include <courier/address.hpp>
#include <courier/config.hpp>
#include <courier/context.hpp>
#include <courier/error.hpp>
#include <courier/fwd.hpp>
#include <courier/handlers.hpp>
#include <courier/metrics.hpp>
#include <courier/monitor.hpp>
#include <courier/recipient.hpp>
#include <courier/reply.hpp>
#include <courier/runtime.hpp>
#include <courier/stats.hpp>
#include <courier/stream.hpp>
#include <courier/supervisor.hpp>
#include <courier/task.hpp>
#include <courier/timer.hpp>
#include <courier/when.hpp>
#include <courier/version.hpp>
