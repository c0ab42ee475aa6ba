// The doctest main shared by every test binary, with a listener that fails
// the run when a test case ends with courier allocations still live (cells,
// envelopes, reply slots, frames: the library must free everything at
// runtime teardown). Active when the library counts (-Dobject_counts=true).
#define DOCTEST_CONFIG_IMPLEMENT
#include <courier/detail/allocator.hpp>

#include <cstdio>

#include "tests/support/doctest.hpp"

namespace {

bool leaked = false;

struct live_allocation_listener : doctest::IReporter {
  explicit live_allocation_listener(const doctest::ContextOptions&) {}
  void test_case_end(const doctest::CurrentTestCaseStats&) override {
    auto live = courier::detail::live_allocations();
    if (live > 0 && !reported_) {
      std::fprintf(stderr, "courier: %lld allocation(s) still live after test case '%s'\n",
                   static_cast<long long>(live), name_);
      leaked = reported_ = true;
    }
  }
  void test_case_start(const doctest::TestCaseData& data) override { name_ = data.m_name; }
  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats&) override {}
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_exception(const doctest::TestCaseException&) override {}
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData&) override {}
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}

 private:
  const char* name_ = "";
  bool reported_ = false;
};

}  // namespace

REGISTER_LISTENER("live_allocations", 1, live_allocation_listener);

int main(int argc, char** argv) {
  if (courier::detail::live_allocations() < 0)  // the library does not count: say so, do not pass silently
    std::fprintf(stderr, "courier: leak and allocation checks skipped (library built without -Dobject_counts=true; "
                         "tools/test builds with it)\n");
  doctest::Context context(argc, argv);
  int result = context.run();
  if (context.shouldExit()) return result;
  return result != 0 ? result : (leaked ? 1 : 0);
}
