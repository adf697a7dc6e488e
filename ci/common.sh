# Shared helpers for ci/ scripts. Source it; do not run it.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT
JOBS="${JOBS:-$(nproc)}"
export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$JOBS}"
# Objects are shared between checkouts (worktrees, bug-zoo variants) when paths are relative.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$ROOT}"
# UBSan reports carry a stack, so triage can compute a crash state from three frames.
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"

say() { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }
run() { say "+ $*"; "$@"; }
