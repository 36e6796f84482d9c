#include "protocols/raft/raft.hpp"

#include <algorithm>
#include <cassert>

namespace troupe::raft {

const char* to_string(msg_type t) {
  switch (t) {
    case msg_type::pre_vote:
      return "pre_vote";
    case msg_type::pre_vote_resp:
      return "pre_vote_resp";
    case msg_type::vote:
      return "vote";
    case msg_type::vote_resp:
      return "vote_resp";
    case msg_type::append:
      return "append";
    case msg_type::append_resp:
      return "append_resp";
    case msg_type::heartbeat:
      return "heartbeat";
    case msg_type::heartbeat_resp:
      return "heartbeat_resp";
    case msg_type::snapshot:
      return "snapshot";
    case msg_type::timeout_now:
      return "timeout_now";
  }
  return "?";
}

const char* to_string(role r) {
  switch (r) {
    case role::follower:
      return "follower";
    case role::pre_candidate:
      return "pre-candidate";
    case role::candidate:
      return "candidate";
    case role::leader:
      return "leader";
  }
  return "?";
}

const char* to_string(errc e) {
  switch (e) {
    case errc::none:
      return "none";
    case errc::not_leader:
      return "not the leader";
    case errc::transfer_in_progress:
      return "leadership transfer in progress";
    case errc::no_quorum:
      return "no quorum";
  }
  return "?";
}

raft::raft(config cfg, restored_state restored)
  : cfg_(std::move(cfg)), rng_(cfg_.seed * 0x9E3779B97F4A7C15ULL ^ cfg_.id) {
  assert(cfg_.id != no_node);
  assert(std::find(cfg_.voters.begin(), cfg_.voters.end(), cfg_.id) != cfg_.voters.end());
  snapshot_meta boundary;
  if (restored.snap) {
    boundary = restored.snap->meta;
    snapshot_ = restored.snap;
  }
  log_.reset(boundary, std::move(restored.entries));
  term_ = restored.hard.term;
  vote_ = restored.hard.vote;
  // A crash between persisting the hard state and the entries can leave a commit index past
  // the durable log; the entries themselves are recoverable from the leader.
  commit_ = std::clamp(restored.hard.commit, boundary.index, log_.last_index());
  emitted_hard_ = {term_, vote_, commit_};
  unstable_from_ = log_.last_index() + 1;
  applied_handed_ = boundary.index;
  become_follower(term_, no_node);
}

// -- ticks ------------------------------------------------------------------------------------

void raft::reset_timers() {
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  randomized_timeout_ = cfg_.election_ticks
                        + static_cast<int>(rng_() % static_cast<uint64_t>(cfg_.election_ticks));
}

void raft::tick() {
  if (role_ != role::leader) {
    if (++election_elapsed_ >= randomized_timeout_)
      campaign();
    return;
  }
  ++heartbeat_elapsed_;
  ++election_elapsed_;
  for (auto& [id, pr] : progress_) {
    pr.tick();
    // A snapshot that got lost is sent again after an election timeout.
    if (pr.current() == progress::state::snapshot && pr.snapshot_ticks() >= cfg_.election_ticks)
      pr.become_probe();
  }
  if (election_elapsed_ >= cfg_.election_ticks) {
    election_elapsed_ = 0;
    if (cfg_.check_quorum && !check_quorum_active()) {
      // Cut off from the majority: stop acting as leader so clients go elsewhere (and a
      // lease-based read could never be served by a deposed leader).
      become_follower(term_, no_node);
      return;
    }
    transferee_ = no_node; // a transfer that did not finish in an election timeout is over
  }
  if (heartbeat_elapsed_ >= cfg_.heartbeat_ticks) {
    heartbeat_elapsed_ = 0;
    broadcast_heartbeat(0);
  }
}

int raft::quiet_ticks() const {
  if (role_ != role::leader)
    return std::max(0, randomized_timeout_ - election_elapsed_ - 1);
  int quiet = std::min(cfg_.heartbeat_ticks - heartbeat_elapsed_,
                       cfg_.election_ticks - election_elapsed_) - 1;
  for (auto& [id, pr] : progress_)
    if (pr.current() == progress::state::snapshot)
      quiet = std::min(quiet, cfg_.election_ticks - pr.snapshot_ticks() - 1);
  return std::max(0, quiet);
}

bool raft::check_quorum_active() {
  size_t active = 0;
  for (auto& [id, pr] : progress_) {
    if (id == cfg_.id || pr.recent_active())
      ++active;
    pr.set_recent_active(false);
  }
  return active >= quorum();
}

// -- role transitions ---------------------------------------------------------------------------

void raft::become_follower(term_t term, node_id leader) {
  if (term != term_) {
    term_ = term;
    vote_ = no_node;
  }
  role_ = role::follower;
  leader_ = leader;
  transferee_ = no_node;
  pending_reads_.clear();
  reads_before_commit_.clear();
  reset_timers();
}

void raft::become_pre_candidate() {
  role_ = role::pre_candidate;
  leader_ = no_node;
  votes_granted_.clear();
  votes_rejected_.clear();
  reset_timers();
}

void raft::become_candidate() {
  role_ = role::candidate;
  ++term_;
  vote_ = cfg_.id;
  leader_ = no_node;
  votes_granted_.clear();
  votes_rejected_.clear();
  reset_timers();
}

void raft::become_leader() {
  role_ = role::leader;
  leader_ = cfg_.id;
  transferee_ = no_node;
  pending_reads_.clear();
  reset_timers();
  progress_.clear();
  for (auto v : cfg_.voters) {
    progress p{log_.last_index() + 1, cfg_.max_inflight};
    if (v == cfg_.id) {
      p.maybe_update(log_.last_index());
      p.become_replicate();
    }
    progress_[v] = p;
  }
  // Entries of earlier terms commit only through an entry of this term (5.4.2).
  entry noop;
  noop.type = entry_type::noop;
  append_own({noop});
}

void raft::campaign() {
  if (role_ == role::leader)
    return;
  start_campaign(cfg_.pre_vote, false);
}

void raft::start_campaign(bool pre, bool forced) {
  term_t vote_term = 0;
  if (pre) {
    become_pre_candidate();
    vote_term = term_ + 1;
  } else {
    become_candidate();
    vote_term = term_;
  }
  votes_granted_.insert(cfg_.id);
  if (votes_granted_.size() >= quorum()) {
    if (pre)
      start_campaign(false, forced);
    else
      become_leader();
    return;
  }
  for (auto v : cfg_.voters) {
    if (v == cfg_.id)
      continue;
    message m;
    m.type = pre ? msg_type::pre_vote : msg_type::vote;
    m.to = v;
    m.term = vote_term;
    m.index = log_.last_index();
    m.log_term = log_.last_term();
    m.context = forced ? 1 : 0;
    send(std::move(m));
  }
}

// -- stepping -----------------------------------------------------------------------------------

void raft::send(message m) {
  m.from = cfg_.id;
  if (m.term == 0)
    m.term = term_;
  outbox_.push_back(std::move(m));
}

void raft::step(const message& m) {
  bool from_voter = std::find(cfg_.voters.begin(), cfg_.voters.end(), m.from)
                    != cfg_.voters.end();
  if (m.to != cfg_.id || !from_voter || m.from == cfg_.id)
    return; // not for us, or from outside the group
  bool is_vote = m.type == msg_type::pre_vote || m.type == msg_type::vote;
  if (m.term > term_) {
    if (is_vote) {
      // Leader lease: while this node hears from a leader, it ignores campaigns, so a node
      // coming back from a partition cannot depose a healthy leader. A transfer overrides it.
      bool forced = m.context == 1;
      bool in_lease = cfg_.check_quorum && leader_ != no_node
                      && election_elapsed_ < cfg_.election_ticks;
      if (!forced && in_lease)
        return;
    }
    if (m.type == msg_type::pre_vote) {
      // A pre-vote never changes anyone's term.
    } else if (m.type == msg_type::pre_vote_resp && !m.reject) {
      // A granted pre-vote carries the term we would campaign at: not a newer leader.
    } else {
      bool from_leader = m.type == msg_type::append || m.type == msg_type::heartbeat
                         || m.type == msg_type::snapshot;
      become_follower(m.term, from_leader ? m.from : no_node);
    }
  } else if (m.term < term_) {
    if ((cfg_.check_quorum || cfg_.pre_vote)
        && (m.type == msg_type::append || m.type == msg_type::heartbeat)) {
      // A deposed leader that missed the election: tell it the term so it steps down.
      message r;
      r.type = msg_type::append_resp;
      r.to = m.from;
      send(std::move(r));
    } else if (m.type == msg_type::pre_vote) {
      message r;
      r.type = msg_type::pre_vote_resp;
      r.to = m.from;
      r.reject = true;
      send(std::move(r));
    }
    return;
  }

  if (is_vote) {
    step_vote_request(m);
    return;
  }
  switch (role_) {
    case role::leader:
      step_leader(m);
      return;
    case role::pre_candidate:
    case role::candidate:
      switch (m.type) {
        case msg_type::append:
          become_follower(term_, m.from);
          handle_append(m);
          return;
        case msg_type::heartbeat:
          become_follower(term_, m.from);
          handle_heartbeat(m);
          return;
        case msg_type::snapshot:
          become_follower(term_, m.from);
          handle_snapshot(m);
          return;
        case msg_type::pre_vote_resp:
        case msg_type::vote_resp:
          step_vote_response(m);
          return;
        default:
          return;
      }
    case role::follower:
      switch (m.type) {
        case msg_type::append:
          election_elapsed_ = 0;
          leader_ = m.from;
          handle_append(m);
          return;
        case msg_type::heartbeat:
          election_elapsed_ = 0;
          leader_ = m.from;
          handle_heartbeat(m);
          return;
        case msg_type::snapshot:
          election_elapsed_ = 0;
          leader_ = m.from;
          handle_snapshot(m);
          return;
        case msg_type::timeout_now:
          start_campaign(false, true);
          return;
        default:
          return;
      }
  }
}

void raft::step_vote_request(const message& m) {
  bool pre = m.type == msg_type::pre_vote;
  bool can_vote = vote_ == m.from || (vote_ == no_node && leader_ == no_node)
                  || (pre && m.term > term_);
  message r;
  r.type = pre ? msg_type::pre_vote_resp : msg_type::vote_resp;
  r.to = m.from;
  if (can_vote && log_.is_up_to_date(m.index, m.log_term)) {
    r.term = m.term;
    if (!pre) {
      election_elapsed_ = 0;
      vote_ = m.from;
    }
  } else {
    r.reject = true;
  }
  send(std::move(r));
}

void raft::step_vote_response(const message& m) {
  bool pre = role_ == role::pre_candidate;
  if ((pre && m.type != msg_type::pre_vote_resp) || (!pre && m.type != msg_type::vote_resp))
    return;
  (m.reject ? votes_rejected_ : votes_granted_).insert(m.from);
  if (votes_granted_.size() >= quorum()) {
    if (pre) {
      start_campaign(false, false);
    } else {
      become_leader();
      broadcast_append();
    }
  } else if (votes_rejected_.size() >= quorum()) {
    become_follower(term_, no_node);
  }
}

void raft::step_leader(const message& m) {
  auto it = progress_.find(m.from);
  if (it == progress_.end() || m.from == cfg_.id)
    return;
  auto& pr = it->second;
  pr.set_recent_active(true);
  switch (m.type) {
    case msg_type::append_resp:
      if (m.reject) {
        if (pr.maybe_decrease(m.index, m.reject_hint)) {
          if (pr.current() == progress::state::replicate)
            pr.become_probe();
          send_append(m.from);
        }
        return;
      }
      if (pr.maybe_update(m.index)) {
        if (pr.current() == progress::state::probe)
          pr.become_replicate();
        else if (pr.current() == progress::state::snapshot && pr.match() >= pr.pending_snapshot())
          pr.become_replicate();
        if (maybe_commit())
          broadcast_append();
        else
          while (send_append(m.from)) {
          }
        if (m.from == transferee_ && pr.match() == log_.last_index()) {
          message t;
          t.type = msg_type::timeout_now;
          t.to = m.from;
          send(std::move(t));
        }
      }
      return;
    case msg_type::heartbeat_resp:
      pr.on_heartbeat_response();
      // Alive, behind, and no acknowledgement for half an election timeout: the appends in
      // flight were lost. Probe again from what it has (with a quiet leader, nothing else
      // would ever reveal the loss).
      if (pr.current() == progress::state::replicate && pr.match() < log_.last_index()
          && pr.stalled_ticks() >= std::max(1, cfg_.election_ticks / 2))
        pr.become_probe();
      if (pr.match() < log_.last_index())
        send_append(m.from);
      if (m.context != 0) {
        for (auto& r : pending_reads_)
          if (r.context == m.context) {
            r.acks.insert(m.from);
            if (r.acks.size() >= quorum())
              release_reads(m.context);
            break;
          }
      }
      return;
    default:
      return;
  }
}

// -- follower side ----------------------------------------------------------------------------

void raft::handle_append(const message& m) {
  message r;
  r.type = msg_type::append_resp;
  r.to = m.from;
  if (m.index < commit_) {
    r.index = commit_;
    send(std::move(r));
    return;
  }
  if (!log_.matches(m.index, m.log_term)) {
    r.reject = true;
    r.index = m.index;
    r.reject_hint = log_.last_index();
    send(std::move(r));
    return;
  }
  auto last_new = m.index + m.entries.size();
  auto written = log_.append(m.entries);
  if (written <= log_.last_index()) {
    assert(written > commit_); // committed entries never conflict (5.4)
    unstable_from_ = std::min(unstable_from_, written);
  }
  commit_ = std::max(commit_, std::min(m.commit, last_new));
  r.index = last_new;
  send(std::move(r));
}

void raft::handle_heartbeat(const message& m) {
  // The leader sends min(our match, its commit): entries up to there are identical to its own.
  commit_ = std::max(commit_, std::min(m.commit, log_.last_index()));
  message r;
  r.type = msg_type::heartbeat_resp;
  r.to = m.from;
  r.context = m.context;
  send(std::move(r));
}

void raft::handle_snapshot(const message& m) {
  message r;
  r.type = msg_type::append_resp;
  r.to = m.from;
  if (!m.snap) {
    return;
  }
  auto& s = *m.snap;
  if (s.meta.index <= commit_) {
    r.index = commit_;
  } else if (log_.matches(s.meta.index, s.meta.term)) {
    commit_ = s.meta.index; // we have it all already: just learn that it is committed
    r.index = s.meta.index;
  } else {
    log_.reset(s.meta, {});
    commit_ = s.meta.index;
    snapshot_ = s;
    unstable_snapshot_ = s;
    unstable_from_ = s.meta.index + 1;
    applied_handed_ = s.meta.index;
    r.index = s.meta.index;
  }
  send(std::move(r));
}

// -- leader side ------------------------------------------------------------------------------

bool raft::send_append(node_id to, bool allow_empty) {
  auto& pr = progress_[to];
  if (pr.paused())
    return false;
  auto prev = pr.next() - 1;
  auto prev_term = log_.term_at(prev);
  if (!prev_term) {
    // What the follower needs was compacted away: send the snapshot instead.
    if (!snapshot_)
      return false;
    message m;
    m.type = msg_type::snapshot;
    m.to = to;
    m.snap = snapshot_;
    pr.become_snapshot(snapshot_->meta.index);
    send(std::move(m));
    return false;
  }
  auto es = log_.slice(pr.next(), cfg_.max_msg_entries, cfg_.max_msg_bytes);
  if (es.empty() && !allow_empty)
    return false;
  message m;
  m.type = msg_type::append;
  m.to = to;
  m.index = prev;
  m.log_term = *prev_term;
  m.commit = commit_;
  bool sent_entries = !es.empty();
  pr.sent(sent_entries ? es.back().index : prev);
  m.entries = std::move(es);
  send(std::move(m));
  return sent_entries;
}

void raft::broadcast_append() {
  // One append even when empty (it carries the commit index), then as many more as the
  // pipeline allows while there are entries to send.
  for (auto v : cfg_.voters)
    if (v != cfg_.id && send_append(v, true))
      while (send_append(v)) {
      }
}

void raft::broadcast_heartbeat(uint64_t context) {
  for (auto v : cfg_.voters) {
    if (v == cfg_.id)
      continue;
    message m;
    m.type = msg_type::heartbeat;
    m.to = v;
    m.commit = std::min(progress_[v].match(), commit_);
    m.context = context;
    send(std::move(m));
  }
}

bool raft::committed_in_current_term() const {
  auto t = log_.term_at(commit_);
  return t && *t == term_;
}

bool raft::maybe_commit() {
  std::vector<index_t> matches;
  for (auto v : cfg_.voters)
    matches.push_back(progress_[v].match());
  std::sort(matches.begin(), matches.end(), std::greater<>());
  auto qi = matches[quorum() - 1];
  if (qi <= commit_ || log_.term_at(qi) != term_)
    return false;
  bool first_in_term = !committed_in_current_term();
  commit_ = qi;
  if (first_in_term && !reads_before_commit_.empty()) {
    auto waiting = std::move(reads_before_commit_);
    reads_before_commit_.clear();
    for (auto ctx : waiting)
      read_index(ctx);
  }
  return true;
}

void raft::append_own(std::vector<entry> es) {
  for (auto& e : es) {
    e.term = term_;
    e.index = log_.last_index() + 1;
    log_.append({e});
  }
  progress_[cfg_.id].maybe_update(log_.last_index());
  maybe_commit();
}

propose_result raft::propose(std::string data) {
  if (role_ != role::leader)
    return {errc::not_leader, 0, 0};
  if (transferee_ != no_node)
    return {errc::transfer_in_progress, 0, 0};
  entry e;
  e.data = std::move(data);
  append_own({std::move(e)});
  // Sending waits for take_ready(): proposals made together travel in one append.
  need_broadcast_ = true;
  return {errc::none, log_.last_index(), term_};
}

errc raft::read_index(uint64_t context) {
  if (role_ != role::leader)
    return errc::not_leader;
  if (!committed_in_current_term()) {
    // Until this term commits an entry, the leader may not know the latest commit index.
    reads_before_commit_.push_back(context);
    return errc::none;
  }
  if (quorum() == 1) {
    reads_.push_back({context, commit_});
    return errc::none;
  }
  pending_reads_.push_back({context, commit_, {cfg_.id}});
  read_heartbeat_ = context; // one heartbeat round confirms every read asked before it
  return errc::none;
}

void raft::release_reads(uint64_t context) {
  auto it = std::find_if(pending_reads_.begin(), pending_reads_.end(),
                         [&](const pending_read& r) { return r.context == context; });
  if (it == pending_reads_.end())
    return;
  ++it;
  for (auto i = pending_reads_.begin(); i != it; ++i)
    reads_.push_back({i->context, i->index});
  pending_reads_.erase(pending_reads_.begin(), it);
}

void raft::transfer_leadership(node_id to) {
  if (role_ != role::leader || to == cfg_.id || progress_.count(to) == 0 || transferee_ == to)
    return;
  transferee_ = to;
  election_elapsed_ = 0; // the transfer must finish within an election timeout
  if (progress_[to].match() == log_.last_index()) {
    message t;
    t.type = msg_type::timeout_now;
    t.to = to;
    send(std::move(t));
  } else {
    send_append(to);
  }
}

void raft::compact(index_t index, std::string data) {
  if (index > applied_handed_ || index <= log_.snapshot_boundary().index
      || index > log_.last_index())
    return;
  auto t = *log_.term_at(index);
  log_.compact(index);
  snapshot_ = snapshot{{index, t}, std::move(data)};
  unstable_from_ = std::max(unstable_from_, index + 1);
}

// -- ready ------------------------------------------------------------------------------------

bool raft::has_ready() const {
  return need_broadcast_ || read_heartbeat_ != 0 || !outbox_.empty() || !reads_.empty()
         || unstable_snapshot_ || unstable_from_ <= log_.last_index() || commit_ > applied_handed_
         || hard_state{term_, vote_, commit_} != emitted_hard_;
}

ready raft::take_ready() {
  if (role_ == role::leader) {
    if (need_broadcast_)
      broadcast_append();
    if (read_heartbeat_ != 0)
      broadcast_heartbeat(read_heartbeat_);
  }
  need_broadcast_ = false;
  read_heartbeat_ = 0;
  ready r;
  hard_state hs{term_, vote_, commit_};
  if (hs != emitted_hard_) {
    r.hard = hs;
    emitted_hard_ = hs;
  }
  if (unstable_snapshot_) {
    r.snap = std::move(unstable_snapshot_);
    unstable_snapshot_.reset();
  }
  if (unstable_from_ <= log_.last_index()) {
    r.entries = log_.range(unstable_from_, log_.last_index());
    unstable_from_ = log_.last_index() + 1;
  }
  if (commit_ > applied_handed_) {
    r.committed = log_.range(applied_handed_ + 1, commit_);
    applied_handed_ = commit_;
  }
  r.messages = std::move(outbox_);
  outbox_.clear();
  r.reads = std::move(reads_);
  reads_.clear();
  return r;
}

} // namespace troupe::raft
