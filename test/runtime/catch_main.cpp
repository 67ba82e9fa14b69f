// Catch2's main. Compiled with the plugin like the tests, so Catch2's own code
// is safe to call from goroutines.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
