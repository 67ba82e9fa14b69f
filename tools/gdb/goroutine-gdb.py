# goroutine-gdb.py: goroutines in gdb, for programs linked with libgoroutine
# (Go's runtime-gdb.py, for this runtime).
#
#   (gdb) source <prefix>/share/goroutine/gdb/goroutine-gdb.py
#   (gdb) info goroutines      every goroutine that exists: id, status, wait
#                              reason and the function it is in
#   (gdb) goroutine 7 bt       the backtrace of goroutine 7
#   (gdb) goroutine all bt     the backtrace of every goroutine
#
# It works on a live process and on a core file, and writes nothing into the
# inferior.
#
# Where the goroutines are. The runtime keeps every goroutine record it has
# created in go::runtime::allgs (proc.cpp; dead ones stay there for reuse), a
# std::vector<Goroutine *> & whose vector is on the heap. The runtime's debug
# information (it is built with -g) describes Goroutine (runtime.h): its id,
# status, wait reason and saved stack pointer.
#
# Where a goroutine's frames are. A goroutine that is not running was
# switched out by goroutine_switch (context.S), which saved its context on
# its own stack: at sched_sp, a struct goroutine_switch_frame
# (<goroutine/abi.h>) holding its callee-saved registers and return address;
# after that return, %rsp is just above the frame. The script takes the
# frame's layout from the program's debug information, so it always matches
# the runtime it was built with. gdb unwinds only
# from a thread's registers, so while this script walks a saved context it
# enables a Python unwinder that answers for the innermost frame of the
# selected thread: "its caller's registers are these". gdb's own DWARF
# unwinders then walk the goroutine's frames from there, inlined frames,
# compacted (512-byte) and moved stacks included. The borrowed innermost
# frame is left out of what is printed. A running goroutine's frames are its
# thread's: the script finds the thread (goroutine_thread_state.g, the
# runtime's per-thread block, or the thread whose %rsp is in the goroutine's
# stack) and walks that.
import contextlib
import struct

import gdb
from gdb.unwinder import Unwinder

# Go's names for the wait reasons (proc.cpp, wait_reason_string), by
# enumerator of go::runtime::WaitReason. An enumerator missing here prints
# as its own name.
WAIT_REASONS = {
    "None": "-",
    "ChanReceive": "chan receive",
    "ChanSend": "chan send",
    "ChanReceiveNil": "chan receive (nil chan)",
    "ChanSendNil": "chan send (nil chan)",
    "Select": "select",
    "SelectNoCases": "select (no cases)",
    "MutexLock": "sync.Mutex.Lock",
    "RWMutexLock": "sync.RWMutex.Lock",
    "RWMutexRLock": "sync.RWMutex.RLock",
    "CondWait": "sync.Cond.Wait",
    "WaitGroupWait": "sync.WaitGroup.Wait",
    "Sleep": "sleep",
}

# Functions of the runtime, its headers and the C++ library. `info
# goroutines` shows the first frame outside them: where the goroutine's own
# code waits.
RUNTIME_PREFIXES = ("go::", "goroutine_", "__goroutine", "std::", "__gnu_cxx::")

# Frames walked at most for one backtrace (a corrupt stack ends there), and
# for the "where" column of `info goroutines`.
MAX_FRAMES = 4096
MAX_WHERE_FRAMES = 64

# The registers of a goroutine_switch_frame (<goroutine/abi.h>), by field.
SWITCH_FRAME_TYPE = "goroutine_switch_frame"
SWITCH_FRAME_REGISTERS = {
    "r15": "r15",
    "r14": "r14",
    "r13": "r13",
    "r12": "r12",
    "rbx": "rbx",
    "rbp": "rbp",
    "return_address": "rip",
}


class _FrameId:
    """What gdb identifies a frame by (UnwindInfo needs one)."""

    def __init__(self, sp, pc):
        self.sp = sp
        self.pc = pc


class _SavedContextUnwinder(Unwinder):
    """While `registers` is set: the innermost frame's caller has them.

    Only enabled during a walk (_walk_saved_context); otherwise gdb's
    ordinary unwinders see every frame.
    """

    def __init__(self):
        super().__init__("goroutine saved context")
        self.enabled = False
        self.registers = None  # {register name: int}

    def __call__(self, pending_frame):
        if self.registers is None or pending_frame.level() != 0:
            return None
        this_frame = _FrameId(
            pending_frame.read_register("rsp"), pending_frame.read_register("rip")
        )
        info = pending_frame.create_unwind_info(this_frame)
        for name, word in self.registers.items():
            register_type = pending_frame.read_register(name).type
            info.add_saved_register(
                name, gdb.Value(struct.pack("<Q", word), register_type)
            )
        return info


_unwinder = _SavedContextUnwinder()
gdb.unwinder.register_unwinder(None, _unwinder, replace=True)


@contextlib.contextmanager
def _cxx():
    """Evaluates C++ names whatever the selected frame's language (a core
    file stops in libc, which is C)."""
    language = gdb.parameter("language")
    gdb.execute("set language c++", to_string=True)
    try:
        yield
    finally:
        gdb.execute("set language %s" % language, to_string=True)


def _enumerator_names(enum_type):
    """{value: enumerator name} of a C++ enum type."""
    return {int(f.enumval): f.name.split("::")[-1] for f in enum_type.fields()}


class _RuntimeTypes:
    """The runtime's enums and the switch frame's layout, looked up once per
    command."""

    def __init__(self):
        status = gdb.lookup_type("go::runtime::GoroutineStatus")
        self.status_pointer = status.pointer()
        self.statuses = _enumerator_names(status)
        self.reasons = _enumerator_names(gdb.lookup_type("go::runtime::WaitReason"))
        frame = gdb.lookup_type(SWITCH_FRAME_TYPE)
        # {register: offset in the frame}, and the frame's size.
        self.switch_frame = {
            SWITCH_FRAME_REGISTERS[f.name]: f.bitpos // 8
            for f in frame.fields()
            if f.name in SWITCH_FRAME_REGISTERS
        }
        self.switch_frame_size = frame.sizeof
        if len(self.switch_frame) != len(SWITCH_FRAME_REGISTERS):
            raise gdb.GdbError(
                "%s in the debug information lacks registers" % SWITCH_FRAME_TYPE
            )


class Goroutine:
    """A snapshot of one go::runtime::Goroutine record."""

    def __init__(self, pointer, types):
        g = pointer.dereference()
        self.address = int(pointer)
        self.id = int(g["id"])
        # std::atomic<GoroutineStatus> holds the enum at offset 0.
        status = int(g["status"].address.cast(types.status_pointer).dereference())
        self.status = types.statuses.get(status, str(status)).lower()
        reason = int(g["wait_reason"])
        reason = types.reasons.get(reason, str(reason))
        self.wait_reason = WAIT_REASONS.get(reason, reason)
        self.sched_sp = int(g["sched_sp"])
        self.stack_lo = int(g["stack"]["lo"])
        self.stack_hi = int(g["stack"]["hi"])
        self.home_size = int(g["home"]["hi"]) - int(g["home"]["lo"])
        self.entry = int(g["entry"])
        self.switch_frame = types.switch_frame
        self.switch_frame_size = types.switch_frame_size

    def started(self):
        """Whether it has a stack and a saved context (it has ever run)."""
        return self.stack_lo != 0 and self.sched_sp != 0

    def stack_text(self):
        """Its stack's size, and its own stack's while it waits compacted."""
        if self.stack_lo == 0:
            return "-"
        text = str(self.stack_hi - self.stack_lo)
        if self.home_size != 0:
            text += " (own %d)" % self.home_size
        return text

    def context_valid(self):
        """Whether its saved context lies within its stack."""
        return self.stack_lo <= self.sched_sp <= self.stack_hi - self.switch_frame_size


def goroutines():
    """Every goroutine that exists (all but the dead), in creation order."""
    try:
        allgs = gdb.parse_and_eval("go::runtime::allgs")
    except gdb.error:
        raise gdb.GdbError(
            "no go::runtime::allgs: is this program linked with libgoroutine "
            "(with its debug information)?"
        )
    types = _RuntimeTypes()
    result = []
    try:
        # libstdc++'s vector: [_M_start, _M_finish).
        impl = allgs.referenced_value()["_M_impl"]
        first, last = impl["_M_start"], impl["_M_finish"]
        count = int(last - first) if int(first) != 0 else 0
        for i in range(count):
            pointer = (first + i).dereference()
            if int(pointer) == 0:
                continue
            g = Goroutine(pointer, types)
            if g.status != "dead":
                result.append(g)
    except gdb.MemoryError:
        return []  # before the runtime's static initialization
    return result


def _thread_goroutines(gs):
    """{Goroutine address: thread} for those of goroutines `gs` that run on a
    thread."""
    result = {}
    inferior = gdb.selected_inferior()
    selected = gdb.selected_thread()
    if selected is None:
        return result
    level = _selected_level()
    stack_pointers = {}
    try:
        for thread in inferior.threads():
            thread.switch()
            try:
                # The runtime's per-thread block (initial-exec TLS).
                g = int(gdb.parse_and_eval("goroutine_thread_state.g"))
                if g != 0:
                    result[g] = thread
                    continue
            except gdb.error:
                pass  # no thread-local access (libthread_db)
            try:
                stack_pointers[thread] = int(gdb.newest_frame().read_register("rsp"))
            except gdb.error:
                pass
    finally:
        selected.switch()
        _select_level(level)
    if stack_pointers:
        # Without thread-local access: the thread whose %rsp is in a running
        # goroutine's stack runs it.
        for g in gs:
            if g.status != "running" or g.address in result:
                continue
            for thread, sp in stack_pointers.items():
                if g.stack_lo <= sp < g.stack_hi:
                    result[g.address] = thread
    return result


def _selected_level():
    try:
        return gdb.selected_frame().level()
    except gdb.error:
        return None


def _select_level(level):
    """Selects the frame at `level` of the selected thread again."""
    if level is None:
        return
    try:
        frame = gdb.newest_frame()
        for _ in range(level):
            older = frame.older()
            if older is None:
                break
            frame = older
        frame.select()
    except gdb.error:
        pass


class FrameInfo:
    """What is printed of one frame (gdb.Frame objects do not outlive a walk)."""

    def __init__(self, frame, inner):
        self.pc = frame.pc()
        self.name = frame.name()
        self.filename = None
        self.line = 0
        self.objfile = None
        sal = frame.find_sal()
        # As gdb's backtrace: no address for the innermost frame stopped at
        # the start of a line, nor for the frame an inlined call is in (its
        # address is the inlined frame's).
        if inner is None:
            self.show_pc = sal.symtab is None or sal.pc != self.pc
        else:
            self.show_pc = inner.type() != gdb.INLINE_FRAME
        if sal.symtab is not None:
            self.filename = sal.symtab.filename
            self.line = sal.line
        else:
            self.objfile = gdb.solib_name(self.pc)
        self.arguments = _arguments(frame)

    def runtime(self):
        return self.name is None or self.name.startswith(RUNTIME_PREFIXES)

    def where(self):
        """function (file:line), for `info goroutines`."""
        text = self.name or "0x%x" % self.pc
        if self.filename is not None:
            text += " at %s:%d" % (self.filename.rsplit("/", 1)[-1], self.line)
        return text

    def format(self, number):
        """As gdb's backtrace prints a frame."""
        text = "#%-3d" % number
        if self.show_pc:
            text += "0x%016x in " % self.pc
        text += "%s (%s)" % (self.name or "??", self.arguments)
        if self.filename is not None:
            text += " at %s:%d" % (self.filename, self.line)
        elif self.objfile is not None:
            text += " from %s" % self.objfile
        return text


def _arguments(frame):
    """The arguments of a frame, scalars by value (gdb's default)."""
    try:
        block = frame.block()
    except RuntimeError:
        return ""
    while block is not None and block.function is None:
        block = block.superblock
    if block is None:
        return ""
    scalars = (
        gdb.TYPE_CODE_INT,
        gdb.TYPE_CODE_FLT,
        gdb.TYPE_CODE_PTR,
        gdb.TYPE_CODE_ENUM,
        gdb.TYPE_CODE_BOOL,
        gdb.TYPE_CODE_CHAR,
    )
    arguments = []
    for symbol in block:
        if not symbol.is_argument:
            continue
        try:
            value = frame.read_var(symbol)
            if value.is_optimized_out:
                text = "<optimized out>"
            elif value.type.strip_typedefs().code in scalars:
                text = str(value)
            else:
                text = "..."
        except (gdb.error, RuntimeError):
            text = "<unavailable>"
        arguments.append("%s=%s" % (symbol.name, text))
    return ", ".join(arguments)


def _walk_saved_context(g, limit):
    """The frames of switched-out goroutine g, innermost first, and why the
    walk stopped early (None if it did not)."""
    frame = bytes(
        gdb.selected_inferior().read_memory(g.sched_sp, g.switch_frame_size)
    )
    registers = {
        name: struct.unpack_from("<Q", frame, offset)[0]
        for name, offset in g.switch_frame.items()
    }
    registers["rsp"] = g.sched_sp + g.switch_frame_size
    level = _selected_level()
    _unwinder.registers = registers
    _unwinder.enabled = True
    gdb.invalidate_cached_frames()
    try:
        newest = gdb.newest_frame()  # the thread's own, left out
        return _collect(newest.older(), limit, newest)
    finally:
        _unwinder.registers = None
        _unwinder.enabled = False
        gdb.invalidate_cached_frames()
        _select_level(level)


def _walk_thread(thread, limit):
    """The frames of a thread, as _walk_saved_context."""
    selected = gdb.selected_thread()
    level = _selected_level()
    thread.switch()
    try:
        return _collect(gdb.newest_frame(), limit)
    finally:
        selected.switch()
        _select_level(level)


def _collect(frame, limit, inner=None):
    frames = []
    try:
        while frame is not None and len(frames) < limit:
            frames.append(FrameInfo(frame, inner))
            inner, frame = frame, frame.older()
    except gdb.error as e:
        return frames, str(e)
    if frame is not None:
        return frames, "more than %d frames" % limit
    return frames, None


class _Walk:
    """How to reach a goroutine's frames, or why they cannot be reached."""

    def __init__(self, g, threads):
        self.g = g
        self.thread = threads.get(g.address)
        self.problem = None
        if g.status == "running":
            if self.thread is None:
                self.problem = "running on a thread this debugger cannot tell"
        elif not g.started():
            self.problem = "not started yet (entry %s)" % _symbol(g.entry)
        elif not g.context_valid():
            self.problem = "switching: its context is not saved yet"

    def frames(self, limit):
        if self.thread is not None:
            return _walk_thread(self.thread, limit)
        return _walk_saved_context(self.g, limit)


def _symbol(address):
    block = gdb.block_for_pc(address) if address else None
    if block is not None and block.function is not None:
        return block.function.print_name
    return "0x%x" % address


class InfoGoroutines(gdb.Command):
    """List the goroutines: id, status, wait reason, stack and where each is.

Stack: its stack's size in bytes; "(own N)" while it waits on a compacted
512-byte stack. Where: the innermost frame that is not in the runtime or
the C++ library. "*" marks the goroutine the selected thread runs."""

    def __init__(self):
        super().__init__("info goroutines", gdb.COMMAND_STACK)

    def invoke(self, argument, from_tty):
        with _cxx():
            self.list_goroutines()

    @staticmethod
    def list_goroutines():
        gs = goroutines()
        threads = _thread_goroutines(gs)
        selected = gdb.selected_thread()
        rows = []
        for g in gs:
            walk = _Walk(g, threads)
            if walk.problem is not None:
                where = walk.problem
            else:
                frames, _ = walk.frames(MAX_WHERE_FRAMES)
                own = [f for f in frames if not f.runtime()]
                where = (own or frames)[0].where() if frames else "?"
            if walk.thread is not None:
                where += " [thread %d]" % walk.thread.num
            mark = "*" if walk.thread is not None and walk.thread == selected else " "
            reason = g.wait_reason if g.status == "waiting" else "-"
            rows.append((str(g.id), g.status, reason, g.stack_text(), where, mark))
        if not rows:
            gdb.write("No goroutines.\n")
            return
        header = ("Id", "Status", "Wait reason", "Stack", "Where", " ")
        widths = [max(len(row[i]) for row in rows + [header]) for i in range(4)]
        for row in [header] + rows:
            columns = ["%-*s" % (width, text) for width, text in zip(widths, row)]
            gdb.write("%s %s  %s\n" % (row[5], "  ".join(columns), row[4]))


class GoroutineCommand(gdb.Command):
    """Run a command on a goroutine: goroutine <id>|all bt

"goroutine 7 bt" prints goroutine 7's backtrace, walked from the context it
saved when it switched out (a running goroutine's is its thread's).
"goroutine all bt" prints every goroutine's."""

    def __init__(self):
        super().__init__("goroutine", gdb.COMMAND_STACK)

    def invoke(self, argument, from_tty):
        words = gdb.string_to_argv(argument)
        if len(words) != 2 or words[1] not in ("bt", "backtrace"):
            raise gdb.GdbError("usage: goroutine <id>|all bt")
        wanted = None  # all
        if words[0] != "all":
            try:
                wanted = int(words[0], 0)
            except ValueError:
                raise gdb.GdbError("not a goroutine id: %s" % words[0])
        with _cxx():
            gs = goroutines()
            selected = [g for g in gs if wanted is None or g.id == wanted]
            if wanted is not None and not selected:
                raise gdb.GdbError("no goroutine %d" % wanted)
            threads = _thread_goroutines(gs)
            for i, g in enumerate(selected):
                if i > 0:
                    gdb.write("\n")
                self.backtrace(_Walk(g, threads))

    @staticmethod
    def backtrace(walk):
        g = walk.g
        state = g.wait_reason if g.status == "waiting" else g.status
        where = " on thread %d" % walk.thread.num if walk.thread is not None else ""
        gdb.write("goroutine %d [%s]%s:\n" % (g.id, state, where))
        if walk.problem is not None:
            gdb.write("(%s)\n" % walk.problem)
            return
        frames, stopped = walk.frames(MAX_FRAMES)
        for number, frame in enumerate(frames):
            gdb.write(frame.format(number) + "\n")
        if stopped is not None:
            gdb.write("(%s)\n" % stopped)


InfoGoroutines()
GoroutineCommand()
