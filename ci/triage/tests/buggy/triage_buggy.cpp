// Deliberately buggy program for the ics-triage tests: each mode runs one bug so that the
// tests triage REAL sanitizer output. A "TRIAGE-MARK: <name>" comment is on the line of each
// bug; the tests look the lines up instead of hard-coding numbers. Build it with
// -fsanitize=address,undefined, no inlining and no sibling calls (see CMakeLists.txt).
//
//   triage_buggy read FILE | read-arg TEXT  heap-buffer-overflow READ 4 (index = the number
//                                           in the input; 8 or more overflows), reached from
//                                           main through two different callers
//   triage_buggy write TEXT                 heap-buffer-overflow WRITE 4
//   triage_buggy uaf                        heap-use-after-free WRITE 8
//   triage_buggy leak                       a direct and an indirect leak
//   triage_buggy overflow N                 signed integer overflow (INT_MAX + N)
//   triage_buggy slow TEXT                  never returns; a SIGALRM handler prints the report
//                                           libFuzzer prints on -timeout=1 (ALARM, ERROR,
//                                           stack, SUMMARY) and exits 70 as libFuzzer does
#include <sanitizer/common_interface_defs.h>
#include <unistd.h>

#include <climits>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>

#define NOINLINE __attribute__((noinline))

namespace fuzzer {
// Named like libFuzzer's own callback, whose frames ics-triage drops from crash states.
void StaticAlarmCallback(int) {
  std::fprintf(stderr,
               "ALARM: working on the last Unit for 1 seconds\n"
               "       and the timeout value is 1 (use -timeout=N to change)\n"
               "==%d== ERROR: libFuzzer: timeout after 1 seconds\n",
               static_cast<int>(getpid()));
  __sanitizer_print_stack_trace();
  std::fprintf(stderr, "\nSUMMARY: libFuzzer: timeout\n");
  _exit(70);
}
}  // namespace fuzzer

namespace {

struct Handle {
  std::uint64_t id;
};

struct Node {
  Node* next;
  long payload[3];
};

Node* volatile g_kept;  // keeps the optimiser from dropping the leaked allocations

NOINLINE int read_field(const int* fields, int index) {
  return fields[index];  // TRIAGE-MARK: heap-read
}

NOINLINE void write_field(int* fields, int index, int value) {
  fields[index] = value;  // TRIAGE-MARK: heap-write
}

NOINLINE int parse_record(const std::string& input) {
  int* fields = new int[8]();
  int value = read_field(fields, std::atoi(input.c_str()));
  delete[] fields;
  return value;
}

NOINLINE int fill_record(const std::string& input) {
  int* fields = new int[8]();
  write_field(fields, std::atoi(input.c_str()), 7);
  int value = fields[0];
  delete[] fields;
  return value;
}

NOINLINE void touch_after_release(Handle* h) {
  h->id = 42;  // TRIAGE-MARK: uaf-write
}

NOINLINE void release_then_touch() {
  Handle* h = new Handle{1};
  delete h;
  touch_after_release(h);
}

NOINLINE Node* make_chain() {
  Node* head = new Node{};  // TRIAGE-MARK: leak-direct
  head->next = new Node{};  // TRIAGE-MARK: leak-indirect
  return head;
}

NOINLINE void lose_chain() {
  g_kept = make_chain();
  g_kept = nullptr;
}

NOINLINE int add_counts(int a, int b) {
  return a + b;  // TRIAGE-MARK: signed-overflow
}

NOINLINE void spin_on_input(const std::string& input) {
  volatile std::size_t sink = 0;
  for (;;) sink = sink + input.size();  // TRIAGE-MARK: spin
}

NOINLINE int dispatch(const std::string& mode, const std::string& input) {
  if (mode == "read") return parse_record(input) + 1;
  if (mode == "write") return fill_record(input) + 1;
  if (mode == "slow") spin_on_input(input);
  return 0;
}

NOINLINE int from_file(const char* path) {
  std::ifstream in(path, std::ios::binary);
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::fprintf(stderr, "Running: %s\n", path);
  return dispatch("read", data) + 1;
}

NOINLINE int from_argument(const std::string& mode, const char* text) {
  return dispatch(mode, text) + 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: triage_buggy read FILE|read-arg T|write T|uaf|leak|overflow N|slow T\n");
    return 2;
  }
  const std::string mode = argv[1];
  const char* arg = argc > 2 ? argv[2] : "9";
  int result = 0;
  if (mode == "read") result = from_file(arg);
  if (mode == "read-arg") result = from_argument("read", arg);
  if (mode == "write") result = from_argument("write", arg);
  if (mode == "uaf") release_then_touch();
  if (mode == "leak") lose_chain();
  if (mode == "overflow") result = add_counts(INT_MAX, std::atoi(arg));
  if (mode == "slow") {
    std::signal(SIGALRM, fuzzer::StaticAlarmCallback);
    alarm(1);
    result = from_argument("slow", arg);
  }
  std::printf("result %d\n", result);
  return 0;
}
