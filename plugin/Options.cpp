//===- Options.cpp - Settings of the goroutine plugin ---------------------===//
//
// The one parser of the plugin's arguments, shared by the clang plugin
// (-fplugin-arg-goroutine-<arg>, GoroutinePlugin.cpp) and the opt plugin
// (goroutine-stack-checks<arg;...>, PassPlugin.cpp), so both accept the same
// arguments with the same validation.
//
//===----------------------------------------------------------------------===//

#include "Options.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Errc.h"

using namespace llvm;

namespace goroutine {
namespace {

constexpr const char *KnownArguments =
    "reserve=N, libm-reserve=N, no-reserve, no-side-stack, no-heap-to-stack, "
    "escape-verbose";

Error invalid(const Twine &Message) {
  return createStringError(errc::invalid_argument, Message);
}

// A byte count: decimal digits only (no sign, space, radix prefix or
// suffix), without overflow, in range.
Error parseByteCount(StringRef Arg, StringRef Value, uint64_t &Bytes) {
  uint64_t N = 0;
  if (Value.empty() || !all_of(Value, isDigit) || Value.getAsInteger(10, N) ||
      N < MinReserveBytes || N > MaxReserveBytes)
    return invalid("'" + Arg + "' needs a decimal byte count between " +
                   Twine(MinReserveBytes) + " and " + Twine(MaxReserveBytes));
  Bytes = N;
  return Error::success();
}

} // namespace

Error parsePluginArgument(StringRef Arg, PluginOptions &Options) {
  auto [Key, Value] = Arg.split('=');
  const bool HasValue = Key.size() != Arg.size();
  if (Key == "reserve")
    return parseByteCount(Arg, Value, Options.Reserve);
  if (Key == "libm-reserve")
    return parseByteCount(Arg, Value, Options.LibmReserve);

  // Flags: the argument sets a setting to a fixed value.
  const struct {
    StringRef Name;
    bool *Setting;
    bool Value;
  } Flags[] = {
      {"no-reserve", &Options.InsertReserveChecks, false},
      {"no-side-stack", &Options.MoveEscapingLocals, false},
      {"no-heap-to-stack", &Options.HeapToStack, false},
      {"escape-verbose", &Options.EscapeVerbose, true},
  };
  for (const auto &Flag : Flags) {
    if (Key != Flag.Name)
      continue;
    if (HasValue)
      return invalid("'" + Arg + "' takes no value (write '" + Key + "')");
    *Flag.Setting = Flag.Value;
    return Error::success();
  }
  return invalid("unknown argument '" + Arg + "' (known: " + KnownArguments +
                 ")");
}

Error parsePluginArguments(StringRef Args, char Separator,
                           PluginOptions &Options) {
  SmallVector<StringRef, 4> Parts;
  Args.split(Parts, Separator, /*MaxSplit=*/-1, /*KeepEmpty=*/false);
  for (StringRef Arg : Parts)
    if (Error E = parsePluginArgument(Arg, Options))
      return E;
  return Error::success();
}

} // namespace goroutine
