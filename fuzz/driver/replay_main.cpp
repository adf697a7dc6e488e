// A libFuzzer-compatible replay driver: links with any fuzz_<what>.cpp so that
// g++ builds (no libFuzzer) run every target over its corpus. Arguments are
// files or directories (recursed, sorted). Exit 0 when every input ran; an
// oracle failure traps and kills the process, which ctest reports.
// With --describe first, each input is printed one operation a line on stdout
// instead (the target's IcsFuzzDescribe; `fuzz/describe` calls this).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int* argc, char*** argv);
// Defined by the targets whose input is an op script (fuzz/script/).
extern "C" __attribute__((weak)) int IcsFuzzDescribe(const std::uint8_t* data, std::size_t size);

namespace {

std::vector<std::filesystem::path> collect(int argc, char** argv) {
  std::vector<std::filesystem::path> files;
  for (int i = 1; i < argc; ++i) {
    std::filesystem::path p(argv[i]);
    if (std::filesystem::is_directory(p)) {
      for (const auto& e : std::filesystem::recursive_directory_iterator(p)) {
        if (e.is_regular_file()) files.push_back(e.path());
      }
    } else if (argv[i][0] != '-') {
      files.push_back(p);
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

bool read_file(const std::filesystem::path& p, std::vector<std::uint8_t>& out) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return false;
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  const bool describe = argc > 1 && std::string(argv[1]) == "--describe";
  if (describe && !IcsFuzzDescribe) {
    std::fprintf(stderr, "replay: this target has no op script to describe\n");
    return 2;
  }
  if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
  std::vector<std::filesystem::path> files = collect(argc, argv);
  if (files.empty()) {
    std::fprintf(stderr, "replay: no input files\n");
    return 2;
  }
  std::vector<std::uint8_t> data;
  for (const auto& f : files) {
    if (!read_file(f, data)) {
      std::fprintf(stderr, "replay: cannot read %s\n", f.c_str());
      return 2;
    }
    if (!describe) std::fprintf(stderr, "replay: %s (%zu bytes)\n", f.c_str(), data.size());
    // A fresh heap copy of exactly the input size, so ASan sees overreads.
    std::vector<std::uint8_t> copy(data);
    static std::uint8_t empty_input = 0;
    const std::uint8_t* input = copy.empty() ? &empty_input : copy.data();
    if (describe) {
      IcsFuzzDescribe(input, copy.size());
    } else {
      LLVMFuzzerTestOneInput(input, copy.size());
    }
  }
  if (!describe) std::fprintf(stderr, "replay: %zu inputs ran\n", files.size());
  return 0;
}
