# lit configuration for the plugin's tests: small C and C++ snippets compiled
# with the plugin, checked with FileCheck (IR, assembly, diagnostics) and,
# for some, run (under whatever GOROUTINE_DEBUG ctest sets).
import os

import lit.formats

config.name = "goroutine-plugin"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".c", ".cpp", ".ll"]
config.test_source_root = config.source_root
config.excludes = ["Inputs", "lit.cfg.py", "lit.site.cfg.py.in"]

config.environment["PATH"] = os.pathsep.join(
    [config.llvm_tools_dir, config.environment.get("PATH", os.environ["PATH"])])
for var in ["GOROUTINE_DEBUG", "HOME", "TMPDIR"]:
    if var in os.environ:
        config.environment[var] = os.environ[var]

config.substitutions.append(("%clangxx", config.clangxx))
config.substitutions.append(("%clang", config.clang))
config.substitutions.append(("%plugin", config.plugin))
config.substitutions.append(("%passes", config.passes))
config.substitutions.append(("%goroutine-clang\\+\\+", config.driver_cxx))
config.substitutions.append(("%goroutine-clang", config.driver_c))
config.substitutions.append(("%include", config.include_dir))
