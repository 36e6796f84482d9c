// Shared work in the replicated state: job operations in Raft entries (a JobBatch) and the job
// table in snapshots, as cluster_state.proto describes them.
#pragma once

#include "protocols/cluster_state/commands.hpp"
#include "protocols/jobs/job_table.hpp"

namespace troupe::cluster_state::wire {
class JobBatch;
class StateSnapshot;
} // namespace troupe::cluster_state::wire

namespace troupe::state {

/// Encodes the operations of `c`. A worker_cmd is not carried: the membership decides which
/// workers are up (state_machine::apply tells the job table).
void jobs_to_pb(const jobs_cmd& c, cluster_state::wire::JobBatch& out);

/// Decodes a batch; false when an operation is malformed.
bool jobs_from_pb(const cluster_state::wire::JobBatch& in, jobs_cmd& out);

void put_jobs(const jobs::job_table& t, cluster_state::wire::StateSnapshot& s);

/// Restores the job table of a snapshot; false when it is malformed.
bool get_jobs(const cluster_state::wire::StateSnapshot& s, jobs::job_table& t);

} // namespace troupe::state
