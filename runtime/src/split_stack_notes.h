// split_stack_notes.h: marks every object of the runtime for linkers that
// patch split-stack code (ld.lld, gold). Included into every runtime source,
// C++ and assembly, by runtime/CMakeLists.txt (-include).
//
// Such a linker rewrites the prologue of an instrumented function that calls
// a function defined in an object without .note.GNU-split-stack (ld.lld:
// the short check becomes `stc`, so it always calls the runtime; the long
// one asks for 16 KiB more) and sends its __morestack call to
// __morestack_non_split. The runtime's entry points run on the system stack
// and are safe to call on any goroutine stack, so their objects say they are
// split-stack code: calls into the runtime are left alone.
// .note.GNU-no-split-stack says that the objects also hold functions without
// split-stack prologues, which the linker must not try to patch.
// docs/design.md, "The reserve for uninstrumented calls", has the rest.
#ifndef GOROUTINE_SPLIT_STACK_NOTES_H
#define GOROUTINE_SPLIT_STACK_NOTES_H

#ifdef __ASSEMBLER__
        .pushsection .note.GNU-split-stack, "", @progbits
        .popsection
        .pushsection .note.GNU-no-split-stack, "", @progbits
        .popsection
#else
__asm__(".pushsection .note.GNU-split-stack,\"\",@progbits\n\t.popsection\n\t"
        ".pushsection .note.GNU-no-split-stack,\"\",@progbits\n\t.popsection");
#endif

#endif // GOROUTINE_SPLIT_STACK_NOTES_H
