// `troupe console --connect HOST:PORT [--token T] [--json]`: an interactive prompt over the
// ctl commands, with line editing, history (~/.troupe_history) and tab completion of commands,
// options, member names, actor ids and names, and deployment names (libedit).
#pragma once

#include "nodes/cli.hpp"

namespace troupe {

/// Runs the console until `quit` or end of input. Returns 69 when the cluster cannot be
/// reached at start, 0 otherwise.
int run_console(const console_command& cmd);

/// Splits a console line into words: whitespace separates, '...' and "..." quote, a backslash
/// escapes the next character. Returns false (and the problem) for an unterminated quote.
bool split_words(const std::string& line, std::vector<std::string>& words, std::string& problem);

} // namespace troupe
