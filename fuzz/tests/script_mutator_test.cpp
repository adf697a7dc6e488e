// The session-level scripts' mutator (mutate/script_mutator.h) on the three targets compiled
// into this test: every checked-in seed decodes (by running it) and encodes back byte for
// byte; each edit does what it says on the Tape; the share of mutants that decode to the op
// list the edit meant is measured and printed.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mutate/script_mutator.h"
#include "script/import_ops.h"
#include "script/state_upload_ops.h"
#include "script/sync_session_ops.h"
#include "script/tape_codec.h"

ics_fuzz::Tape ics_fuzz_decode_state_upload(const std::uint8_t* data, std::size_t size);
ics_fuzz::Tape ics_fuzz_decode_import(const std::uint8_t* data, std::size_t size);
ics_fuzz::Tape ics_fuzz_decode_sync_session(const std::uint8_t* data, std::size_t size);
ics_fuzz::Tape ics_fuzz_record_state_upload(const std::uint8_t* data, std::size_t size);
ics_fuzz::Tape ics_fuzz_record_import(const std::uint8_t* data, std::size_t size);
ics_fuzz::Tape ics_fuzz_record_sync_session(const std::uint8_t* data, std::size_t size);
// The targets' LLVMFuzzerTestOneInput, renamed (fuzz/CMakeLists.txt).
extern "C" int ics_test_one_input_state_upload(const std::uint8_t* data, std::size_t size);
extern "C" int ics_test_one_input_import(const std::uint8_t* data, std::size_t size);
extern "C" int ics_test_one_input_sync_session(const std::uint8_t* data, std::size_t size);

namespace {

using Bytes = std::vector<std::uint8_t>;
using ics_fuzz::ScriptEdit;
using ics_fuzz::ScriptTraits;
using ics_fuzz::Tape;
using ics_fuzz::TapeRead;

struct Target {
  const char* name;
  ics_fuzz::ScriptDecoder decode;
  ScriptTraits traits;
  ics_fuzz::ScriptDecoder record;       // always by running the input
  int (*one_input)(const std::uint8_t*, std::size_t);  // the fuzzer's entry point
};

const Target kTargets[] = {
    {"state_upload", &ics_fuzz_decode_state_upload,
     {std::size(ics_fuzz::state_upload::kSlots), ics_fuzz::state_upload::kMaxSteps, true, false},
     &ics_fuzz_record_state_upload, &ics_test_one_input_state_upload},
    {"import", &ics_fuzz_decode_import, {std::size(ics_fuzz::import::kSlots), ics_fuzz::import::kMaxSteps, false, false},
     &ics_fuzz_record_import, &ics_test_one_input_import},
    {"sync_session", &ics_fuzz_decode_sync_session,
     {std::size(ics_fuzz::sync_session::kSlots), ics_fuzz::sync_session::kMaxSteps, false, true},
     &ics_fuzz_record_sync_session, &ics_test_one_input_sync_session},
};

const Target& target(std::string_view name) {
  for (const Target& t : kTargets) {
    if (t.name == name) return t;
  }
  std::abort();
}

std::vector<Bytes> seeds(const char* what) {
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(std::string(ICS_CORPUS_DIR) + "/" + what)) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::vector<Bytes> out;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    out.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return out;
}

Tape decode(const Target& t, const Bytes& b) { return t.decode(b.data(), b.size()); }

// A mutant decodes as meant: the same ops, by name, in the same order.
bool decodes_as_meant(const Target& t, const Tape& mutant) {
  const Bytes b = ics_fuzz::encode_tape(mutant);
  return ics_fuzz::op_names(decode(t, b)) == ics_fuzz::op_names(mutant);
}

// The first mutant of a kind over the target's seeds (rng seeds 1, 2, ...).
bool first_mutant(const Target& t, ScriptEdit e, Tape& before, Tape& after, std::uint64_t from = 1) {
  const std::vector<Bytes> all = seeds(t.name);
  for (std::uint64_t s = from; s < from + 64; ++s) {
    before = decode(t, all[s % all.size()]);
    ics_fuzz::settle(before, t.traits);  // short reads completed, as every edit does
    after = before;
    ics_fuzz::Rng rng(s);
    if (ics_fuzz::edit_script(e, after, t.traits, rng)) return true;
  }
  return false;
}

std::size_t loop_count(const Tape& t) { return ics_fuzz::loop_ops(t).size(); }

TEST(ScriptTape, EverySeedDecodesAndEncodesBackByteForByte) {
  for (const Target& t : kTargets) {
    const std::vector<Bytes> all = seeds(t.name);
    ASSERT_FALSE(all.empty()) << t.name;
    for (std::size_t i = 0; i < all.size(); ++i) {
      const Tape tape = decode(t, all[i]);
      EXPECT_TRUE(tape.finished) << t.name << " seed " << i;
      ASSERT_FALSE(tape.ops.empty());
      EXPECT_EQ(tape.ops.back().name, "finish");
      EXPECT_EQ(ics_fuzz::encode_tape(tape), all[i]) << t.name << " seed " << i;
    }
  }
}

TEST(ScriptTape, RecordsTheOpsAndValuesTheTargetReads) {
  // corpus/state_upload/266f20d6...: the seed fuzz/CMakeLists.txt's describe test prints.
  std::ifstream in(std::string(ICS_CORPUS_DIR) + "/state_upload/266f20d60edc91a06e33b93dbf0f8b5c7031f191", std::ios::binary);
  const Bytes b{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  const Tape tape = decode(target("state_upload"), b);
  EXPECT_EQ(ics_fuzz::op_names(tape),
            (std::vector<std::string>{"setup", "begin", "continue", "end", "begin", "continue", "end", "get_buffer",
                                      "transfer_state", "finish"}));
  const auto& begin = tape.ops[1].reads;  // tag 0 (IdsetGiven), size 27
  ASSERT_EQ(begin.size(), 2u);
  EXPECT_EQ(begin[0].off, 0u);
  EXPECT_EQ(begin[0].span, 11u);
  EXPECT_EQ(begin[1].off, 27u);
  const auto& cont = tape.ops[2].reads;  // length 27, 27 bytes, one split of 27
  ASSERT_EQ(cont.size(), 3u);
  EXPECT_EQ(cont[1].kind, TapeRead::Kind::Bytes);
  EXPECT_EQ(cont[1].raw.size(), 27u);
  EXPECT_EQ(cont[2].min + cont[2].off, 27u);
  EXPECT_TRUE(tape.rest.empty());
}

TEST(ScriptMutator, InsertDeleteDuplicateSwapMoveChangeTheLoopOps) {
  for (const Target& t : kTargets) {
    Tape before, after;
    ASSERT_TRUE(first_mutant(t, ScriptEdit::InsertOp, before, after)) << t.name;
    EXPECT_EQ(loop_count(after), loop_count(before) + 1) << t.name;
    ASSERT_TRUE(first_mutant(t, ScriptEdit::DeleteOp, before, after)) << t.name;
    EXPECT_EQ(loop_count(after) + 1, loop_count(before)) << t.name;
    ASSERT_TRUE(first_mutant(t, ScriptEdit::DuplicateOp, before, after)) << t.name;
    EXPECT_EQ(loop_count(after), loop_count(before) + 1) << t.name;
    for (ScriptEdit e : {ScriptEdit::SwapOps, ScriptEdit::MoveOp}) {
      ASSERT_TRUE(first_mutant(t, e, before, after)) << t.name << " " << ics_fuzz::edit_name(e);
      auto a = ics_fuzz::op_names(before), b = ics_fuzz::op_names(after);
      EXPECT_NE(after.ops, before.ops);
      std::sort(a.begin(), a.end());
      std::sort(b.begin(), b.end());
      EXPECT_EQ(a, b) << t.name << " " << ics_fuzz::edit_name(e);  // the same ops, reordered
    }
  }
}

TEST(ScriptMutator, OperandAndPayloadChangeOneValue) {
  for (const Target& t : kTargets) {
    Tape before, after;
    ASSERT_TRUE(first_mutant(t, ScriptEdit::Operand, before, after)) << t.name;
    EXPECT_EQ(ics_fuzz::op_names(after), ics_fuzz::op_names(before));
    std::size_t changed_ops = 0;
    for (std::size_t i = 0; i < before.ops.size(); ++i) changed_ops += before.ops[i] != after.ops[i];
    EXPECT_EQ(changed_ops, 1u) << t.name;
  }
  for (std::uint64_t s = 1; s < 40; ++s) {  // import's byte runs: a run and the length that asked for it agree
    Tape before, after;
    ASSERT_TRUE(first_mutant(target("import"), ScriptEdit::Payload, before, after, s));
    std::size_t changed_ops = 0;
    for (std::size_t i = 0; i < before.ops.size(); ++i) changed_ops += before.ops[i] != after.ops[i];
    EXPECT_EQ(changed_ops, 1u);
    for (const auto& op : after.ops) {
      for (std::size_t j = 0; j + 1 < op.reads.size(); ++j) {
        const TapeRead &len = op.reads[j], &run = op.reads[j + 1];
        if (len.kind == TapeRead::Kind::Int && run.kind == TapeRead::Kind::Bytes && run.want == len.min + len.off) {
          EXPECT_EQ(run.raw.size(), run.want);
        }
      }
    }
  }
}

// The value an upload sends: its continue calls' bytes, joined.
Bytes upload_value(const Tape& t, std::size_t begin) {
  Bytes v;
  for (std::size_t i = begin + 1; i < t.ops.size() && t.ops[i].name != "end"; ++i) {
    if (t.ops[i].name == "continue") v.insert(v.end(), t.ops[i].reads[1].raw.begin(), t.ops[i].reads[1].raw.end());
  }
  return v;
}

std::vector<Bytes> upload_values(const Tape& t) {
  std::vector<Bytes> out;
  for (std::size_t i = 0; i < t.ops.size(); ++i) {
    if (t.ops[i].name == "begin" || t.ops[i].name == "begin_any_size") out.push_back(upload_value(t, i));
  }
  return out;
}

TEST(ScriptMutator, StreamValueChangesAnUploadedValueResplitKeepsIt) {
  const Target& t = target("state_upload");
  for (std::uint64_t s = 1; s < 30; ++s) {
    Tape before, after;
    ASSERT_TRUE(first_mutant(t, ScriptEdit::Resplit, before, after, s));
    EXPECT_EQ(upload_values(after), upload_values(before)) << "rng " << s;  // same bytes, other pieces
    ASSERT_TRUE(first_mutant(t, ScriptEdit::StreamValue, before, after, s));
    EXPECT_NE(upload_values(after), upload_values(before)) << "rng " << s;
    for (const auto& op : after.ops) {  // every continue call sends at most 96 bytes, split whole
      if (op.name != "continue" || op.reads.size() < 2) continue;
      EXPECT_EQ(op.reads[0].off, op.reads[1].raw.size());
      EXPECT_LE(op.reads[1].raw.size(), 96u);
    }
  }
}

TEST(ScriptMutator, ReplicasKeepsTheReplicaOpsAndPicksInStep) {
  const Target& t = target("sync_session");
  for (std::uint64_t s = 1; s < 20; ++s) {
    Tape before, after;
    ASSERT_TRUE(first_mutant(t, ScriptEdit::Replicas, before, after, s));
    const auto& count = after.ops[0].reads.back();
    const auto names = ics_fuzz::op_names(after);
    EXPECT_EQ(static_cast<std::uint64_t>(std::count(names.begin(), names.end(), "replica")), count.min + count.off);
    EXPECT_TRUE(decodes_as_meant(t, after)) << "rng " << s;
  }
}

// Mutants of every seed, every edit: the share that decodes to the ops the edit meant, and the
// mutator's own output (with the byte fallback) still a script that runs to "finish".
// The log of a run (script/tape_log.h) gives the Tape a recording run gives, for the seeds and
// for mutants of them, and only for the input that ran last. The entry point logs inside the
// process-heap oracle, which traps (this test crashes) if logging allocated in its window.
TEST(ScriptTapeLog, TheLastRunsLogIsTheTapeOfItsInputOnly) {
  ASSERT_NE(ics_fuzz::run_log(), nullptr);
  for (const Target& t : kTargets) {
    std::vector<Bytes> inputs = seeds(t.name);
    const std::size_t n_seeds = inputs.size();
    for (unsigned seed = 1; seed <= 24; ++seed) {
      Bytes b = inputs[seed % n_seeds];
      b.resize(b.size() + 512);
      const std::size_t n = ics_fuzz::script_custom_mutate(b.data(), inputs[seed % n_seeds].size(), b.size(), seed,
                                                           nullptr, t.record, t.traits);
      b.resize(n);
      inputs.push_back(b);
    }
    std::size_t logged = 0;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      const Bytes& in = inputs[i];
      t.one_input(in.data(), in.size());
      const std::optional<Tape> from_log = ics_fuzz::last_run_log().tape_for(in.data(), in.size());
      const Tape by_run = t.record(in.data(), in.size());
      if (!by_run.finished) {
        EXPECT_FALSE(from_log.has_value()) << t.name << " input " << i;
        continue;
      }
      ASSERT_TRUE(from_log.has_value()) << t.name << " input " << i;
      EXPECT_EQ(*from_log, by_run) << t.name << " input " << i;
      ++logged;
      if (!in.empty()) {
        Bytes other = in;
        other[0] ^= 1;
        EXPECT_FALSE(ics_fuzz::last_run_log().tape_for(other.data(), other.size()).has_value()) << t.name;
      }
    }
    EXPECT_GE(logged, n_seeds) << t.name;
    const Bytes& first = inputs.front();
    const Bytes& last = inputs.back();
    if (first != last) {
      EXPECT_FALSE(ics_fuzz::last_run_log().tape_for(first.data(), first.size()).has_value())
          << t.name << ": the log is of the last run only";
    }
  }
}

TEST(ScriptMutator, MostMutantsDecodeToTheMeantOps) {
  for (const Target& t : kTargets) {
    const std::vector<Bytes> all = seeds(t.name);
    std::map<std::string, std::pair<int, int>> per_edit;  // meant, tried
    int meant = 0, tried = 0;
    for (std::uint64_t s = 1; tried < 120 && s < 1000; ++s) {
      const auto e = static_cast<ScriptEdit>(s % static_cast<std::uint64_t>(ScriptEdit::kCount));
      Tape tape = decode(t, all[s % all.size()]);
      ics_fuzz::Rng rng(s);
      if (!ics_fuzz::edit_script(e, tape, t.traits, rng)) continue;
      const bool ok = decodes_as_meant(t, tape);
      meant += ok;
      ++tried;
      auto& [m, n] = per_edit[std::string(ics_fuzz::edit_name(e))];
      m += ok;
      ++n;
    }
    std::printf("%s: %d of %d mutants decode to the ops meant (%.0f %%):", t.name, meant, tried, 100.0 * meant / tried);
    for (const auto& [name, mn] : per_edit) std::printf(" %s %d/%d", name.c_str(), mn.first, mn.second);
    std::printf("\n");
    EXPECT_GE(tried, 100) << t.name;
    EXPECT_GE(meant * 100, tried * 75) << t.name;
  }
}

TEST(ScriptMutator, TheHookIsAPureFunctionOfInputAndSeedAndKeepsToMaxSize) {
  for (const Target& t : kTargets) {
    const std::vector<Bytes> all = seeds(t.name);
    for (unsigned seed = 1; seed < 12; ++seed) {
      Bytes a = all[seed % all.size()], b = a;
      a.resize(a.size() + 256);
      b.resize(b.size() + 256);
      const std::size_t size = all[seed % all.size()].size();
      const std::size_t na = ics_fuzz::script_custom_mutate(a.data(), size, a.size(), seed, nullptr, t.decode, t.traits);
      const std::size_t nb = ics_fuzz::script_custom_mutate(b.data(), size, b.size(), seed, nullptr, t.decode, t.traits);
      ASSERT_EQ(na, nb);
      EXPECT_TRUE(std::equal(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(na), b.begin()));
      Bytes small = all[seed % all.size()];
      const std::size_t ns = ics_fuzz::script_custom_mutate(small.data(), small.size(), small.size(), seed, nullptr,
                                                            t.decode, t.traits);
      EXPECT_LE(ns, small.size());
    }
    Bytes out(4096);
    std::size_t crossed = 0;
    for (unsigned seed = 0; seed < 16; ++seed) {
      const Bytes& x = all[seed % all.size()];
      const Bytes& y = all[(seed + 1) % all.size()];
      const std::size_t n = ics_fuzz::script_custom_crossover(x.data(), x.size(), y.data(), y.size(), out.data(),
                                                              out.size(), seed, t.decode, t.traits);
      if (n == 0) continue;
      ++crossed;
      EXPECT_TRUE(t.decode(out.data(), n).finished) << t.name;
    }
    EXPECT_GT(crossed, 0u) << t.name;
  }
}

}  // namespace
