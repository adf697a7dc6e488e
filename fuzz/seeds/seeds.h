// What the seed files share (fuzz/gen_corpus.cpp and fuzz/seeds/<what>_seeds.cpp): the
// sink that writes OUTDIR/<what>/<label> and counts mismatches, and small helpers. Each
// scripted target's seeds live beside its script header, in seeds/<what>_seeds.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <string_view>
#include <utility>

#include "ics/bytes.h"
#include "ics/errors.h"
#include "script/fdp_writer.h"

namespace ics_seeds {

using ics::Bytes;
using Rng = std::mt19937_64;

class Seeds {
 public:
  // Seeds go to root/<what>/<label>; with an ops_root, each session-level script's op
  // names (one a line) go to ops_root/<what>/<label>, for fuzz/check-seed-ops.
  explicit Seeds(std::filesystem::path root, std::filesystem::path ops_root = {})
      : root_(std::move(root)), ops_root_(std::move(ops_root)) {}

  void write(std::string_view what, std::string_view label, const ics_fuzz::FdpWriter& script) {
    write(what, label, script.out());
    if (ops_root_.empty()) return;
    std::string names;
    for (const std::string& op : script.ops()) names += op + "\n";
    write_file(ops_root_ / std::string(what), label, Bytes(names.begin(), names.end()));
  }

  void write(std::string_view what, std::string_view label, const Bytes& bytes) {
    write_file(root_ / std::string(what), label, bytes);
    ++count_;
  }
  // Records a seed that is not what it was written to be (its outcome, or its ops).
  void mismatch(std::string_view what, std::string_view label, const std::string& got) {
    std::fprintf(stderr, "gen_corpus: %.*s/%.*s: %s\n", static_cast<int>(what.size()), what.data(),
                 static_cast<int>(label.size()), label.data(), got.c_str());
    ++mismatches_;
  }
  int exit_code() const { return io_error_ ? 2 : mismatches_ != 0 ? 1 : 0; }
  int count() const { return count_; }

 private:
  void write_file(const std::filesystem::path& dir, std::string_view label, const Bytes& bytes) {
    std::filesystem::create_directories(dir);
    std::ofstream out(dir / std::string(label), std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!out) {
      std::fprintf(stderr, "gen_corpus: cannot write %s/%s\n", dir.c_str(), std::string(label).c_str());
      io_error_ = true;
    }
  }

  std::filesystem::path root_, ops_root_;
  int count_ = 0;
  int mismatches_ = 0;
  bool io_error_ = false;
};

// Aborts the generator on an engine call that must succeed (a generator bug).
inline void must(const ics::Status& st, const char* what) {
  if (st.ok()) return;
  std::fprintf(stderr, "gen_corpus: %s: %s\n", what, st.error().to_string().c_str());
  std::exit(2);
}

inline Bytes concat(const Bytes& a, const Bytes& b) {
  Bytes out = a;
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

inline Bytes random_bytes(Rng& rng, std::size_t n) {
  Bytes b(n);
  for (auto& x : b) x = static_cast<std::uint8_t>(rng());
  return b;
}

// The scripted targets' seeds, in the order the generator calls them (they draw from one
// Rng, so the order keeps the random seeds as they were).
void globset_ops_seeds(Seeds& seeds, Rng& rng);
void state_upload_seeds(Seeds& seeds, Rng& rng);
void import_seeds(Seeds& seeds, Rng& rng);
void sync_session_seeds(Seeds& seeds, Rng& rng);

}  // namespace ics_seeds
