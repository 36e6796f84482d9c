// The one translation unit of a test binary that holds CAF's test runner (main).
#include <caf/test/unit_test_impl.hpp>
