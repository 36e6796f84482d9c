#include "protocols/raft/codec.hpp"

#include "raft.pb.h"

namespace troupe::raft {

namespace pb = troupe::raft::wire;

const char* to_string(codec_errc e) {
  switch (e) {
    case codec_errc::none:
      return "none";
    case codec_errc::frame_too_large:
      return "frame_too_large";
    case codec_errc::malformed:
      return "malformed";
    case codec_errc::invalid_value:
      return "invalid_value";
  }
  return "unknown";
}

std::string encode(const message& m) {
  pb::Message out;
  out.set_type(static_cast<uint32_t>(m.type));
  out.set_from(m.from);
  out.set_to(m.to);
  out.set_term(m.term);
  out.set_index(m.index);
  out.set_log_term(m.log_term);
  for (auto& e : m.entries) {
    auto* pe = out.add_entries();
    pe->set_term(e.term);
    pe->set_index(e.index);
    pe->set_type(static_cast<uint32_t>(e.type));
    pe->set_data(e.data);
  }
  out.set_commit(m.commit);
  out.set_reject(m.reject);
  out.set_reject_hint(m.reject_hint);
  out.set_context(m.context);
  if (m.snap) {
    auto* ps = out.mutable_snapshot();
    ps->set_index(m.snap->meta.index);
    ps->set_term(m.snap->meta.term);
    ps->set_data(m.snap->data);
  }
  return out.SerializeAsString();
}

codec_errc decode(std::string_view bytes, message& out) {
  if (bytes.size() > codec_limits::max_frame_size)
    return codec_errc::frame_too_large;
  pb::Message in;
  if (!in.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return codec_errc::malformed;
  if (in.type() > static_cast<uint32_t>(msg_type::timeout_now) || in.from() == no_node
      || in.to() == no_node || in.term() == 0)
    return codec_errc::invalid_value;
  if (static_cast<size_t>(in.entries_size()) > codec_limits::max_entries)
    return codec_errc::invalid_value;
  out = message{};
  out.type = static_cast<msg_type>(in.type());
  out.from = in.from();
  out.to = in.to();
  out.term = in.term();
  out.index = in.index();
  out.log_term = in.log_term();
  out.entries.reserve(in.entries_size());
  index_t expect = in.index() + 1;
  for (auto& pe : in.entries()) {
    // Entries of an append are consecutive after (index, log_term), never from the future.
    if (pe.type() > 1 || pe.index() != expect++ || pe.term() == 0 || pe.term() > in.term())
      return codec_errc::invalid_value;
    out.entries.push_back(
      entry{pe.term(), pe.index(), static_cast<entry_type>(pe.type()), pe.data()});
  }
  out.commit = in.commit();
  out.reject = in.reject();
  out.reject_hint = in.reject_hint();
  out.context = in.context();
  if (in.has_snapshot()) {
    if (out.type != msg_type::snapshot || in.snapshot().index() == 0)
      return codec_errc::invalid_value;
    out.snap = snapshot{{in.snapshot().index(), in.snapshot().term()}, in.snapshot().data()};
  } else if (out.type == msg_type::snapshot) {
    return codec_errc::invalid_value;
  }
  return codec_errc::none;
}

} // namespace troupe::raft
