// Ctrl-C (SIGINT) or SIGTERM while a client command follows something until told to stop
// (`kv watch`, `ctl subscribe`, `ctl logs --follow`): the command ends cleanly (in the
// console: back to the prompt) instead of the process dying.
#pragma once

#include <csignal>

namespace troupe {

/// While one lives, SIGINT and SIGTERM set a flag instead of ending the process; the handlers
/// before it are restored when it goes. One at a time.
class interrupt_scope {
public:
  interrupt_scope();
  ~interrupt_scope();
  interrupt_scope(const interrupt_scope&) = delete;
  interrupt_scope& operator=(const interrupt_scope&) = delete;

  /// Whether SIGINT or SIGTERM came since the scope began.
  static bool interrupted();

private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

} // namespace troupe
