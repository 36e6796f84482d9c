// The one translation unit of the integration-test binary that holds CAF's test runner (main).
#include <caf/test/unit_test_impl.hpp>
