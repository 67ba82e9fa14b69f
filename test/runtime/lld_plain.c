/* Compiled without the plugin (see CMakeLists.txt): an object without
 * split-stack notes, so ld.lld patches the instrumented functions that call
 * it (lld_link.cpp). */
int lld_plain_add(int a, int b) { return a + b; }
