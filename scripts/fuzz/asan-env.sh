# Source this before running node with the ASan build (scripts/build-asan.sh).
# Node itself is not sanitized, so the ASan runtime must be loaded first
# (LD_PRELOAD). Node and GLib keep memory until exit by design, so leak
# detection is off; any other report aborts the process (a crash the fuzzer sees).
LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1:detect_odr_violation=0:allocator_may_return_null=1:print_summary=1"
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export LD_PRELOAD ASAN_OPTIONS UBSAN_OPTIONS
