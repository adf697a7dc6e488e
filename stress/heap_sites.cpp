#include "heap_sites.h"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstdio>
#include <map>
#include <memory>
#include <sstream>
#include <string_view>

namespace ics::stress::heap {

namespace {

constexpr std::size_t kSiteFrames = 3;  // ClusterFuzz's crash state

struct Module {
  std::string path;
  std::uintptr_t base = 0;
  bool relative = false;  // a PIE or shared object: addr2line wants offsets
};

// The executable's path ("/proc/self/exe" would name addr2line in the child).
std::string self_exe() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

bool module_of(std::uintptr_t pc, Module& m) {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(pc), &info) == 0 || info.dli_fbase == nullptr) return false;
  Dl_info self{};
  dladdr(reinterpret_cast<void*>(&module_of), &self);
  m.base = reinterpret_cast<std::uintptr_t>(info.dli_fbase);
  m.relative = static_cast<const ElfW(Ehdr)*>(info.dli_fbase)->e_type == ET_DYN;
  m.path = self.dli_fbase == info.dli_fbase ? self_exe()
                                            : (info.dli_fname != nullptr ? info.dli_fname : "");
  return !m.path.empty() && m.path.find('\'') == std::string::npos;
}

// "T& std::vector<T>::emplace_back<T>" -> "std::vector<T>::emplace_back<T>": a template
// function's demangled name starts with its return type, up to a space outside <> and ().
std::string strip_return_type(const std::string& name) {
  int depth = 0;
  std::size_t cut = std::string::npos;
  const std::size_t end = std::min(name.size(), name.find("operator"));  // "operator delete"
  for (std::size_t i = 0; i < end; ++i) {
    const char c = name[i];
    if (c == '<' || c == '(') ++depth;
    if (c == '>' || c == ')') --depth;
    if (c == ' ' && depth == 0) cut = i;
  }
  return cut == std::string::npos ? name : name.substr(cut + 1);
}

// "a::b(int, char) const" -> "a::b"
std::string strip_parameters(std::string name) {
  for (std::string_view suffix : {" const", " volatile", " &&", " &"}) {
    if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      name.resize(name.size() - suffix.size());
    }
  }
  if (!name.empty() && name.back() == ')') {
    int depth = 0;
    for (std::size_t i = name.size(); i-- > 0;) {
      if (name[i] == ')') ++depth;
      if (name[i] == '(' && --depth == 0) {
        name.resize(i);
        break;
      }
    }
  }
  return strip_return_type(name);
}

// The path inside the source tree ("engine/src/x.cpp"), or "" outside it: from the last
// "engine/", "stress/" or "fuzz/" that starts a path component (the checkout's own folder
// may hold such a name further up).
std::string project_path(const std::string& file) {
  std::size_t best = std::string::npos;
  for (std::string_view top : {"engine/", "stress/", "fuzz/"}) {
    for (std::size_t at = file.find(top); at != std::string::npos; at = file.find(top, at + 1)) {
      if ((at == 0 || file[at - 1] == '/') && (best == std::string::npos || at > best)) best = at;
    }
  }
  return best == std::string::npos ? std::string() : file.substr(best);
}

// Project code: a file of the source tree, or a function of namespace ics whose line addr2line
// gave to an inlined standard header (it then names no inline chain).
bool is_project(const Frame& f) {
  if (f.file.rfind("stress/heap", 0) == 0) return false;  // the tracker itself
  if (f.file.empty() && f.function.rfind("ics::", 0) != 0) return false;
  for (std::string_view lib : {"std::", "__gnu_cxx::", "boost::", "operator new", "operator delete"}) {
    if (f.function.rfind(lib, 0) == 0) return false;
  }
  return true;
}

using Chains = std::map<std::uintptr_t, std::vector<Frame>>;  // pc -> frames, innermost first

// addr2line -a -f -i -C: "0x<addr>" then pairs of lines (function, file:line) per inline level.
void parse_addr2line(FILE* in, const std::vector<std::uintptr_t>& pcs, Chains& out) {
  char buf[4096];
  std::size_t k = 0;
  std::vector<Frame>* chain = nullptr;
  std::string function;
  bool want_function = true;
  while (std::fgets(buf, sizeof buf, in) != nullptr) {
    std::string line(buf);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    if (line.rfind("0x", 0) == 0 && k < pcs.size()) {
      chain = &out[pcs[k++]];
      want_function = true;
      continue;
    }
    if (chain == nullptr) continue;
    if (want_function) {
      function = line;
      want_function = false;
      continue;
    }
    want_function = true;
    Frame f;
    f.function = strip_parameters(function);
    const std::size_t colon = line.rfind(':');
    f.file = project_path(colon == std::string::npos ? line : line.substr(0, colon));
    if (colon != std::string::npos) f.line = std::atoi(line.c_str() + colon + 1);
    chain->push_back(std::move(f));
  }
}

void symbolize_module(const Module& m, const std::vector<std::uintptr_t>& pcs, Chains& out) {
  std::ostringstream cmd;
  cmd << "addr2line -a -f -i -C -e '" << m.path << "'";
  for (std::uintptr_t pc : pcs) cmd << " 0x" << std::hex << (pc - 1 - (m.relative ? m.base : 0));
  cmd << " 2>/dev/null";
  FILE* p = popen(cmd.str().c_str(), "r");
  if (p == nullptr) return;
  parse_addr2line(p, pcs, out);
  pclose(p);
}

Chains symbolize(const std::vector<std::uintptr_t>& pcs) {
  std::map<std::string, std::pair<Module, std::vector<std::uintptr_t>>> by_module;
  for (std::uintptr_t pc : pcs) {
    Module m;
    if (!module_of(pc, m)) continue;
    auto& slot = by_module[m.path];
    slot.first = m;
    slot.second.push_back(pc);
  }
  Chains out;
  for (const auto& [path, group] : by_module) symbolize_module(group.first, group.second, out);
  return out;
}

// Value types and codecs allocate on behalf of whoever keeps the result (a property copy, an
// encoded IDSET, a growing byte writer): a site names the first project frames above them, as
// ClusterFuzz ignores frames of utility code in a crash state.
bool is_utility(const Frame& f) {
  for (std::string_view file : {"engine/include/ics/bytes.h", "engine/src/bytes.cpp",
                                "engine/include/ics/globset.h", "engine/src/globset.cpp",
                                "engine/include/ics/idset.h", "engine/src/idset.cpp",
                                "engine/include/ics/props.h", "engine/src/props.cpp",
                                "engine/include/ics/pcl.h", "engine/src/pcl.cpp"}) {
    if (f.file == file) return true;
  }
  for (std::string_view fn : {"ics::Writer::", "ics::Reader::", "ics::encode_", "ics::decode_",
                              "ics::Globset::", "ics::BasicIdSet", "ics::PropValue::",
                              "ics::PropertyBag::", "ics::Pcl::"}) {
    if (f.function.rfind(fn, 0) == 0) return true;
  }
  return false;
}

// The site of a stack: its first three project frames that are not utility code (all
// project frames when every one is).
std::vector<Frame> project_of(const std::vector<std::uintptr_t>& pcs, const Chains& chains) {
  std::vector<Frame> all, site;
  for (std::uintptr_t pc : pcs) {
    auto it = chains.find(pc);
    if (it == chains.end()) continue;
    for (const Frame& f : it->second) {
      if (!is_project(f)) continue;
      if (!all.empty() && all.back().function == f.function && all.back().file == f.file) continue;
      all.push_back(f);
      if (!is_utility(f)) site.push_back(f);
      if (site.size() == kSiteFrames) return site;
    }
  }
  if (!site.empty()) return site;
  if (all.size() > kSiteFrames) all.resize(kSiteFrames);
  return all;
}

std::string key_of(const std::vector<Frame>& frames) {
  std::string k;
  for (const Frame& f : frames) k += f.function + "\n";
  return k;
}

}  // namespace

std::vector<Frame> project_frames(const std::vector<std::uintptr_t>& pcs) {
  return project_of(pcs, symbolize(pcs));
}

std::vector<Site> growth_sites(const Snapshot& before, const Snapshot& after, std::size_t limit) {
  struct Grown {
    std::uint32_t stack;
    std::int64_t bytes;
    std::int64_t count;
  };
  std::vector<Grown> grown;
  for (const auto& [stack, b] : after) {
    if (stack == 0 && stack_every() > 1) continue;  // unsampled allocations: no site
    auto it = before.find(stack);
    const std::int64_t bytes = b.bytes - (it == before.end() ? 0 : it->second.bytes);
    const std::int64_t count = b.count - (it == before.end() ? 0 : it->second.count);
    if (bytes > 0) grown.push_back({stack, bytes, count});
  }
  std::sort(grown.begin(), grown.end(), [](const Grown& a, const Grown& b) { return a.bytes > b.bytes; });
  if (grown.size() > 64) grown.resize(64);
  std::vector<std::vector<std::uintptr_t>> stacks;
  std::vector<std::uintptr_t> all;
  for (const Grown& g : grown) {
    stacks.push_back(stack_frames(g.stack));
    all.insert(all.end(), stacks.back().begin(), stacks.back().end());
  }
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  const Chains chains = symbolize(all);
  const double scale = std::max<std::uint32_t>(1, stack_every());
  std::map<std::string, Site> sites;
  for (std::size_t i = 0; i < grown.size(); ++i) {
    std::vector<Frame> frames = project_of(stacks[i], chains);
    // Stack 0 holds the allocations whose stack was not sampled: counted as they are.
    const double factor = grown[i].stack == 0 ? 1.0 : scale;
    Site& s = sites[key_of(frames)];
    if (s.frames.empty()) s.frames = std::move(frames);
    s.bytes += static_cast<double>(grown[i].bytes) * factor;
    s.allocations += static_cast<std::int64_t>(static_cast<double>(grown[i].count) * factor);
  }
  std::vector<Site> out;
  for (auto& [key, s] : sites) out.push_back(std::move(s));
  std::sort(out.begin(), out.end(), [](const Site& a, const Site& b) { return a.bytes > b.bytes; });
  if (out.size() > limit) out.resize(limit);
  return out;
}

}  // namespace ics::stress::heap
