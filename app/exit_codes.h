// citybed's process exit codes (documented in README.md).
#pragma once

namespace citybed::app {

enum ExitCode : int {
  kExitOk = 0,            // success; for `run`: a valid run with every SLO met
  kExitSloFailed = 1,     // a valid run in which at least one SLO failed or had too few samples
  kExitUsage = 2,         // bad command line, invalid scenario, --out holding a run: nothing was run
  kExitInvalidRun = 3,    // the run is not a trustworthy measurement (generator fell behind,
                          // broker unreachable, interrupted, nothing measured)
  kExitRuntimeError = 4,  // could not do the job: port in use, results not writable, ...
};

}  // namespace citybed::app
