// `icsctl sync`: a real conversation against the built-in engine, kept as
// bytes (the files and summary.json are a contract: README.md, "icsctl").
#pragma once

#include <string>
#include <vector>

#include "ics/errors.h"

namespace ics::tool {

// args: what follows "sync" on the command line. InvalidParameter for a
// malformed or missing argument; GeneralFailure when DIR cannot be written.
Status sync_command(const std::vector<std::string>& args);

}  // namespace ics::tool
