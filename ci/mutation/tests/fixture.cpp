// A fixture for the mutator's tests: each operator has one place to act on. Nothing
// in comments (a < b && c == d), strings or seeded-bug blocks may be mutated.
#include <vector>
#define LIMIT(a) ((a) < 4)

struct Box {
  std::vector<int> items_;
  int count_ = 0;
};

Status keep(Box& b, int x) {
  if (x < 4 && x != 2) b.items_.push_back(x);
  b.count_ = x - 1;
  const char* text = "x < 4 && x == 2";
  for (int i = 0; i < x; ++i) {
    if (i == 3) break;
  }
  return ok_status();
}

int pick(bool flag) {
#if defined(ICS_SEEDED_BUG_FIXTURE)
  if (flag == true) return 2;
#else
  if (flag) return 1;
#endif
  return 0;
}
