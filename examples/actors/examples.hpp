// The example actor types the stock `troupe` binary registers: echo, word-count, recorder,
// rate-limiter, chatter, fenced-counter, bulletin, sleep-job and beacon. Each is an ordinary
// CAF actor written against actors/api/event.hpp.
#pragma once

#include "actors/api/actor_types.hpp"

namespace troupe::examples {

/// Replies with the event's payload.
caf::behavior echo(caf::event_based_actor* self, context ctx);

/// Counts the events of each key and replies with the key's count as decimal text; an event
/// with an empty payload only asks for the count. Keeps its counts across vnode moves.
caf::behavior word_count(caf::event_based_actor* self, context ctx);

/// Appends `<key>\t<payload>` to recorder-<deployment>.log in its worker's data dir, flushed
/// before it replies "ok".
caf::behavior recorder(caf::event_based_actor* self, context ctx);

/// The Tremor RFC's distributed throttling: at most `limit` events per key in each window of
/// `window-ms` (config; 10 per 1000 ms by default); replies "allowed" or "throttled".
caf::behavior rate_limiter(caf::event_based_actor* self, context ctx);

/// Logs `args[0]` lines (default 1000) at `args[1]` lines a second (default 1000), then
/// "done"; replies with how many it logged. A load for the log-roller.
caf::behavior chatter(caf::event_based_actor* self, context ctx);

/// A singleton that checks it never runs twice: every 50 ms it increments "<epoch> <count>" in
/// the KV (key `config key`, default troupe/examples/fenced-counter/<deployment>) by
/// compare-and-set, under the main worker epoch it started with; it logs "RUNNING TWICE" (and
/// stops) when a write of a later epoch or a concurrent write shows another instance. Replies
/// with "<epoch> <count>".
caf::behavior fenced_counter(caf::event_based_actor* self, context ctx);

/// Subscribes to topic `args[1]` (or config `topic`, default news) of namespace `args[0]` (or
/// config `namespace`, default bulletin) on the broadcast bus and keeps what arrives. An event
/// "publish TEXT" broadcasts TEXT on the topic ("publish-self TEXT" with send_to_self,
/// "persist TEXT" persisted); any other event, and dump_atom, reply with what it received so
/// far: "origin:payload,...".
caf::behavior bulletin(caf::event_based_actor* self, context ctx);

/// A job handler (actors/api/jobs.hpp) for trying out queues: payload `N` sleeps N ms (without
/// blocking a thread), records "<job id>\t<epoch>" in sleep-job.effects in its worker's data
/// dir and succeeds; `fail` fails; anything else fails with an error that says why.
caf::behavior sleep_job(caf::event_based_actor* self, context ctx);

/// A long-running task's instance (actors/api/tasks.hpp) for trying out tasks: every
/// `interval-ms` (config, default 100) while its worker's lease holds it appends
/// "<task>\t<partition>\t<count>\t<epoch>\t<wall ms>" to <task>.beats in its worker's data
/// dir; an event gets "partition P/N epoch E beats B". Stops when fenced.
caf::behavior beacon(caf::event_based_actor* self, context ctx);

/// Registers the nine under their names.
void register_examples(actor_types& types);

} // namespace troupe::examples
